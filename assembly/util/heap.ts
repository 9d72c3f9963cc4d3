// Heap accounting: walks the TLSF allocator's blocks and sums
// the ones in use, so a test can check that memory returns to where it started — wasm
// memory never shrinks, so page counts alone cannot show a leak.
// Layout facts from ~lib/rt/tlsf.ts (wasm32, AL_BITS = 4): the root sits at
// __heap_base aligned to 16 and is ROOT_SIZE bytes; blocks follow contiguously, each a
// usize header (size | LEFTFREE | FREE) then its payload; the tail is a zero-size used
// block whose address the root stores at HL_END.
import { ROOT } from "rt/tlsf";

const AL_MASK: usize = 15;
const FL_BITS: usize = 23;
const SL_SIZE: usize = 16;
const HL_START: usize = (4 + (FL_BITS << 2) + AL_MASK) & ~AL_MASK;
const HL_END: usize = HL_START + FL_BITS * SL_SIZE * 4;
const ROOT_SIZE: usize = HL_END + 4;
const FREE: usize = 1;
const TAGS: usize = 3;

/** Bytes in used blocks (headers included), after a full GC. */
export function heapUsedBytes(): u32 {
  __collect();
  const root = changetype<usize>(ROOT);
  if (root == 0) return 0;
  const tail = load<usize>(root + HL_END);
  let p = root + ROOT_SIZE;
  let used: usize = 0;
  while (p < tail) {
    const info = load<usize>(p);
    const size = info & ~TAGS;
    if ((info & FREE) == 0) used += 4 + size;
    p += 4 + size;
  }
  return <u32>used;
}
