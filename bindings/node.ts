// Node adapter: binds the runtime's transports to net / tls sockets (TLS with ALPN h2;
// h2c with prior knowledge), with backpressure both ways (socket 'drain' wakes the
// engine's writer; a PENDING read waits for 'data'), and the servers built on it.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Runtime, type Transport, type Limits } from './runtime.js';
import { runtime } from './shared-runtime.js';
import { setCompiledModule } from './loader.js';
import { ServerConnection, checkOptions, type ConnectionOptions, type StreamHandler } from './server-conn.js';
import { WASM_URL } from './wasm-path.js';
import { openFileForZeroCopy } from './file-body.js';
import { fetchHandler, overrideGlobalObjects } from './fetch-handler.js';
import { connectStreamSocket, type StreamSocket } from './stream-socket.js';
import { socketAddress } from './http-fields.js';

export { fetchHandler };
import { ClientSession, type ClientPush } from './client.js';
import { createFetch, notHttp2, http1AnswerWatch } from './fetch.js';
import { http1Sender } from './http1-client.js';
import { Http1Server, HANDSHAKE_TIMEOUT_MS } from './http1-server.js';
import { sniff, type FirstBytes } from './first-bytes.js';
import { SWITCHING_PROTOCOLS, prefaceStripper, settingsAckDropper } from './h2c-upgrade.js';

// The Node adapter finds the module in the file beside the package (read when first
// needed); the Deno/Bun entry replaces this with a fetch before anything runs.
setCompiledModule(() => new WebAssembly.Module(readFileSync(WASM_URL)));
export { runtime };

/** How long a socket the engine is done with after a clean close may take to hand Node's
 *  buffer to the kernel before it is destroyed (a slow reader may still be taking the
 *  last response; what is left is at most SOCKET_BUFFER, since the engine writes only as
 *  the socket drains; nginx's lingering_time is 30 s too). */
export const SOCKET_DRAIN_MS = 30_000;
/** Bytes a socket may hold in Node's buffer: the rest waits in the engine, accounted. */
export const SOCKET_BUFFER = 64 * 1024;
/** What a client's socket may hold in Node's buffer instead (connect()): an upload's
 *  zero-copy frames are gathered into writes of up to about this much (node:http2 writes
 *  its frames in writevs of a megabyte); what it holds is the session's own, few sockets. */
export const CLIENT_SOCKET_BUFFER = 1024 * 1024;
/** How long a socket is kept after a failed connection (a flood's attacker must not hold
 *  it): time for the peer to see our GOAWAY and close first. */
export const SOCKET_LINGER_MS = 2000;

/** Rewrites the bytes between a socket and its engine, one function per direction (h2c's upgrade). */
export interface ByteFilters {
  send: (bytes: Uint8Array) => Uint8Array;
  recv: (bytes: Uint8Array) => Uint8Array;
}

