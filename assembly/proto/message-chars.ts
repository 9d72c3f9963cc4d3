// Byte classes and comparisons for HTTP message validation (message.ts). One 256-byte
// table in static memory answers "may this byte appear in a field name / value / method /
// scheme / authority / path?" with a single load; comparisons against known names read
// the bytes in place against string literals (static data), so nothing is allocated.

/** Lowercase `tchar` (RFC 9110 §5.6.2): what a field name may hold (RFC 9113 §8.2.1). */
export const C_NAME: u8 = 1;
/** `tchar`, any case (RFC 9110 §5.6.2): methods (§9.1) and the `:protocol` token. */
export const C_TOKEN: u8 = 2;
/** `field-vchar` / SP / HTAB (RFC 9110 §5.5): VCHAR, obs-text 0x80–0xff, SP, HTAB. */
export const C_VALUE: u8 = 4;
/** RFC 3986 §3.2 authority: unreserved, pct-encoded '%', sub-delims, ':', '[', ']', '@'. */
export const C_AUTHORITY: u8 = 8;
/** A request-target byte: visible ASCII or obs-text; no SP, HTAB or other controls. */
export const C_PATH: u8 = 16;
/** RFC 3986 §3.1 scheme after the first letter: ALPHA / DIGIT / '+' / '-' / '.'. */
export const C_SCHEME: u8 = 32;

const TABLE: usize = memory.data(256);
let tableReady = false;

@inline function mark(b: i32, bits: u8): void {
  store<u8>(TABLE + <usize>b, load<u8>(TABLE + <usize>b) | bits);
}

function markAll(chars: string, bits: u8): void {
  for (let i = 0; i < chars.length; i++) mark(chars.charCodeAt(i), bits);
}

/** Fills the table once per module instance (idempotent, cheap). */
export function initCharTable(): void {
  if (tableReady) return;
  tableReady = true;
  for (let b = 0; b < 256; b++) {
    let bits: u8 = 0;
    const alpha = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    const digit = b >= 0x30 && b <= 0x39;
    if (alpha || digit) bits |= C_TOKEN | C_AUTHORITY | C_SCHEME;
    if (digit || (b >= 0x61 && b <= 0x7a)) bits |= C_NAME;
    if (b == 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80) bits |= C_VALUE;
    if ((b >= 0x21 && b <= 0x7e) || b >= 0x80) bits |= C_PATH;
    store<u8>(TABLE + <usize>b, bits);
  }
  markAll("!#$%&'*+-.^_`|~", C_NAME | C_TOKEN);
  markAll("-._~%!$&'()*+,;=:[]@", C_AUTHORITY);
  markAll('+-.', C_SCHEME);
}

/** True when every byte of [ptr, ptr+len) has `bits` set. */
export function allIn(ptr: usize, len: u32, bits: u8): bool {
  for (let i: u32 = 0; i < len; i++) {
    if ((load<u8>(TABLE + <usize>load<u8>(ptr + i)) & bits) == 0) return false;
  }
  return true;
}

@inline export function charIs(b: u8, bits: u8): bool {
  return (load<u8>(TABLE + <usize>b) & bits) != 0;
}

/** Bytes equal the ASCII literal `lit` exactly (case-sensitive). */
export function eqAscii(ptr: usize, len: u32, lit: string): bool {
  if (len != <u32>lit.length) return false;
  const s = changetype<usize>(lit);
  for (let i: u32 = 0; i < len; i++) {
    if (<u32>load<u8>(ptr + i) != <u32>load<u16>(s + ((<usize>i) << 1))) return false;
  }
  return true;
}

@inline export function lowerAscii(b: u32): u32 {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Bytes equal the lowercase ASCII literal `lit`, ignoring ASCII case in the bytes. */
export function eqAsciiNoCase(ptr: usize, len: u32, lit: string): bool {
  if (len != <u32>lit.length) return false;
  const s = changetype<usize>(lit);
  for (let i: u32 = 0; i < len; i++) {
    if (lowerAscii(load<u8>(ptr + i)) != <u32>load<u16>(s + ((<usize>i) << 1))) return false;
  }
  return true;
}

/** Two byte ranges equal, ignoring ASCII case. */
export function eqBytesNoCase(a: usize, aLen: u32, b: usize, bLen: u32): bool {
  if (aLen != bLen) return false;
  for (let i: u32 = 0; i < aLen; i++) {
    if (lowerAscii(load<u8>(a + i)) != lowerAscii(load<u8>(b + i))) return false;
  }
  return true;
}

/** Index of the first `b` in the range, or -1. */
export function indexOfByte(ptr: usize, len: u32, b: u8): i32 {
  for (let i: u32 = 0; i < len; i++) if (load<u8>(ptr + i) == b) return <i32>i;
  return -1;
}
