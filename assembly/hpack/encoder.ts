// The HPACK encoder (RFC 7541 §2.4, §6): a field list in, a header block out, appended to
// a caller's ByteBuffer.
//
// Per field it picks, in this order:
// 1. never indexed (§6.2.3) for sensitive fields: FLAG_NEVER_INDEX, `authorization`,
//    `proxy-authorization`, and `cookie` values shorter than 20 octets (short cookies are
//    the guessable ones; the rule of nghttp2 and the h2 crate). A sensitive field is never
//    looked up as a whole in the tables, only its name;
// 2. indexed (§6.1) when name and value match a static entry, else a dynamic entry;
// 3. literal with incremental indexing (§6.2.1), referencing the name when a table has it,
//    unless the field is FLAG_NO_INDEX, its entry would take more than 3/4 of the table
//    (it would evict most of it for one use), or its name is volatile (values that rarely
//    repeat, so an entry would only push useful ones out): `:path`, `age`,
//    `content-length`, `etag`, `if-modified-since`, `if-none-match`, `set-cookie` (also
//    per-client secrets) — then literal without indexing (§6.2.2). This is nghttp2's list
//    without `location`; measured on hpack-test-case/raw-data (one encoder per story, table
//    4096): 357,585 octets in all, against 358,782 with `location` volatile, 359,574 when
//    `:path` values without a query are indexed, 411,248 with `date` volatile, and 360,319
//    for nghttp2's own encodings of the same stories (test/hpack/stories.test.ts).
// Strings are Huffman-coded only when that is strictly shorter. Names are taken as given
// (HTTP/2 requires lowercase; the connection layer validates, the encoder does not fold).
import { ByteBuffer } from '../util/bytes';
import { writeInteger } from './integer';
import { encodeString } from './string';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table';
import { hashBytes, fieldHash } from './hash';
import {
  STATIC_TABLE_LENGTH,
  staticFindName,
  staticFindValue,
  S_PATH,
  S_AGE,
  S_AUTHORIZATION,
  S_CONTENT_LENGTH,
  S_COOKIE,
  S_ETAG,
  S_IF_MODIFIED_SINCE,
  S_IF_NONE_MATCH,
  S_PROXY_AUTHORIZATION,
  S_SET_COOKIE,
} from './static-table';
import {
  FLAG_NEVER_INDEX,
  FLAG_NO_INDEX,
  fieldName,
  fieldNameLen,
  fieldValue,
  fieldValueLen,
  fieldFlags,
  nextField,
} from './field-list';

/** The peer's table size before any SETTINGS (RFC 9113 §6.5.2). */
export const DEFAULT_PEER_TABLE_SIZE: u32 = 4096;
/** Our default cap on the table we keep, whatever size the peer allows. */
export const DEFAULT_ENCODER_TABLE_CAP: u32 = 4096;
/** Cookies at least this long are indexed normally (long values are not guessable). */
const SENSITIVE_COOKIE_BELOW: u32 = 20;
const VALUE_SEED: u32 = 0x9747b28c;

// Volatile names by static index: bit i of the mask for index i (all < 64).
const VOLATILE: u64 =
  (1 << (<u64>S_PATH)) |
  (1 << (<u64>S_AGE)) |
  (1 << (<u64>S_CONTENT_LENGTH)) |
  (1 << (<u64>S_ETAG)) |
  (1 << (<u64>S_IF_MODIFIED_SINCE)) |
  (1 << (<u64>S_IF_NONE_MATCH)) |
  (1 << (<u64>S_SET_COOKIE));

export class Encoder {
  /** The dynamic table as the peer's decoder will see it. */
  readonly table: DynamicTable;
  /** The largest table we keep whatever the peer's SETTINGS_HEADER_TABLE_SIZE. */
  readonly cap: u32;
  /** Volatile-name mask (tunable for experiments; see VOLATILE). */
  volatileNames: u64 = VOLATILE;

  private updatePending: bool = false;
  private updateMin: u32 = 0;
  private updateFinal: u32 = 0;

