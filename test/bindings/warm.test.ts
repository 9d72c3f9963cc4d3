// warmUp (warm.ts): the scratch handshake and request that setCompiledModule runs so the
// first connection finds the module's code compiled. It must get all the way through on the
// release module (else it warms only part of the path and says nothing), and never throw.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { WASM_URL } from '../../bindings/wasm-path.js';
import { warmUp } from '../../bindings/warm.js';
import { setCompiledModule, compiledModule } from '../../bindings/loader.js';
import { Runtime } from '../../bindings/runtime.js';

const module = new WebAssembly.Module(readFileSync(WASM_URL));

describe('warmUp', () => {
  it('runs a handshake and a GET to the response body on the release module', () => {
    expect(warmUp(module)).toBe(true);
    expect(warmUp(module)).toBe(true); // and again: the scratch instance kept nothing
  });

  it('leaves a module without the client exports as it is, without throwing', () => {
    const empty = new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    expect(warmUp(empty)).toBe(false);
    expect(() => setCompiledModule(empty)).not.toThrow();
    setCompiledModule(module);
    expect(compiledModule()).toBe(module);
    // A runtime of the warmed module starts with nothing of the scratch instance's.
    const rt = new Runtime(compiledModule());
    expect(rt.ex.h2_handle_count()).toBe(1); // its executor
  });
});
