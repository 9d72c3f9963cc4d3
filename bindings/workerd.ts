// Package entry for Cloudflare Workers (the `workerd` export condition): sockets from
// `connect()` of 'cloudflare:sockets', the module as workerd and wrangler give a .wasm
// import (a compiled WebAssembly.Module). No `node:` import; no nodejs_compat needed.
//
// Workers' TLS sockets cannot offer ALPN: `https:` origins are reached with TLS and HTTP/2
// by prior knowledge, which a server that requires ALPN h2 refuses (see the README).
import { connect as openSocket } from 'cloudflare:sockets';
import wasm from '../../build/h2wasm.wasm';
import { compiledModule, setCompiledModule } from './loader.js';
import { Runtime } from './runtime.js';
import { createFetch, type H2RequestInit } from './fetch.js';
import { socketAddress } from './http-fields.js';
import type { ClientSession } from './client.js';
import {
  connectStreamSocket,
  serveStreamSocket as serveOn,
  type StreamConnectOptions,
  type StreamServeOptions,
  type StreamSocket,
} from './stream-socket.js';

export * from './common.js';

setCompiledModule(wasm);

/**
 * A runtime (module instance) per connection: Workers forbid I/O on one request's socket
 * from another request's events, and one isolate serves concurrent requests, so a
 * connection must be driven only by its own request's events (instantiating the compiled
 * module is cheap). Its timers are then its request's too, which Workers cancel when the
 * request ends: by then its connection is of no use to anyone.
 */
const connectionRuntime = () => new Runtime(compiledModule());

/**
 * An HTTP/2 session to `url`'s origin: `http:` as h2c with prior knowledge, `https:` as TLS
 * (no ALPN: Workers' sockets do not offer it) with HTTP/2 by prior knowledge.
 */
export function connect(url: string | URL, options: StreamConnectOptions = {}): ClientSession {
  const { url: u, secure, host, port } = socketAddress(url);
  const socket = openSocket({ hostname: host, port }, { secureTransport: secure ? 'on' : 'off', allowHalfOpen: false });
  return connectStreamSocket(u, socket, { ...options, runtime: options.runtime ?? connectionRuntime() });
}

/** Serves HTTP/2 on a socket a Worker's connect() handler gets, on its own runtime (see above). */
export function serveStreamSocket(socket: StreamSocket, options: StreamServeOptions): Promise<void> {
  return serveOn(socket, { ...options, runtime: options.runtime ?? connectionRuntime() });
}

/**
 * fetch() over HTTP/2. Workers tie a socket to the request that opened it (another request
 * cannot use it), so no session outlives a call: each call opens its own connection, which
 * closes once the response has been read. Many requests to one origin within one request
 * share a connection through `createFetch(connect)` made in the handler (close() it at the
 * end, e.g. in ctx.waitUntil). An origin that does not speak HTTP/2 is asked with the
 * Worker's own fetch().
 */
export async function fetch(input: string | URL | Request, init?: H2RequestInit): Promise<Response> {
  const once = createFetch((origin, options) => connect(origin, options));
  try {
    return await once(input, init);
  } finally {
    void once.close(); // graceful: the response's body goes on to its end
  }
}