  constructor(cap: u32 = DEFAULT_ENCODER_TABLE_CAP) {
    this.cap = cap;
    const size = min(cap, DEFAULT_PEER_TABLE_SIZE);
    this.table = new DynamicTable(size, true);
    if (size != DEFAULT_PEER_TABLE_SIZE) {
      // We use less than the peer expects: say so in the first block.
      this.updatePending = true;
      this.updateMin = size;
      this.updateFinal = size;
    }
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE. The table becomes min(n, cap) and the
   * next block starts with the update(s) RFC 7541 §4.2 requires: the smallest size since
   * the last block, then the final one when it differs.
   */
  setMaxTableSize(n: u32): void {
    const size = min(n, this.cap);
    if (!this.updatePending) {
      if (size == this.table.maxSize) return;
      this.updatePending = true;
      this.updateMin = size;
    } else {
      this.updateMin = min(this.updateMin, size);
    }
    this.updateFinal = size;
  }

  /** Frees the table's memory; the encoder must not be used afterwards. */
  dispose(): void {
    this.table.dispose();
  }

  /**
   * Encodes a well-formed flat field list [list, list+len) (see validateFieldList) as one
   * header block appended to `out`. False when `out` cannot grow (the encoder's table may
   * then be ahead of what was sent: the encoder is unusable).
   */
  encode(list: usize, len: u32, out: ByteBuffer): bool {
    if (!this.beginBlock(out)) return false;
    const end = list + <usize>len;
    for (let p = list; p < end; p = nextField(p)) {
      if (!this.encodeField(fieldName(p), fieldNameLen(p), fieldValue(p), fieldValueLen(p), fieldFlags(p), out))
        return false;
    }
    return true;
  }

  /** Starts a header block: writes the pending size updates. Call once per block, first. */
  beginBlock(out: ByteBuffer): bool {
    if (!this.updatePending) return true;
    if (!out.reserve(12)) return false;
    if (this.updateMin < this.updateFinal) {
      writeInteger(out, 0x20, 5, this.updateMin);
      this.table.setMaxSize(this.updateMin);
    }
    writeInteger(out, 0x20, 5, this.updateFinal);
    this.table.setMaxSize(this.updateFinal);
    this.updatePending = false;
    return true;
  }

  /** Appends one field's representation (after beginBlock). `flags` as in field-list.ts. */
  encodeField(name: usize, nameLen: u32, value: usize, valueLen: u32, flags: u32, out: ByteBuffer): bool {
    const table = this.table;
    if (!out.reserve(6)) return false;
    const nameHash = hashBytes(name, nameLen, 0);
    const sName = staticFindName(name, nameLen, nameHash);
    const sensitive =
      (flags & FLAG_NEVER_INDEX) != 0 ||
      sName == S_AUTHORIZATION ||
      sName == S_PROXY_AUTHORIZATION ||
      (sName == S_COOKIE && valueLen < SENSITIVE_COOKIE_BELOW);
    let fHash: u32 = 0;
    if (!sensitive) {
      if (sName != 0) {
        const s = staticFindValue(sName, value, valueLen);
        if (s != 0) {
          writeInteger(out, 0x80, 7, s);
          return true;
        }
      }
      fHash = fieldHash(nameHash, hashBytes(value, valueLen, VALUE_SEED));
      const d = table.findField(name, nameLen, value, valueLen, fHash);
      if (d != 0) {
        writeInteger(out, 0x80, 7, STATIC_TABLE_LENGTH + d);
        return true;
      }
    }
    let nameIndex = sName;
    if (nameIndex == 0) {
      const d = table.findName(name, nameLen, nameHash);
      if (d != 0) nameIndex = STATIC_TABLE_LENGTH + d;
    }
    const entrySize = <u64>nameLen + <u64>valueLen + <u64>ENTRY_OVERHEAD;
    const indexing =
      !sensitive &&
      (flags & FLAG_NO_INDEX) == 0 &&
      (sName >= 64 || ((this.volatileNames >> (<u64>sName)) & 1) == 0) &&
      entrySize * 4 <= <u64>table.maxSize * 3;
    if (indexing) writeInteger(out, 0x40, 6, nameIndex);
    else writeInteger(out, sensitive ? 0x10 : 0x00, 4, nameIndex);
    if (nameIndex == 0 && !encodeString(out, name, nameLen)) return false;
    if (!encodeString(out, value, valueLen)) return false;
    if (indexing) table.add(name, nameLen, value, valueLen, nameHash, fHash);
    return true;
  }
}
