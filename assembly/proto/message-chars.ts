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

// Word-at-a-time checks for the common case (RFC 9113 §8.2.1 names, RFC 9110 §5.5
// values): eight bytes per step, each answer exact; a word that fails is looked at byte
// by byte by the caller, which names the fault.
const ONES: u64 = ((<u64>0x01010101) << 32) | 0x01010101;
const HIGHS: u64 = ((<u64>0x80808080) << 32) | 0x80808080;

/** Some byte of `x` is below `n` (n <= 128; exact as a yes/no). */
@inline function hasLess(x: u64, n: u64): u64 {
  return (x - ONES * n) & ~x & HIGHS;
}

/** Some byte of `x` equals `b`. */
@inline function hasByte(x: u64, b: u64): u64 {
  const y = x ^ (ONES * b);
  return (y - ONES) & ~y & HIGHS;
}

/** Every byte of `x` is in a..z or '-' (the bytes of most field names). */
@inline function allLowerOrDash(x: u64): bool {
  if ((x & HIGHS) != 0) return false;
  // Per byte (each < 0x80, so no carry crosses a byte): the high bit of x + (0x80 - lo)
  // is set when the byte is >= lo.
  const letter = (x + ONES * (0x80 - 0x61)) & ~(x + ONES * (0x80 - 0x7b)) & HIGHS;
  const y = x ^ (ONES * 0x2d);
  const dash = ~(y + ONES * 0x7f) & HIGHS; // a zero byte keeps its high bit clear
  return (letter | dash) == HIGHS;
}

/** True when [ptr, ptr+len) is all field-value bytes (VCHAR, obs-text, SP, HTAB). */
export function valueBytesOk(ptr: usize, len: u32): bool {
  return bytesFrom(ptr, len, 0x20, C_VALUE);
}

/** True when [ptr, ptr+len) is all request-target bytes (visible ASCII, obs-text). */
export function pathBytesOk(ptr: usize, len: u32): bool {
  return bytesFrom(ptr, len, 0x21, C_PATH);
}

/** Every byte is `lowest` or above, but not DEL, eight at a time while that holds; the
 *  class `bits` decides the rest (HTAB, say, for values). */
@inline function bytesFrom(ptr: usize, len: u32, lowest: u64, bits: u8): bool {
  let i: u32 = 0;
  for (; i + 8 <= len; i += 8) {
    const x = load<u64>(ptr + i);
    if ((hasLess(x, lowest) | hasByte(x, 0x7f)) != 0) return allIn(ptr + i, len - i, bits);
  }
  return allIn(ptr + i, len - i, bits);
}

/** True when [ptr, ptr+len) is all lowercase tchar (what a field name may hold). */
export function nameBytesOk(ptr: usize, len: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= len; i += 8) {
    if (!allLowerOrDash(load<u64>(ptr + i))) return allIn(ptr + i, len - i, C_NAME);
  }
  return allIn(ptr + i, len - i, C_NAME);
}

@inline export function charIs(b: u8, bits: u8): bool {
  return (load<u8>(TABLE + <usize>b) & bits) != 0;
}

/** Bytes equal the ASCII bytes `lit` (a static StaticArray<u8>) exactly, compared a word at a
 *  time (the last word overlapping the one before it). */
export function eqAscii(ptr: usize, len: u32, lit: StaticArray<u8>): bool {
  if (len != <u32>lit.length) return false;
  const b = changetype<usize>(lit);
  if (len >= 8) {
    let i: u32 = 0;
    for (; i + 8 <= len; i += 8) if (load<u64>(ptr + i) != load<u64>(b + i)) return false;
    return i == len || load<u64>(ptr + len - 8) == load<u64>(b + len - 8);
  }
  if (len >= 4) return load<u32>(ptr) == load<u32>(b) && load<u32>(ptr + len - 4) == load<u32>(b + len - 4);
  for (let i: u32 = 0; i < len; i++) if (load<u8>(ptr + i) != load<u8>(b + i)) return false;
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