/** Wires a socket to a new transport; returns its io handle. */
export function attachSocket(
  rt: Runtime,
  socket: net.Socket,
  tap?: (direction: 'send' | 'recv', bytes: Uint8Array) => void,
  filters?: ByteFilters,
  buffer?: number,
): { transport: Transport; io: number } {
  socket.setNoDelay(true); // HTTP/2 writes small frames: Nagle would hold them back
  const out = filters?.send;
  // Zero-copy frames (prefix, views, padding) go into a corked socket, uncorked once this
  // turn's work is done: one writev for all of them (Node's documented cork idiom).
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const writev =
    tap || out
      ? undefined
      : (parts: Uint8Array[], flushed?: () => void): boolean => {
          if (!corked) {
            corked = true;
            socket.cork();
            process.nextTick(uncork);
          }
          const last = parts.length - 1;
          for (let i = 0; i < last; i++) socket.write(parts[i]);
          socket.write(parts[last], flushed);
          return buffer === undefined
            ? socket.writableLength < socket.writableHighWaterMark
            : socket.writableLength < buffer;
        };
  const write =
    tap || out
      ? (bytes: Uint8Array, flushed?: () => void) => {
          const b = out ? out(bytes) : bytes;
          tap?.('send', b);
          return socket.write(b, flushed);
        }
      : buffer === undefined
        ? // The plain socket's write is the common case: no tap, no filter, nothing in between.
          (bytes: Uint8Array, flushed?: () => void) => socket.write(bytes, flushed)
        : (bytes: Uint8Array, flushed?: () => void) => {
            socket.write(bytes, flushed);
            return socket.writableLength < buffer;
          };
  const { transport, io } = rt.transport({
    write,
    writev,
    end: (failed) => endSocket(socket, failed ? SOCKET_LINGER_MS : SOCKET_DRAIN_MS),
    // Never past the socket's own high-water mark: a full socket is then one whose last
    // write returned false, and its 'drain' wakes the writer. A bound of the caller's own
    // (`buffer`, above the mark) holds too: past the mark Node owes a 'drain' all the same.
    room:
      buffer === undefined
        ? () => Math.min(SOCKET_BUFFER, socket.writableHighWaterMark) - socket.writableLength
        : () => buffer - socket.writableLength,
  });
  // Read backpressure: a transport whose engine stopped reading asks the socket to pause.
  transport.onDrain = () => socket.resume();
  const push = (d: Uint8Array) => {
    if (!transport.push(d)) socket.pause();
  };
  const into = filters?.recv;
  socket.on(
    'data',
    tap || into
      ? (d: Buffer) => {
          const b = into ? into(d) : d;
          tap?.('recv', b);
          if (b.length > 0) push(b);
        }
      : push,
  );
  socket.on('end', () => transport.end());
  socket.on('error', () => transport.end(true));
  socket.on('close', () => transport.end());
  socket.on('drain', () => transport.writable());
  return { transport, io };
}

/**
 * Ends a socket the engine is done with: FIN after what is written, destroyed if it has
 * not closed `patienceMs` later. (Node may have ended it already, when the peer
 * half-closed: the timer runs all the same.) Not shortened at 'finish': what Node handed
 * the kernel may still be on its way to a slow reader, whose WINDOW_UPDATEs arriving at a
 * close would make the kernel reset the connection and drop that tail.
 */
