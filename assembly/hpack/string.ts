// String literals (RFC 7541 §5.2): a length with a 7-bit prefix whose high bit says
// Huffman, then the octets.
import { ByteBuffer } from '../util/bytes';
import { copyBytes } from './copy';
import { decodeInteger, intEnd, INT_OVERFLOW, integerLength, writeInteger } from './integer';
import { decodeHuffman, encodeHuffman, huffmanEncodedLength, huffmanMaxDecodedLength } from './huffman';

// decodeString's answers (0 = success).
export const STR_OK: i32 = 0;
export const STR_INT_TRUNCATED: i32 = 1;
export const STR_INT_OVERFLOW: i32 = 2;
export const STR_TRUNCATED: i32 = 3;
export const STR_HUFF_EOS: i32 = 4;
export const STR_HUFF_PADDING_TOO_LONG: i32 = 5;
export const STR_HUFF_PADDING_NOT_ONES: i32 = 6;
export const STR_OUT_OF_MEMORY: i32 = 7;

/** After a successful decodeString: the position after the literal, and the decoded length. */
export let stringEnd: usize = 0;
export let stringLen: u32 = 0;

/** Decodes the literal at `p` (< end), appending its octets to `out`. */
export function decodeString(p: usize, end: usize, out: ByteBuffer): i32 {
  const first = <u32>load<u8>(p);
  let len: u32;
  if ((first & 0x7f) < 0x7f) {
    len = first & 0x7f;
    p++;
  } else {
    const v = decodeInteger(p, end, 7);
    if (v < 0) return v == INT_OVERFLOW ? STR_INT_OVERFLOW : STR_INT_TRUNCATED;
    len = <u32>v;
    p = intEnd;
  }
  if (<u64>len > <u64>(end - p)) return STR_TRUNCATED;
  if (first & 0x80) {
    if (!out.reserve(huffmanMaxDecodedLength(len))) return STR_OUT_OF_MEMORY;
    const n = decodeHuffman(p, len, out.ptr + <usize>out.len);
    if (n < 0) return STR_HUFF_EOS - 1 - n; // -1 → EOS, -2 → too long, -3 → not ones
    out.len += <u32>n;
    stringLen = <u32>n;
  } else {
    if (!out.reserve(len)) return STR_OUT_OF_MEMORY;
    copyBytes(out.ptr + <usize>out.len, p, len);
    out.len += len;
    stringLen = len;
  }
  stringEnd = p + <usize>len;
  return STR_OK;
}

/** Largest number of octets encodeString may write for a `len`-octet string. */
@inline
export function maxEncodedStringLength(len: u32): u32 {
  return len + 6;
}

/**
 * Appends [p, p+len) as a literal, Huffman-coded only when that is strictly shorter.
 * Reserves its own room; false when `out` cannot grow.
 */
export function encodeString(out: ByteBuffer, p: usize, len: u32): bool {
  const hlen = huffmanEncodedLength(p, len);
  if (hlen < len) {
    if (!out.reserve(integerLength(hlen, 7) + hlen)) return false;
    writeInteger(out, 0x80, 7, hlen);
    out.len += encodeHuffman(p, len, out.ptr + <usize>out.len);
  } else {
    if (!out.reserve(integerLength(len, 7) + len)) return false;
    writeInteger(out, 0, 7, len);
    out.pushBytes(p, len);
  }
  return true;
}
