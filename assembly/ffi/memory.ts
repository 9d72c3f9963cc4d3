// Host-owned byte buffers in linear memory, and the bounds check every (ptr, len) from
// the host goes through before the core reads or writes it.
import { H2E_INVALID_ARG, H2E_OK } from './errors';
import { canAllocate } from '../util/memory';

/** Largest single allocation the host may ask for. */
export const MAX_HOST_ALLOC: u32 = 1 << 30;

// Pointers handed out by h2_alloc that are not yet freed: h2_free of anything else
// (a stale, foreign or doubled pointer) is refused instead of corrupting the allocator.
const hostAllocations = new Set<usize>();

export function hostAlloc(len: u32): usize {
  if (len > MAX_HOST_ALLOC) return 0;
  // Would need more memory than wasm32 can have: answer 0 instead of trapping.
  if (!canAllocate(<u64>len)) return 0;
  const ptr = heap.alloc(<usize>(len == 0 ? 1 : len));
  hostAllocations.add(ptr);
  return ptr;
}

export function hostFree(ptr: usize): u32 {
  if (!hostAllocations.has(ptr)) return H2E_INVALID_ARG;
  hostAllocations.delete(ptr);
  heap.free(ptr);
  return H2E_OK;
}

/**
 * True when [ptr, ptr+len) lies inside linear memory (and ptr is not null unless len is 0).
 * An empty range must still start inside memory (at most at its end): memory.copy and
 * memory.fill trap on an out-of-bounds address even when they copy nothing.
 */
@inline
export function validRange(ptr: usize, len: usize): bool {
  const end = (<u64>memory.size()) << 16;
  if (len == 0) return <u64>ptr <= end;
  if (ptr == 0) return false;
  return <u64>ptr + <u64>len <= end;
}
