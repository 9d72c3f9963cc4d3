// When garbage is collected. The module is built with AssemblyScript's minimal runtime:
// no shadow stack and no collection inside allocations, which halves the instructions
// per request and shrinks the code by a quarter against the incremental runtime. The
// price is that a collection may only run when no wasm frame holds an object that
// nothing else references — that is, at the entry of an export the host called from
// its own loop, not from inside one of our imports. Those entries call safepoint().
//
// A collection costs about the live set, so it runs once the allocations counted since
// the last one reach a quarter of the blocks that were live after it: amortised, a
// constant per allocation, and garbage stays within a small multiple of what is live.
import { heapBlocksUsed } from './heap';

/** Fewest counted allocations between two collections. */
const MIN_BETWEEN: u32 = 2048;

let counted: u32 = 0;
let threshold: u32 = MIN_BETWEEN;
let hostDepth: u32 = 0;

/** One allocation of a handful of managed objects (a handle, a stream) happened. */
@inline export function countAllocation(): void {
  counted++;
}

/** A call from wasm into the host begins / ends: no collection while one is running. */
@inline export function enterHost(): void {
  hostDepth++;
}
@inline export function leaveHost(): void {
  hostDepth--;
}

/** At an export's entry: collects when due and no wasm frame is below this call. */
export function safepoint(): void {
  if (hostDepth != 0) return;
  // Built with `--use H2_GC_STRESS=1`, every safe point collects: a test build that
  // turns an unrooted object into a failure at once.
  if (isDefined(H2_GC_STRESS) || counted >= threshold) collectNow();
}

/** Collects now if that is safe here; false when a host call is in progress. */
export function collectNow(): bool {
  if (hostDepth != 0) return false;
  __collect();
  counted = 0;
  threshold = max<u32>(MIN_BETWEEN, heapBlocksUsed() >> 2);
  return true;
}
