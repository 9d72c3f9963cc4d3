// The flat field-list format shared by the decoder's output, the encoder's input and the
// ABI: a sequence of fields, each
//   u32 name_len, u32 value_len, u32 flags   (little-endian)
// followed by the name octets then the value octets, without padding. Octets are raw
// (names and values need not be UTF-8).

export const FIELD_HEADER: u32 = 12;

/** Encode: never index (sensitive). Decode: the field arrived as never-indexed. */
export const FLAG_NEVER_INDEX: u32 = 1;
/** Encode: literal without indexing. */
export const FLAG_NO_INDEX: u32 = 2;

// Reading a list: `p` points at a field; these give its parts and where the next one
// starts. Every walker of a field list goes through them: nothing else knows the layout.
/** The name's length of the field at `p`. */
@inline export function fieldNameLen(p: usize): u32 {
  return load<u32>(p);
}
/** The value's length of the field at `p`. */
@inline export function fieldValueLen(p: usize): u32 {
  return load<u32>(p, 4);
}
/** The flags (FLAG_*) of the field at `p`. */
@inline export function fieldFlags(p: usize): u32 {
  return load<u32>(p, 8);
}
/** Where the name of the field at `p` starts. */
@inline export function fieldName(p: usize): usize {
  return p + FIELD_HEADER;
}
/** Where the value of the field at `p` starts. */
@inline export function fieldValue(p: usize): usize {
  return p + FIELD_HEADER + load<u32>(p);
}
/** The bytes the field at `p` takes, header included. */
@inline export function fieldSize(p: usize): u32 {
  return FIELD_HEADER + load<u32>(p) + load<u32>(p, 4);
}
/** Where the field after the one at `p` starts. */
@inline export function nextField(p: usize): usize {
  return p + <usize>fieldSize(p);
}
/** Whether the field at `p` lies whole before `end` (a list not known to be well-formed). */
@inline export function fieldFits(p: usize, end: usize): bool {
  return (
    <u64>end - <u64>p >= <u64>FIELD_HEADER &&
    <u64>load<u32>(p) + <u64>load<u32>(p, 4) <= <u64>end - <u64>p - <u64>FIELD_HEADER
  );
}

/** Writes a field header at `p`. */
@inline
export function writeFieldHeader(p: usize, nameLen: u32, valueLen: u32, flags: u32): void {
  store<u32>(p, nameLen);
  store<u32>(p, valueLen, 4);
  store<u32>(p, flags, 8);
}

/**
 * Checks that [p, p+len) is a whole number of well-formed fields. Answers the number of
 * fields, or -1 when the list is truncated (a header or its octets run past the end).
 */
export function validateFieldList(p: usize, len: u32): i64 {
  const end = p + <usize>len;
  let n: i64 = 0;
  for (let at = p; at < end; at = nextField(at)) {
    if (!fieldFits(at, end)) return -1;
    n++;
  }
  return n;
}
