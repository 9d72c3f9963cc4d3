// The static table (RFC 7541 Appendix A): 61 fixed entries, stored once as raw octets in
// linear memory, with a hash index of the 52 distinct names so the encoder finds a name
// (and then the one to seven entries sharing it) without scanning the table.
import { hashBytes, bytesEqual } from './hash';
import { ENTRIES, ENTRIES_LENGTH } from './static-table.gen';

export const STATIC_TABLE_LENGTH: u32 = 61;

// The entries are static-table.txt, one a line, which scripts/gen-texts.mjs puts in linear
// memory as octets (static-table.gen.ts): one block rather than 122 string literals, each
// UTF-16 in its own data segments. The records point into it.

// Indices of a few names the encoder's policy looks at.
export const S_AUTHORITY: u32 = 1;
export const S_PATH: u32 = 4;
export const S_AGE: u32 = 21;
export const S_AUTHORIZATION: u32 = 23;
export const S_CONTENT_LENGTH: u32 = 28;
export const S_COOKIE: u32 = 32;
export const S_DATE: u32 = 33;
export const S_ETAG: u32 = 34;
export const S_IF_MODIFIED_SINCE: u32 = 40;
export const S_IF_NONE_MATCH: u32 = 41;
export const S_LAST_MODIFIED: u32 = 44;
export const S_LOCATION: u32 = 46;
export const S_PROXY_AUTHORIZATION: u32 = 49;
export const S_SET_COOKIE: u32 = 55;

// Per entry (1-based, slot 0 unused): name ptr, name len, value ptr, value len.
const RECORD: usize = 16;
const records: usize = buildRecords();

// Per entry, the field as it appears in a flat field list (header, name, value), so the
// decoder emits an indexed static field with one copy: offsets into `flat`, 1-based.
const flatOffsets = new StaticArray<u32>(<i32>STATIC_TABLE_LENGTH + 2);
const flat: usize = buildFlat();

function buildFlat(): usize {
  let total: u32 = 0;
  for (let i: u32 = 1; i <= STATIC_TABLE_LENGTH; i++) {
    unchecked((flatOffsets[i] = total));
    total += 12 + staticNameLen(i) + staticValueLen(i);
  }
  unchecked((flatOffsets[STATIC_TABLE_LENGTH + 1] = total));
  const f = heap.alloc(<usize>total);
  for (let i: u32 = 1; i <= STATIC_TABLE_LENGTH; i++) {
    const at = f + <usize>unchecked(flatOffsets[i]);
    const nl = staticNameLen(i);
    store<u32>(at, nl);
    store<u32>(at, staticValueLen(i), 4);
    store<u32>(at, 0, 8);
    memory.copy(at + 12, staticNamePtr(i), nl);
    memory.copy(at + 12 + <usize>nl, staticValuePtr(i), staticValueLen(i));
  }
  return f;
}

/** Entry i (1..61) as a flat-list field: its address… */
@inline export function staticFlatPtr(i: u32): usize {
  return flat + <usize>unchecked(flatOffsets[i]);
}
/** …and its length (12 + name + value). */
@inline export function staticFlatLen(i: u32): u32 {
  return unchecked(flatOffsets[i + 1]) - unchecked(flatOffsets[i]);
}

const NAME_BUCKETS: u32 = 128; // power of two, > 2 × 52 names
const nameIndex = new StaticArray<u8>(<i32>NAME_BUCKETS);
buildNameIndex();

function buildRecords(): usize {
  const r = heap.alloc(RECORD * <usize>(STATIC_TABLE_LENGTH + 1));
  const text = ENTRIES;
  const n = ENTRIES_LENGTH;
  let p: u32 = 0;
  for (let i: u32 = 1; i <= STATIC_TABLE_LENGTH; i++) {
    let end = p;
    while (end < n && load<u8>(text + <usize>end) != 0x0a) end++;
    let space = p;
    while (space < end && load<u8>(text + <usize>space) != 0x20) space++;
    const at = r + RECORD * <usize>i;
    store<u32>(at, <u32>text + p);
    store<u32>(at, space - p, 4);
    store<u32>(at, <u32>text + min(space + 1, end), 8);
    store<u32>(at, end - min(space + 1, end), 12);
    p = end + 1;
  }
  return r;
}

function buildNameIndex(): void {
  for (let i: u32 = 1; i <= STATIC_TABLE_LENGTH; i++) {
    if (
      i > 1 &&
      bytesEqual(staticNamePtr(i), staticNamePtr(i - 1), staticNameLen(i)) &&
      staticNameLen(i) == staticNameLen(i - 1)
    )
      continue;
    let b = hashBytes(staticNamePtr(i), staticNameLen(i), 0) & (NAME_BUCKETS - 1);
    while (unchecked(nameIndex[b]) != 0) b = (b + 1) & (NAME_BUCKETS - 1);
    unchecked((nameIndex[b] = <u8>i));
  }
}

@inline export function staticNamePtr(i: u32): usize {
  return <usize>load<u32>(records + RECORD * <usize>i);
}
@inline export function staticNameLen(i: u32): u32 {
  return load<u32>(records + RECORD * <usize>i, 4);
}
@inline export function staticValuePtr(i: u32): usize {
  return <usize>load<u32>(records + RECORD * <usize>i, 8);
}
@inline export function staticValueLen(i: u32): u32 {
  return load<u32>(records + RECORD * <usize>i, 12);
}

/** First static index whose name is [name, name+len) (hashed with seed 0 as `nameHash`), or 0. */
export function staticFindName(name: usize, len: u32, nameHash: u32): u32 {
  let b = nameHash & (NAME_BUCKETS - 1);
  while (true) {
    const i = <u32>unchecked(nameIndex[b]);
    if (i == 0) return 0;
    if (staticNameLen(i) == len && bytesEqual(staticNamePtr(i), name, len)) return i;
    b = (b + 1) & (NAME_BUCKETS - 1);
  }
  return 0;
}

/** Static index of the entry (name at index `first`, value), or 0. */
export function staticFindValue(first: u32, value: usize, len: u32): u32 {
  const nameLen = staticNameLen(first);
  const namePtr = staticNamePtr(first);
  for (let i = first; i <= STATIC_TABLE_LENGTH; i++) {
    if (i != first && (staticNameLen(i) != nameLen || !bytesEqual(staticNamePtr(i), namePtr, nameLen))) break;
    if (staticValueLen(i) == len && bytesEqual(staticValuePtr(i), value, len)) return i;
  }
  return 0;
}
