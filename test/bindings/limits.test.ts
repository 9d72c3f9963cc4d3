// Runtime.setLimits: the instance's budget (h2_budget_set) set as a whole or not at all,
// and recorded as the module has it, so a fresh instance after a trap gets the same.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../bindings/runtime.js';
import { ROOT } from '../support/wasm.js';

const MiB = 1 << 20;
const fresh = () => new Runtime(readFileSync(join(ROOT, 'build', 'h2wasm.wasm')));

describe('Runtime.setLimits', () => {
  it('records every limit as the module derived it', () => {
    const rt = fresh();
    rt.setLimits({ memoryBudget: 64 * MiB, streams: 100 });
    // sendBytes and the rest derive from memoryBudget; streams is the one set after it.
    expect(rt.limits).toEqual({
      memoryBudget: 64 * MiB,
      sendBytes: 32 * MiB,
      recvBytes: 16 * MiB,
      streams: 100,
      connections: (64 * MiB) / (32 << 10) / 2,
    });
  });

  it('leaves the budget as it was when one value is refused', () => {
    const rt = fresh();
    rt.setLimits({ memoryBudget: 64 * MiB });
    const before = { ...rt.limits };
    // memoryBudget would apply (and derive the others) before streams is found bad.
    expect(() => rt.setLimits({ memoryBudget: 8 * MiB, streams: -1 })).toThrow(/invalid limit streams/);
    expect(() => rt.setLimits({ memoryBudget: 100 })).toThrow(/invalid limit memoryBudget/);
    expect(rt.limits).toEqual(before);
    rt.setLimits({}); // reads back what the module itself has
    expect(rt.limits).toEqual(before);
  });
});
