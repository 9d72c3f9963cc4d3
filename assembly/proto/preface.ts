// The client connection preface (RFC 9113 §3.4): 24 fixed octets before the client's
// SETTINGS. The server matches it byte by byte as it arrives, in any chunking.

/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
export const PREFACE: StaticArray<u8> = [
  0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x53,
  0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
];
export const PREFACE_LENGTH: u32 = 24;

/**
 * Matches up to `len` bytes at `src` against the preface from offset `matched`.
 * Returns how many bytes matched before a difference, so the caller knows both how far
 * it got and whether the input is wrong (result < bytes available).
 */
export function matchPreface(src: usize, len: u32, matched: u32): u32 {
  const n = min(len, PREFACE_LENGTH - matched);
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(src + i) != unchecked(PREFACE[matched + i])) return i;
  }
  return n;
}

/** Appends the preface at `dst` (24 writable bytes). */
export function writePreface(dst: usize): void {
  memory.copy(dst, changetype<usize>(PREFACE), PREFACE_LENGTH);
}
