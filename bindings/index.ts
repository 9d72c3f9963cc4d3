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
export { serve, fetchHandler, runtime, connect, fetch, createGrpcTransport } from './node.js';
export type { ServeOptions, Server, TlsOptions, ClientOptions } from './node.js';
export { ClientSession, H2StreamError, H2ConnectionError, H2_ERROR_NAMES } from './client.js';
export type {
  ClientRequestOptions,
  ClientResponse,
  ClientPush,
  RequestBody,
  SessionOptions,
  H2ErrorInfo,
} from './client.js';
export { h2wasmTrailers, createFetch, isNotHttp2, NOT_HTTP2 } from './fetch.js';
export type { H2Fetch, H2RequestInit, Http1Sender, Http1Request, Http1Response } from './fetch.js';
export type { GrpcTransport, GrpcTransportOptions } from './grpc-transport.js';
export { FrameLogger } from './frames-debug.js';
export type { ConnectionOptions, IncomingRequest, Responder, StreamHandler, ResponseBody } from './server-conn.js';
export { StreamClosedError } from './server-conn.js';
export { Runtime } from './runtime.js';
export type { Limits, BudgetUse } from './runtime.js';
