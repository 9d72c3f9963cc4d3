// Prefix-coded integers (RFC 7541 §5.1). Values are limited to 2^32-1: anything larger,
// or a representation with more continuation bytes than such a value needs, is refused
// so that a peer cannot make the decoder loop or overflow.
import { ByteBuffer } from '../util/bytes';

/** Most continuation bytes after the prefix: 5 × 7 bits cover 2^32-1 for any prefix. */
export const MAX_CONTINUATION_BYTES: u32 = 5;

/** decodeInteger's answers below 0. */
export const INT_TRUNCATED: i64 = -1;
export const INT_OVERFLOW: i64 = -2;

/** Position after the last integer decodeInteger read (valid when it answered ≥ 0). */
export let intEnd: usize = 0;

/**
 * Decodes the integer whose first octet is at `p` (< end) with an N-bit prefix
 * (1 ≤ N ≤ 8). Answers the value (≥ 0) and sets `intEnd`, or INT_TRUNCATED /
 * INT_OVERFLOW.
 */
export function decodeInteger(p: usize, end: usize, prefixBits: u32): i64 {
  const mask: u32 = (1 << prefixBits) - 1;
  let v: u64 = <u64>((<u32>load<u8>(p)) & mask);
  p++;
  if (v < <u64>mask) {
    intEnd = p;
    return <i64>v;
  }
  let shift: u64 = 0;
  for (let n: u32 = 0; n < MAX_CONTINUATION_BYTES; n++) {
    if (p >= end) return INT_TRUNCATED;
    const b = <u64>load<u8>(p);
    p++;
    v += (b & 0x7f) << shift;
    if (v > 0xffffffff) return INT_OVERFLOW;
    if ((b & 0x80) == 0) {
      intEnd = p;
      return <i64>v;
    }
    shift += 7;
  }
  return INT_OVERFLOW;
}

/** Octets encodeInteger writes for `value` with an N-bit prefix. */
export function integerLength(value: u32, prefixBits: u32): u32 {
  const mask: u32 = (1 << prefixBits) - 1;
  if (value < mask) return 1;
  let rest = value - mask;
  let n: u32 = 2;
  while (rest >= 0x80) {
    rest >>>= 7;
    n++;
  }
  return n;
}

/**
 * Writes `value` with an N-bit prefix; `high` holds the representation's bits above the
 * prefix (e.g. 0x80 for an indexed field). The caller has reserved 6 octets.
 */
@inline
export function writeInteger(out: ByteBuffer, high: u32, prefixBits: u32, value: u32): void {
  const mask: u32 = (1 << prefixBits) - 1;
  if (value < mask) {
    out.pushByte(<u8>(high | value));
    return;
  }
  out.pushByte(<u8>(high | mask));
  let rest = value - mask;
  while (rest >= 0x80) {
    out.pushByte(<u8>((rest & 0x7f) | 0x80));
    rest >>>= 7;
  }
  out.pushByte(<u8>rest);
}