export function endSocket(socket: net.Socket, patienceMs = SOCKET_DRAIN_MS): void {
  if (socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  if (!socket.writableEnded) socket.end();
  const timer = setTimeout(() => socket.destroy(), patienceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
const lingering = new WeakSet<net.Socket>();

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
  /**
   * With `fetch`: replace the global Response with h2wasm's LightResponse (and the global
   * Request with a subclass that takes serve()'s light requests), for the whole process,
   * so that every `new Response(string | bytes | null)` is answered without a stream.
   * Default true, as @hono/node-server has it: Node 20's Response builds a ReadableStream
   * per body (a third of a small answer's CPU). A LightResponse is a Response to its maker
   * (instanceof, statics, every member; what it does not hold itself a native one behind
   * it answers). false leaves the globals alone; returning a LightResponse (exported) then
   * still takes the fast path.
   */
  overrideGlobalObjects?: boolean;
  /** Low-level handler: headers, body and trailers without WHATWG objects (the fast path). */
  handler?: StreamHandler;
  /** Settings and limits of every connection. */
  settings?: ConnectionOptions;
  /** The memory budget of the module instance, shared by every connection of the process
   *  (server and client alike): see `Limits`. */
  limits?: Limits;
  /** What a handler throws (not what the peer caused: see onStreamsLost). */
  onError?: (error: unknown) => void;
  /** Once per connection that had any: how many of its streams the peer ended under their
   *  handler (reset, connection gone). Not errors of the handler; counted, not thrown. */
  onStreamsLost?: (count: number) => void;
  onListen?: (address: { hostname: string; port: number }) => void;
  /**
   * HTTP/1.1 beside HTTP/2 (default true), on node's own http server with the same handler:
   * over TLS ALPN offers h2 and http/1.1; over cleartext a connection's first bytes decide
   * (the HTTP/2 preface, or an HTTP/1.1 request, which may upgrade to h2c). false: HTTP/2 only.
   */
  http1?: boolean;
  /** With http1: a cleartext first request asking `Upgrade: h2c` is upgraded (default true);
   *  false answers it over HTTP/1.1 (behind a proxy that passes Upgrade through). */
  h2cUpgrade?: boolean;
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
  if (options.fetch && options.overrideGlobalObjects !== false) overrideGlobalObjects();
  checkOptions(rt, options.settings ?? {}); // a bad setting fails here, not at the first connection
  if (options.limits) rt.setLimits(options.limits);
  const settings = options.settings ?? {};
  const conns = new Set<ServerConnection>();
  /** Runs HTTP/2 on a socket: `first` bytes already read, or an h2c upgrade's prelude and filters. */
  const startH2 = (socket: net.Socket, first?: Uint8Array, filters?: ByteFilters) => {
    const rt = runtime(); // a fresh instance after a trap
    const { transport, io } = attachSocket(rt, socket, undefined, filters);
    const conn = new ServerConnection(
      rt,
      transport,
      io,
      settings,
      handler,
      options.onError,
      options.onStreamsLost,
      openFileForZeroCopy,
    );
    conns.add(conn);
    conn.done.then(() => conns.delete(conn));
    if (first) transport.push(first);
    socket.resume();
    return transport;
  };
  const http1 =
    options.http1 === false
      ? undefined
      : new Http1Server({
          handler,
          secure: !!options.tls,
          settings,
          onError: options.onError ?? (() => {}),
          onStreamsLost: options.onStreamsLost ?? (() => {}),
          openFile: openFileForZeroCopy,
        });
  const sniffing = new Set<net.Socket>();
  let closing = false;
  const route = (socket: net.Socket, first: FirstBytes) => {
    if (first.kind === 'h2') return void startH2(socket, first.bytes);
    if (first.kind === 'http1') return http1!.accept(socket);
    // h2c: the 101, then HTTP/2 as if the client had known; its own preface is taken off
    // (a client that sends anything else has broken the upgrade: the connection goes).
    socket.write(SWITCHING_PROTOCOLS);
    const recv = prefaceStripper(() => socket.destroy());
    const transport = startH2(socket, first.prelude, { send: settingsAckDropper(), recv });
    const rest = recv(first.rest);
    if (rest.length > 0) transport.push(rest);
  };
  const onSocket = (socket: net.Socket) => {
    if (closing) return socket.destroy(); // a TLS handshake that finished after close()
    const alpn = (socket as tls.TLSSocket).alpnProtocol;
    if (!http1 || alpn === 'h2') return void startH2(socket);
    if (alpn === 'http/1.1') return http1.accept(socket);
    // Cleartext, or TLS without ALPN: the first bytes say which (h2c's upgrade only in cleartext).
    sniffing.add(socket);
    socket.once('close', () => sniffing.delete(socket));
    const h2c = !options.tls && options.h2cUpgrade !== false;
    sniff(socket, settings.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS, h2c, (first) => {
      sniffing.delete(socket);
      route(socket, first);
    });
  };
  const server = options.tls
    ? tls.createServer(
        { cert: options.tls.cert, key: options.tls.key, ALPNProtocols: http1 ? ['h2', 'http/1.1'] : ['h2'] },
        onSocket,
      )
    : net.createServer(onSocket);
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  options.onListen?.({ hostname, port });
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => {
    resolveFinished = r;
  });
  return {
    port,
    hostname,
    url: `${options.tls ? 'https' : 'http'}://${hostname}:${port}`,
    finished,
    async close() {
      closing = true;
      const stopped = new Promise<void>((r) => server.close(() => r())); // once every socket is gone
      [...conns].forEach((c) => c.close());
      sniffing.forEach((s) => s.destroy());
      const http1Closed = http1?.close();
      await stopped;
      await Promise.all([...[...conns].map((c) => c.done), http1Closed]);
      resolveFinished();
    },
  };
}

// ---- client ---------------------------------------------------------------------------

export interface ClientOptions extends ConnectionOptions {
  /** TLS: verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** TLS: SNI name (default: the URL's host when it is a name). */
  servername?: string;
  /** TLS: trusted CA certificates (default: Node's bundle). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Sees every byte written to and read from the socket (e.g. a frame logger). */
  onBytes?: (direction: 'send' | 'recv', bytes: Uint8Array) => void;
  /** Lets the process exit while the session has no request in flight (the fetch pool does). */
  unrefWhenIdle?: boolean;
  /** Pushed responses (with `enablePush: true`); without it pushes are cancelled. */
  onPush?: (push: ClientPush) => void;
  /** The memory budget of the module instance, shared by every connection of the process. */
  limits?: Limits;
  /** Opens the session's socket yourself (a tunnel, a Deno.Conn, any pair of WHATWG
   *  streams): the session runs on it as is, with no TLS or ALPN of ours. */
  socket?: (url: URL) => StreamSocket;
}

/**
 * Opens an HTTP/2 session to `url`'s origin: `https:` over TLS with ALPN h2, `http:` as
 * h2c with prior knowledge. Returns at once; `session.ready` settles with the handshake
 * (requests wait for it), and a connect failure rejects it and every request. An origin
 * that does not speak HTTP/2 (ALPN without h2; an HTTP/1.x answer to the h2c preface)
 * fails it with an error whose `code` is 'H2WASM_NOT_HTTP2' and `http1` is true.
 * `internal.offerHttp1` (fetch, `h2wasm get`): ALPN offers http/1.1 after h2, so that
 * an HTTP/1.1 server says so in the handshake rather than with an alert.
 */
export function connect(
  url: string | URL,
  options: ClientOptions = {},
  internal: { offerHttp1?: boolean } = {},
): ClientSession {
  const { url: u, secure, host, port } = socketAddress(url);
  const { rejectUnauthorized, servername, ca, onBytes, unrefWhenIdle, limits, socket: open, ...connOptions } = options;
  if (open) return connectStreamSocket(u, open(u), { ...connOptions, limits });
  // The socket first: its SYN (and, over TLS, the handshake that follows) is in flight
  // while the first connection of a process compiles and instantiates the module (~2 ms
  // cold), instead of after. Its events come on a later turn, when it is attached.
  const socket: net.Socket = secure
    ? tls.connect({
        host,
        port,
        ALPNProtocols: internal.offerHttp1 ? ['h2', 'http/1.1'] : ['h2'],
        rejectUnauthorized,
        ca,
        servername: servername ?? (net.isIP(host) ? undefined : host),
      })
    : net.connect({ host, port });
  let rt: Runtime;
  try {
    rt = runtime();
    if (limits) rt.setLimits(limits);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  const { transport, io } = attachSocket(rt, socket, onBytes, undefined, CLIENT_SOCKET_BUFFER);
  const session = new ClientSession(rt, transport, io, {
    ...connOptions,
    scheme: secure ? 'https' : 'http',
    authority: u.host,
  });
  socket.on('error', (e) => {
    // TLS alert 120: the server offers no protocol we asked for (no h2 in its ALPN list;
    // when we offered http/1.1 too, not that either: then it is no HTTP/1.1 server).
    if (secure && /no application protocol/.test(e.message)) {
      const message = `${u.host} did not negotiate HTTP/2 over TLS (ALPN: the server refused h2)`;
      session.failWith(
        internal.offerHttp1
          ? Object.assign(new Error(message), { code: (e as NodeJS.ErrnoException).code, cause: e })
          : notHttp2(message, e),
      );
    } else session.failWith(e);
  });
  if (secure) {
    (socket as tls.TLSSocket).once('secureConnect', () => {
      const alpn = (socket as tls.TLSSocket).alpnProtocol;
      if (alpn !== 'h2') {
        // No ALPN at all is an HTTP/1.1 server too (HTTP/2 over TLS must negotiate h2).
        session.failWith(notHttp2(`${u.host} did not negotiate HTTP/2 over TLS (ALPN: ${alpn || 'none'})`));
        socket.destroy();
      }
    });
  } else {
    // An HTTP/1.x server answers the h2c preface with a status line (node:http: 400, then
    // it closes). Looked for in the connection's first bytes only, then the listener goes.
    const watch = http1AnswerWatch(u.host);
    const firstBytes = (d: Buffer) => {
      const verdict = watch(d);
      if (verdict !== undefined) socket.removeListener('data', firstBytes);
      if (!verdict) return;
      session.failWith(verdict);
      socket.destroy();
    };
    socket.prependListener('data', firstBytes);
  }
  if (unrefWhenIdle) session.onActivity = (n) => (n === 0 ? socket.unref() : socket.ref());
  return session;
}

/** fetch() over HTTP/2 with one pooled session per origin, and over HTTP/1.1 (node:http,
 *  node:https) for an origin that does not speak HTTP/2 (see fetch.ts). */
export const fetch = createFetch(
  (origin, options) => connect(origin, { ...options, unrefWhenIdle: true }, { offerHttp1: true }),
  http1Sender(),
);
