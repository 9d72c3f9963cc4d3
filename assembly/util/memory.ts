// Whether linear memory can still hold an allocation. wasm32 memory tops out at 65536
// pages; the allocator traps when it cannot grow, so callers ask first and fail softly.

/** True when an allocation of `bytes` could succeed by growing memory if need be. */
export function canAllocate(bytes: u64): bool {
  const pages = (bytes + 0xffff + 64) >> 16; // + the allocator's block overhead
  return pages <= <u64>(65536 - memory.size());
}
