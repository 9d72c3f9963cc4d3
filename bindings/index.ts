// Package entry for Node (the `node` export condition): sockets from node:net / node:tls,
// the module read from the file beside the package when first needed (node.ts).
export { WASM_URL } from './wasm-path.js';
export * from './common.js';
export { serve, connect, fetch } from './node.js';
export type { ServeOptions, Server, TlsOptions, ClientOptions } from './node.js';
