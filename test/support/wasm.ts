// Loads the compiled modules for tests, with the small memory helpers every suite needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = join(ROOT, '..', 'shared');

export type Exports = Record<string, any> & { memory: WebAssembly.Memory };

/** Reads an AssemblyScript string (UTF-16, length in the header 4 bytes before). */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}

/**
 * Instantiates a module from build/: 'h2wasm' (release), 'h2wasm.debug', or a layer
 * harness 'test/<layer>'. The debug builds import env.abort; it throws with the message.
 */
export function loadModule(name: string, hostImports: WebAssembly.Imports = {}): Exports {
  const bytes = readFileSync(join(ROOT, 'build', `${name}.wasm`));
  let memory: WebAssembly.Memory | undefined;
  const env = {
    abort(msg: number, file: number, line: number, col: number) {
      const m = memory ? readAsString(memory, msg) : '?';
      const f = memory ? readAsString(memory, file) : '?';
      throw new Error(`wasm abort: ${m} at ${f}:${line}:${col}`);
    },
    trace() {},
    seed: () => 1,
  };
  const module = new WebAssembly.Module(bytes);
  // Host imports a test does not provide fail loudly if the module ever calls them.
  const imports: Record<string, Record<string, unknown>> = { env };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function' || imp.module === 'env') continue;
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new Error(`test did not provide ${imp.module}.${imp.name}`);
    };
  }
  for (const [mod, fns] of Object.entries(hostImports)) imports[mod] = { ...imports[mod], ...(fns as object) };
  const instance = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
  const exports = instance.exports as Exports;
  memory = exports.memory;
  return exports;
}

/** Copies `bytes` into memory from the module's allocator (h2_alloc or the harness's). */
export function putBytes(ex: Exports, bytes: Uint8Array, alloc = 'h2_alloc'): number {
  const ptr = ex[alloc](bytes.length) >>> 0;
  new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

export function getBytes(ex: Exports, ptr: number, len: number): Uint8Array {
  return new Uint8Array(ex.memory.buffer, ptr >>> 0, len >>> 0).slice();
}

export const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
