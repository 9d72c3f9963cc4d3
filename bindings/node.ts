// Node adapter: binds the runtime's transports to net / tls sockets (TLS with ALPN h2;
// h2c with prior knowledge), with backpressure both ways (socket 'drain' wakes the
// engine's writer; a PENDING read waits for 'data'), and the servers built on it.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Runtime, type Transport } from './runtime.js';
import { ServerConnection, type ConnectionOptions, type StreamHandler, type IncomingRequest, type Responder } from './server-conn.js';
import { WASM_URL } from './wasm-path.js';

let shared: Runtime | undefined;
/** The process-wide runtime (one module instance, one executor). */
export function runtime(): Runtime {
  shared ??= new Runtime(readFileSync(WASM_URL));
  return shared;
}

/** Wires a socket to a new transport; returns its io handle. */
export function attachSocket(rt: Runtime, socket: net.Socket): { transport: Transport; io: number } {
  socket.setNoDelay(true); // HTTP/2 writes small frames: Nagle would hold them back
  const { transport, io } = rt.transport({
    write: (bytes) => socket.write(bytes),
    end: () => socket.end(),
  });
  socket.on('data', (d: Buffer) => transport.push(d));
  socket.on('end', () => transport.end());
  socket.on('error', () => transport.end(true));
  socket.on('close', () => transport.end());
  socket.on('drain', () => transport.writable());
  return { transport, io };
}

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ServeOptions {
  port?: number;
  hostname?: string;
  tls?: TlsOptions;
  /** WHATWG handler, as in Deno.serve / Bun.serve (a Hono app mounts with `fetch: app.fetch`). */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** Low-level handler: headers, body and trailers without WHATWG objects (the fast path). */
  handler?: StreamHandler;
  /** Settings and limits of every connection. */
  settings?: ConnectionOptions;
  onError?: (error: unknown) => void;
  onListen?: (address: { hostname: string; port: number }) => void;
}

export interface Server {
  readonly port: number;
  readonly hostname: string;
  readonly url: string;
  /** Stops accepting, shuts every connection down gracefully (in-flight streams finish). */
  close(): Promise<void>;
  readonly finished: Promise<void>;
}

export async function serve(options: ServeOptions): Promise<Server> {
  const rt = runtime();
  const handler = options.handler ?? (options.fetch ? fetchHandler(options.fetch, !!options.tls) : undefined);
  if (!handler) throw new TypeError('h2wasm: serve() needs fetch or handler');
  const conns = new Set<ServerConnection>();
  const onSocket = (socket: net.Socket) => {
    const { transport, io } = attachSocket(rt, socket);
    const conn = new ServerConnection(rt, transport, io, options.settings ?? {}, handler, options.onError);
    conns.add(conn);
    conn.done.then(() => conns.delete(conn));
  };
  const server = options.tls
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ['h2'] }, onSocket)
    : net.createServer(onSocket);
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  options.onListen?.({ hostname, port });
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => { resolveFinished = r; });
  return {
    port,
    hostname,
    url: `${options.tls ? 'https' : 'http'}://${hostname}:${port}`,
    finished,
    async close() {
      await new Promise<void>((r) => { server.close(() => r()); [...conns].forEach((c) => c.close()); });
      await Promise.all([...conns].map((c) => c.done));
      resolveFinished();
    },
  };
}

/** Adapts a WHATWG fetch handler to the stream handler. */
export function fetchHandler(fetch: (request: Request) => Response | Promise<Response>, secure: boolean): StreamHandler {
  return async (req: IncomingRequest, res: Responder) => {
    const url = `${req.scheme || (secure ? 'https' : 'http')}://${req.authority || 'localhost'}${req.path}`;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const body = hasBody ? iterableStream(req.body()) : null;
    const request = new Request(url, { method: req.method, headers: req.headers, body, duplex: 'half' } as RequestInit);
    const response = await fetch(request);
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => headers.push([name, value]));
    await res.respond(response.status, headers, response.body ? streamIterable(response.body) : null);
  };
}

function iterableStream(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = it[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
}

async function* streamIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield value;
  }
}
