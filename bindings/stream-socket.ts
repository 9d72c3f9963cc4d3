// A transport over a socket made of WHATWG streams: a Cloudflare Workers socket
// (`connect()` from 'cloudflare:sockets', or the one a Worker's connect() handler gets),
// a Deno.Conn, a WebSocket bridge wrapped as one (websocket-socket.ts); client sessions
// and served connections on it. No `node:` import. Backpressure both ways: the engine writes only
// while fewer than SOCKET_BUFFER bytes wait in the writable, and the reader pauses while
// the engine has READ_HIGH_WATER bytes it has not taken.
import type { Limits, Runtime, Transport } from './runtime.js';
import { ClientSession, type SessionOptions } from './client.js';
import { runtime } from './shared-runtime.js';
import { http1AnswerWatch } from './fetch.js';
import { fetchHandler, overrideGlobalObjects } from './fetch-handler.js';
import { ServerConnection, type ConnectionOptions, type StreamHandler } from './server-conn.js';

/** What the transport needs of a socket: Workers' Socket and Deno.Conn have both streams. */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Closes both directions (Workers' Socket.close()); without it the writable is closed. */
  close?(): unknown;
}

/** Bytes the writable may hold before the engine waits for it (as the Node adapter's socket buffer). */
export const STREAM_SOCKET_BUFFER = 64 * 1024;

/** How long a clean close may wait for the socket to take what is queued before it is
 *  aborted (a peer that stopped reading must not hold it: as the Node adapter's linger). */
export const STREAM_SOCKET_LINGER_MS = 30_000;

/**
 * Wires `socket` to a new transport of `rt`; returns its io handle. `firstBytes` sees the
 * chunks read until it decides (an error it returns ends the connection, and goes to
 * `fail`, as does any error of the socket itself: the session reports its cause).
 */
export function attachStreamSocket(
  rt: Runtime,
  socket: StreamSocket,
  firstBytes?: (chunk: Uint8Array) => Error | null | undefined,
  fail?: (e: Error) => void,
): { transport: Transport; io: number } {
  const writer = socket.writable.getWriter();
  const reader = socket.readable.getReader();
  let pending = 0; // bytes handed to the writer and not yet written
  let state: 'open' | 'closing' | 'failed' = 'open';
  const failed = () => state === 'failed'; // read where the closures below may have changed it
  let resume: (() => void) | undefined; // the read loop waits on it while the engine is full
  const failWith = (e: unknown) => {
    fail?.(e instanceof Error ? e : new Error(String(e)));
    transport.end(true);
  };
  // A clean end lets what is queued go first (close() waits for it), within the linger; a
  // failed one, or the linger's end, aborts both directions at once.
  const shut = (abort: boolean) => {
    if (state === 'failed' || (state === 'closing' && !abort)) return;
    if (abort) {
      state = 'failed';
      resume?.();
      void writer.abort().catch(() => {});
      void reader.cancel().catch(() => {});
      void Promise.resolve(socket.close?.()).catch(() => {});
      return;
    }
    state = 'closing';
    const linger = setTimeout(() => shut(true), STREAM_SOCKET_LINGER_MS);
    (linger as unknown as { unref?: () => void }).unref?.();
    void writer
      .close()
      .then(() => socket.close?.())
      .catch(() => {})
      .finally(() => clearTimeout(linger));
  };
  const { transport, io } = rt.transport({
    write: (bytes, flushed) => {
      if (state !== 'open') return true; // the transport sees EOF from the reader next
      pending += bytes.length;
      writer.write(bytes).then(() => {
        const wasFull = pending >= STREAM_SOCKET_BUFFER;
        pending -= bytes.length;
        flushed?.();
        if (wasFull && pending < STREAM_SOCKET_BUFFER) transport.writable();
      }, failWith);
      return pending < STREAM_SOCKET_BUFFER;
    },
    end: (failed) => shut(failed ?? false),
    room: () => STREAM_SOCKET_BUFFER - pending,
  });
  transport.onDrain = () => {
    resume?.();
    resume = undefined;
  };
  // Reads into the transport, waiting while the engine holds too much unread.
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || failed()) break;
        if (firstBytes) {
          const verdict = firstBytes(value);
          if (verdict !== undefined) firstBytes = undefined;
          if (verdict) return failWith(verdict);
        }
        if (value.length > 0 && !transport.push(value)) await new Promise<void>((r) => (resume = r));
      }
      transport.end();
    } catch (e) {
      if (!failed()) failWith(e);
    }
  })();
  return { transport, io };
}

export interface StreamConnectOptions extends SessionOptions {
  /** The memory budget of the module instance, shared by every connection. */
  limits?: Limits;
  /** The runtime (module instance) that drives the connection; the shared one by default
   *  (the workerd entry gives each connection its own). */
  runtime?: Runtime;
}

/**
 * An HTTP/2 session over `socket` (already connected to `url`'s origin): h2c with prior
 * knowledge, or TLS that the socket did (without ALPN where the runtime cannot offer it).
 * An origin that answers the preface in HTTP/1.1 fails the session with NOT_HTTP2.
 */
export function connectStreamSocket(
  url: string | URL,
  socket: StreamSocket,
  options: StreamConnectOptions = {},
): ClientSession {
  const u = typeof url === 'string' ? new URL(url) : url;
  const { limits, runtime: own, ...sessionOptions } = options;
  const rt = own ?? runtime();
  if (limits) rt.setLimits(limits);
  let session: ClientSession | undefined; // read only once bytes arrive, after it is made
  const watch = http1AnswerWatch(u.host);
  const { transport, io } = attachStreamSocket(rt, socket, watch, (e) => session?.failWith(e));
  session = new ClientSession(rt, transport, io, {
    scheme: u.protocol === 'https:' ? 'https' : 'http',
    authority: u.host,
    ...sessionOptions,
  });
  return session;
}

export interface StreamServeOptions {
  /** WHATWG handler (as serve()'s `fetch`). */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** As serve()'s `overrideGlobalObjects` (process-wide), but off unless true: the cost it
   *  removes is undici's (Node), and a Worker's Response is the runtime's own. */
  overrideGlobalObjects?: boolean;
  /** Low-level handler (as serve()'s `handler`). */
  handler?: StreamHandler;
  /** Settings and limits of the connection. */
  settings?: ConnectionOptions;
  /** Whether the socket is TLS (the default :scheme of WHATWG requests). */
  secure?: boolean;
  /** Hears what a handler threw (the stream was reset with INTERNAL_ERROR). */
  onError?: (error: unknown) => void;
  /** The runtime that drives the connection (the shared one by default). */
  runtime?: Runtime;
}

/**
 * Serves HTTP/2 (prior knowledge: the client's preface first) on an accepted `socket`, such
 * as the one a Worker's `connect()` handler receives. Resolves when the connection is over.
 */
export async function serveStreamSocket(socket: StreamSocket, options: StreamServeOptions): Promise<void> {
  const handler = options.handler ?? (options.fetch ? fetchHandler(options.fetch, !!options.secure) : undefined);
  if (!handler) throw new TypeError('h2wasm: serveStreamSocket() needs fetch or handler');
  if (options.fetch && options.overrideGlobalObjects) overrideGlobalObjects();
  const rt = options.runtime ?? runtime();
  const { transport, io } = attachStreamSocket(rt, socket);
  const conn = new ServerConnection(rt, transport, io, options.settings ?? {}, handler, options.onError);
  await conn.done;
}
