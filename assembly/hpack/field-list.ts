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
  const end = <u64>p + <u64>len;
  let at = <u64>p;
  let n: i64 = 0;
  while (at < end) {
    if (at + <u64>FIELD_HEADER > end) return -1;
    const nl = <u64>load<u32>(<usize>at);
    const vl = <u64>load<u32>(<usize>at, 4);
    at += <u64>FIELD_HEADER + nl + vl;
    if (at > end) return -1;
    n++;
  }
  return n;
}
