// A growable byte buffer in unmanaged linear memory, with a hard cap. Every layer writes
// its output through one of these, so growth (and its limit) is decided in one place and
// steady-state writes are plain stores with no allocation.
import { canAllocate } from './memory';

export class ByteBuffer {
  /** Start of the bytes; 0 until the first growth. */
  ptr: usize = 0;
  /** Bytes written. */
  len: u32 = 0;
  /** Bytes allocated. */
  cap: u32 = 0;

  /** `limit` is the most the buffer may ever hold: growth past it fails instead. */
  constructor(
    public limit: u32 = 0x7fffffff,
    initialCap: u32 = 0,
  ) {
    if (initialCap > 0) this.reserve(initialCap);
  }

  /** Makes room for `extra` more bytes; false (nothing changed) when past the limit. */
  reserve(extra: u32): bool {
    const need = <u64>this.len + <u64>extra;
    if (need <= <u64>this.cap) return true;
    if (need > <u64>this.limit) return false;
    let cap = <u64>max<u32>(this.cap, 64);
    while (cap < need) cap <<= 1;
    if (cap > <u64>this.limit) cap = <u64>this.limit;
    if (!canAllocate(cap)) return false;
    this.ptr = this.ptr == 0 ? heap.alloc(<usize>cap) : heap.realloc(this.ptr, <usize>cap);
    this.cap = <u32>cap;
    return true;
  }

  @inline pushByte(b: u8): void {
    store<u8>(this.ptr + this.len, b);
    this.len++;
  }

  @inline pushBytes(src: usize, n: u32): void {
    memory.copy(this.ptr + this.len, src, n);
    this.len += n;
  }

  /** Forgets the contents, keeps the memory. */
  @inline clear(): void {
    this.len = 0;
  }

  /** Gives the memory back; the buffer stays usable and empty. */
  dispose(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.len = 0;
    this.cap = 0;
  }
}
