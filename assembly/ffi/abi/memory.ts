// The ABI: Memory the host writes into, and diagnostics.
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { hostAlloc, hostFree } from '../memory';
import { handleLiveCount } from '../handles';
import { heapUsedBytes } from '../../util/heap';
import { collectNow } from '../../util/gc';

/** Allocates `len` bytes for the host; 0 when memory cannot grow. Free with h2_free. */
export function h2_alloc(len: u32): usize {
  return hostAlloc(len);
}

/** Frees a pointer from h2_alloc; H2E_INVALID_ARG for anything else (a double free is harmless). */
export function h2_free(ptr: usize): u32 {
  return hostFree(ptr);
}

/** Number of live handles of every kind, for leak checks. */
export function h2_handle_count(): u32 {
  return handleLiveCount();
}

/** Bytes of linear memory in use (allocator blocks, after a full GC): for leak checks and
 *  memory-per-connection figures. Walks the heap: a diagnostic, not for hot paths. */
export function h2_heap_used(): u32 {
  collectNow();
  return heapUsedBytes();
}

/** ABI version: major << 16 | minor. */
export function h2_version(): u32 {
  return (0 << 16) | 1;
}
