// Copies of short byte strings. Header names and values are mostly a few dozen octets, and
// a `memory.copy` costs a call into the engine each time; below 64 octets a word loop is
// several times cheaper.

/** Copies [src, src+n) to dst (non-overlapping). */
@inline
export function copyBytes(dst: usize, src: usize, n: u32): void {
  if (n > 64) {
    memory.copy(dst, src, n);
    return;
  }
  const end = dst + <usize>n;
  while (dst + 8 <= end) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
  }
  while (dst < end) {
    store<u8>(dst, load<u8>(src));
    dst++;
    src++;
  }
}
