// Package entry for Node: `import { HpackEncoder, HpackDecoder } from 'h2wasm'`.
// Registers the module that ships beside this file as the default instance.
import { existsSync, readFileSync } from 'node:fs';
import { instantiateSync, setDefaultModuleFactory } from './loader.js';

/** The release module: build/ at the package root, seen from dist/bindings/ or from bindings/ (tests). */
export const WASM_URL = [new URL('../../build/h2wasm.wasm', import.meta.url), new URL('../build/h2wasm.wasm', import.meta.url)]
  .find((u) => existsSync(u)) ?? new URL('../../build/h2wasm.wasm', import.meta.url);

setDefaultModuleFactory(() => instantiateSync(readFileSync(WASM_URL)));

export { H2E } from './abi.js';
export { H2Module, instantiate, instantiateSync, defaultModule, setDefaultModule } from './loader.js';
export type { H2Exports, HostImports, ModuleSource } from './loader.js';
export { HpackEncoder, HpackDecoder, HpackError } from './hpack.js';
