// Package entry for Node: `import { HpackEncoder, HpackDecoder } from 'h2wasm'`.
// Registers the module that ships beside this file as the default instance.
import { readFileSync } from 'node:fs';
import { instantiateSync, setDefaultModuleFactory } from './loader.js';
import { WASM_URL } from './wasm-path.js';

export { WASM_URL };

setDefaultModuleFactory(() => instantiateSync(readFileSync(WASM_URL)));

export { H2E } from './abi.js';
export { H2Module, instantiate, instantiateSync, defaultModule, setDefaultModule } from './loader.js';
export type { H2Exports, HostImports, ModuleSource } from './loader.js';
export { HpackEncoder, HpackDecoder, HpackError } from './hpack.js';
export { serve, fetchHandler, runtime } from './node.js';
export type { ServeOptions, Server, TlsOptions } from './node.js';
export type { ConnectionOptions, IncomingRequest, Responder, StreamHandler, ResponseBody } from './server-conn.js';
export { Runtime } from './runtime.js';
