// Heap accounting: walks the TLSF allocator's blocks and sums
// the ones in use, so a test can check that memory returns to where it started — wasm
// memory never shrinks, so page counts alone cannot show a leak.
// Layout facts from ~lib/rt/tlsf.ts (wasm32, AL_BITS = 4): the root sits at
// __heap_base aligned to 16 and is ROOT_SIZE bytes; blocks follow contiguously, each a
// usize header (size | LEFTFREE | FREE) then its payload; the tail is a zero-size used
// block whose address the root stores at HL_END.
import { ROOT } from 'rt/tlsf';

const AL_MASK: usize = 15;
const FL_BITS: usize = 23;
const SL_SIZE: usize = 16;
const HL_START: usize = (4 + (FL_BITS << 2) + AL_MASK) & ~AL_MASK;
const HL_END: usize = HL_START + FL_BITS * SL_SIZE * 4;
const ROOT_SIZE: usize = HL_END + 4;
const FREE: usize = 1;
const TAGS: usize = 3;

let usedBytes: usize = 0;
let usedBlocks: u32 = 0;

/** Counts the used blocks and their bytes (headers included). */
function walk(): void {
  usedBytes = 0;
  usedBlocks = 0;
  const root = changetype<usize>(ROOT);
  if (root == 0) return;
  const tail = load<usize>(root + HL_END);
  let p = root + ROOT_SIZE;
  while (p < tail) {
    const info = load<usize>(p);
    const size = info & ~TAGS;
    if ((info & FREE) == 0) {
      usedBytes += 4 + size;
      usedBlocks++;
    }
    p += 4 + size;
  }
}

/** Bytes in used blocks, headers included (collect first for a figure without garbage). */
export function heapUsedBytes(): u32 {
  walk();
  return <u32>usedBytes;
}

/** How many blocks are in use: the live set's size after a collection. */
export function heapBlocksUsed(): u32 {
  walk();
  return usedBlocks;
}
