// What every entry exports (Node, Deno/Bun, workerd, browsers): everything that needs no
// socket of a particular runtime. No `node:` import.
export { H2E } from './abi.js';
export {
  H2Module,
  instantiate,
  instantiateSync,
  defaultModule,
  setDefaultModule,
  setCompiledModule,
  compiledModule,
  compileUrl,
} from './loader.js';
export type { H2Exports, HostImports, ModuleSource } from './loader.js';
export { HpackEncoder, HpackDecoder, HpackError } from './hpack.js';
export { runtime } from './shared-runtime.js';
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
export { FrameLogger } from './frames-debug.js';
export { ServerConnection, StreamClosedError } from './server-conn.js';
export type { ConnectionOptions, IncomingRequest, Responder, StreamHandler, ResponseBody } from './server-conn.js';
export { Runtime } from './runtime.js';
export type { Limits, BudgetUse, Sink, Transport } from './runtime.js';
export { attachStreamSocket, connectStreamSocket, serveStreamSocket } from './stream-socket.js';
export type { StreamSocket, StreamConnectOptions, StreamServeOptions } from './stream-socket.js';
export { fetchHandler, LightResponse, overrideGlobalObjects, nativeRequest, nativeResponse } from './fetch-handler.js';
export type { FetchFunction } from './fetch-handler.js';
export { webSocketSocket } from './websocket-socket.js';
