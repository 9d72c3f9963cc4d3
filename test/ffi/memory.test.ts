import { describe, it, expect } from 'vitest';
import { loadModule } from '../support/wasm.js';

describe('host memory (h2_alloc / h2_free)', () => {
  it('hands out writable buffers and refuses frees of anything it did not hand out', () => {
    const ex = loadModule('h2wasm');
    const p = ex.h2_alloc(100) >>> 0;
    expect(p).not.toBe(0);
    new Uint8Array(ex.memory.buffer, p, 100).fill(7);
    expect(ex.h2_free(p + 4)).toBe(2); // foreign pointer: H2E_INVALID_ARG
    expect(ex.h2_free(p)).toBe(0);
    expect(ex.h2_free(p)).toBe(2); // double free is harmless
    expect(ex.h2_free(0)).toBe(2);
  });

  it('answers 0 instead of trapping when a request cannot be met', () => {
    const ex = loadModule('h2wasm');
    expect(ex.h2_alloc(0xffffffff) >>> 0).toBe(0);
    expect(ex.h2_alloc(16) >>> 0).not.toBe(0);
  });
});
