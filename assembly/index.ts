// The module's export list, and nothing else (DESIGN.md §1). Every export here is
// declared in include/h2wasm.h with its ownership rule.
import "./ffi/abort";
import { hostAlloc, hostFree } from "./ffi/memory";
import { handleLiveCount } from "./ffi/handles";

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

/** ABI version: major << 16 | minor. */
export function h2_version(): u32 {
  return (0 << 16) | 1;
}
