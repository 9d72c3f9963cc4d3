// The client half of the host: one HTTP/2 connection (a ClientSession) multiplexing
// requests over a transport the caller already connected. No `node:` import; node.ts
// opens the sockets (connect) and fetch.ts builds WHATWG fetch on top.
//
// Per request: h2_request_new + set_uri_parts + headers, h2_clientconn_send, and for a
// body a send stream: a small body is written into it at the pace capacity allows
// (reserve_capacity / poll_capacity, as the server's respond does), then trailers; a large
// or streamed one goes zero-copy, as a data source whose frames the transport takes from
// the chunks themselves (no-copy-feed.ts), the send stream kept for the id and resets.
// The response body's first chunk is taken with the head (in the same poll round: a small
// response is whole when its head resolves, with one promise); after it, h2_body_data only
// when the consumer pulls, so flow control applies backpressure (one chunk ahead at most).
import { H2E, H2_PSEUDO } from './abi.js';
import { Runtime, TASK, INTERNAL_ERROR, type Transport } from './runtime.js';
import type { NoCopyFeed } from './no-copy-feed.js';
import { applyOptions, OPTION_KEYS, type ConnectionOptions } from './server-conn.js';
import { CONNECTION_FIELDS } from './http-fields.js';

/** RFC 9113 §7 error code names, by number. */
export const H2_ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
] as const;

/** RFC 9113 CANCEL: what a stream we let go of is reset with. */
const CANCEL = 8;

export function errorName(code: number): string {
  return H2_ERROR_NAMES[code] ?? `UNKNOWN_ERROR_0x${code.toString(16)}`;
}

/** What both error classes carry. */
export interface H2ErrorInfo {
  /** RFC 9113 error code name ('REFUSED_STREAM', 'CANCEL', 'NO_ERROR' when none applies). */
  readonly code: string;
  /** The same code as a number (RFC 9113 §7). */
  readonly errorCode: number;
  /** The ABI's H2E_* result behind it (9 = closed/reset, 3 = unexpected EOF, 6 = peer misbehaved, …). */
  readonly h2Code: number;
  /** True when the request was not processed by the server and may be retried (REFUSED_STREAM, GOAWAY). */
  readonly retryable: boolean;
}

/** A stream failed: reset by the peer (or by us), refused, or cut short; the connection may live on. */
export class H2StreamError extends Error implements H2ErrorInfo {
  override readonly name: string = 'H2StreamError';
  readonly code: string;
  constructor(
    message: string,
    readonly errorCode: number,
    readonly h2Code: number,
    readonly retryable: boolean,
  ) {
    super(message);
    this.code = errorName(errorCode);
  }
}

/** The connection failed (handshake, protocol error, transport closed, GOAWAY with an error). */
export class H2ConnectionError extends Error implements H2ErrorInfo {
  override readonly name: string = 'H2ConnectionError';
  readonly code: string;
  constructor(
    message: string,
    readonly errorCode: number,
    readonly h2Code: number,
    readonly retryable: boolean,
  ) {
    super(message);
    this.code = errorName(errorCode);
  }
}

/** An AbortError as fetch raises it (a DOMException where the runtime has one). */
export function abortError(signal?: AbortSignal): Error {
  const reason = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  if (typeof DOMException !== 'undefined') return new DOMException('This operation was aborted', 'AbortError');
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

export type RequestBody =
  string | Uint8Array | ArrayBuffer | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | null | undefined;

export interface ClientRequestOptions {
  method?: string;
  /** Origin-form target ('/path?query'); '/' by default. */
  path?: string;
  /** Overrides :authority (the session's host:port by default). */
  authority?: string;
  headers?: Iterable<[string, string]> | Record<string, string>;
  body?: RequestBody;
  trailers?: Iterable<[string, string]> | Record<string, string>;
  signal?: AbortSignal;
  /**
   * An extended CONNECT (RFC 8441): the :protocol to tunnel ('websocket'…); the method is
   * then CONNECT. The server must have enabled it (SETTINGS_ENABLE_CONNECT_PROTOCOL), else
   * the request fails without being sent. The body is the tunnel's outgoing bytes, the
   * response body its incoming ones.
   */
  protocol?: string;
  /** Hears each 1xx response before the final one (103 Early Hints, 100 Continue). */
  onInformational?: (status: number, headers: [string, string][]) => void;
}

export interface ClientResponse {
  readonly status: number;
  /** Response fields in order (names lowercase; no pseudo-headers). */
  readonly headers: [string, string][];
  /** The stream id when the request had a body (read from its send stream); 0 otherwise. */
  readonly streamId: number;
  /** The body, chunk by chunk (read once; breaking off resets the stream with CANCEL). */
  readonly body: AsyncIterable<Uint8Array>;
  /** The same body as a WHATWG ReadableStream (created on first access; read one or the other). */
  readonly stream: ReadableStream<Uint8Array>;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  /** The trailers once the body ended (reads the body to its end if nobody does); [] when none. */
  trailers(): Promise<[string, string][]>;
}

/** A response the server pushed (RFC 9113 §8.4), with the request it promised. */
export interface ClientPush {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly headers: [string, string][];
  /** The pushed response (read its body, or break off to reset it with CANCEL). */
  readonly response: Promise<ClientResponse>;
}

export interface SessionOptions extends ConnectionOptions {
  /**
   * Called for each pushed response (needs `enablePush: true`). Without it, pushes are
   * reset with CANCEL as their heads arrive.
   */
  onPush?: (push: ClientPush) => void;
  /** 'https' or 'http' (the :scheme of requests). */
  scheme?: string;
  /** host[:port] for :authority. */
  authority?: string;
}

const encoder = new TextEncoder();
/** Paths up to this long are kept encoded as a session's last target (setTarget). */
const TARGET_CACHE_MAX = 2048;
const decoder = new TextDecoder();

/** `parts` (`total` bytes in all) as one array: the part itself when there is one. */
export function joinBytes(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A ReadableStream pulling from `it` one chunk per read (nothing read ahead); cancel returns it. */
export function iteratorStream(it: AsyncIterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        try {
          const { value, done } = await it.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (e) {
          controller.error(e);
        }
      },
      cancel: async () => {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

const NO_FIELDS: [string, string][] = [];

function fieldList(h: Iterable<[string, string]> | Record<string, string> | undefined): [string, string][] {
  if (!h) return [];
  if (Symbol.iterator in (h as object))
    return [...(h as Iterable<[string, string]>)].map(([k, v]) => [String(k), String(v)]);
  return Object.entries(h as Record<string, string>).map(([k, v]) => [k, String(v)]);
}

/** Turns an error handle into the typed error (and frees it). */
function typedError(rt: Runtime, err: number, connFailed: boolean, prefix: string): H2StreamError | H2ConnectionError {
  const e = rt.errorMessage(err);
  const message = `${prefix}: ${e.message}${e.reason ? ` (${errorName(e.reason)})` : ''}`;
  if (e.code === H2E.CLOSED && !connFailed) return new H2StreamError(message, e.reason, e.code, e.retryable);
  if (e.retryable) return new H2StreamError(message, e.reason, e.code, e.retryable);
  return new H2ConnectionError(message, e.reason, e.code, e.retryable);
}

/** The ConnectionOptions that are SETTINGS parameters (h2_clientconn_submit_setting's keys). */
const SETTINGS_NAMES = [
  'headerTableSize',
  'enablePush',
  'maxConcurrentStreams',
  'initialWindowSize',
  'maxFrameSize',
  'maxHeaderListSize',
  'enableConnectProtocol',
] as const;

/** One HTTP/2 connection from the client side. */
export class ClientSession {
  conn = 0;
  /** Resolves once the server's SETTINGS arrived; rejects when the handshake fails. */
  readonly ready: Promise<void>;
  /** Resolves when the connection is closed (cleanly or not). */
  readonly closed: Promise<void>;
  private readonly unlistenBroken: (() => void) | undefined;
  /** The error the connection ended with, if any. */
  error: H2ConnectionError | undefined;
  /** Called with the number of requests in flight whenever it changes (adapters ref/unref sockets). */
  onActivity: ((inFlight: number) => void) | undefined;
  /** See SessionOptions.onPush (may be set after connect, before pushes arrive). */
  onPush: ((push: ClientPush) => void) | undefined;
  private hostError: Error | undefined;
  private resolveClosed!: () => void;
  private isClosed = false;
  private closing = false;
  private inFlight = 0;
  readonly scheme: string;
  readonly authority: string;

  constructor(
    readonly rt: Runtime,
    readonly transport: Transport,
    io: number,
    options: SessionOptions = {},
  ) {
    const { scheme = 'https', authority = 'localhost', onPush, ...connOptions } = options;
    this.onPush = onPush;
    this.scheme = scheme;
    this.authority = authority;
    this.origin = scheme + authority;
    this.originAscii = encoder.encode(this.origin).length === this.origin.length;
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
    this.unlistenBroken = rt.whenBroken(() => {
      this.error ??= new H2ConnectionError(
        `h2wasm: the module instance trapped (${rt.broken?.message}); the connection failed`,
        INTERNAL_ERROR,
        H2E.ERROR,
        false,
      );
      this.finish(true);
    });
    const ex = rt.ex;
    const opts = ex.h2_clientconn_options_new();
    ex.h2_clientconn_options_exec(opts, rt.exec);
    try {
      applyOptions(rt, opts, 'h2_clientconn_options_set', connOptions);
    } catch (e) {
      ex.h2_clientconn_options_free(opts);
      ex.h2_io_free(io);
      this.finish(true); // nothing was sent: no reason to give the socket time to drain
      this.ready = Promise.reject(e);
      this.ready.catch(() => {});
      return;
    }
    this.ready = new Promise((resolve, reject) => {
      rt.submit(ex.h2_clientconn_handshake(io, opts), (task, type) => {
        if (type !== TASK.CLIENTCONN) {
          const err =
            type === TASK.ERROR
              ? typedError(rt, ex.h2_task_value(task), true, `HTTP/2 handshake with ${authority} failed`)
              : new H2ConnectionError(`HTTP/2 handshake with ${authority} failed: connection closed`, 0, 3, false);
          this.error =
            err instanceof H2ConnectionError
              ? err
              : new H2ConnectionError(err.message, err.errorCode, err.h2Code, false);
          this.finish();
          reject(this.hostError ?? this.error);
          return;
        }
        this.conn = ex.h2_task_value(task);
        resolve();
        if (connOptions.enablePush) this.pollPush(true);
        rt.submit(ex.h2_clientconn_poll_close(this.conn), (t, ty) => {
          if (ty === TASK.ERROR)
            this.error = typedError(rt, ex.h2_task_value(t), true, 'connection closed') as H2ConnectionError;
          this.finish();
        });
      });
    });
    this.ready.catch(() => {});
  }

  /** True once the connection closed or is going away (a pool opens a new one then). */
  get isGoingAway(): boolean {
    return this.isClosed || this.closing;
  }

  /** True while new requests can be sent on this session. */
  get isOpen(): boolean {
    return !this.isClosed && !this.closing;
  }

  /** Requests started and not yet finished (response body read or abandoned). */
  get activeRequests(): number {
    return this.inFlight;
  }

  /** Sends a request; resolves with the response head once it arrives (the body streams). */
  request(options: ClientRequestOptions = {}): Promise<ClientResponse> {
    // Connected: the request goes now, and its one promise is the head's.
    if (this.conn && !this.isClosed) {
      const signal = options.signal;
      if (signal?.aborted) return Promise.reject(abortError(signal));
      try {
        return new ClientStream(this, options).start();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.requestWhenReady(options);
  }

  private async requestWhenReady(options: ClientRequestOptions): Promise<ClientResponse> {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal);
    await this.ready;
    if (this.isClosed || !this.conn)
      throw this.hostError ?? this.error ?? new H2ConnectionError('h2wasm: session is closed', 0, H2E.CLOSED, true);
    if (signal?.aborted) throw abortError(signal);
    return new ClientStream(this, options).start();
  }

  // :scheme, :authority and :path in one crossing, the session's own origin prefixed once.
  private targetReq = 0;
  private targetSchemeLen = 0;
  private targetAuthorityLen = 0;
  private readonly origin: string;
  private readonly originAscii: boolean;
  private readonly setTargetIn = (p: number, n: number): number => {
    const s = this.targetSchemeLen;
    const a = this.targetAuthorityLen;
    return this.rt.ex.h2_request_set_uri_parts(this.targetReq, p, s, p + s, a, p + s + a, n - s - a);
  };

  /** @internal Sets a request's :scheme, :authority (the session's unless given) and :path. */
  setTarget(req: number, authority: string | undefined, path: string): number {
    if (authority !== undefined && authority !== this.authority)
      return this.rt.setTarget(req, this.scheme, authority, path);
    if (!this.originAscii) return this.rt.setTarget(req, this.scheme, this.authority, path);
    this.targetReq = req;
    this.targetSchemeLen = this.scheme.length;
    this.targetAuthorityLen = this.authority.length;
    // The last path's target kept encoded: a client asking for the same path again (a
    // poller, a load test) copies bytes instead of joining and encoding a string.
    if (path !== this.lastPath) {
      this.lastPath = path;
      this.lastTarget = path.length <= TARGET_CACHE_MAX ? encoder.encode(this.origin + path) : undefined;
    }
    return this.rt.with(this.lastTarget ?? this.origin + path, this.setTargetIn);
  }
  private lastPath: string | undefined = undefined;
  private lastTarget: Uint8Array | undefined = undefined;

  /** One PING round trip; resolves with the RTT in ms. */
  async ping(): Promise<number> {
    await this.ready;
    if (this.isClosed) throw this.error ?? new H2ConnectionError('h2wasm: session is closed', 0, H2E.CLOSED, false);
    const { type, value } = await this.rt.wait(this.rt.ex.h2_clientconn_ping(this.conn));
    if (type === TASK.PING) return value;
    if (type === TASK.ERROR) throw typedError(this.rt, value, true, 'ping failed');
    throw new H2ConnectionError('h2wasm: ping failed', 0, H2E.CLOSED, false);
  }

  /**
   * Moves the connection's receive window to `size` bytes (node's setLocalWindowSize;
   * h2_clientconn_set_target_window_size): raised, a WINDOW_UPDATE opens it at once.
   * Before the handshake it applies once connected. Throws a RangeError for a size
   * outside 1..2^31-1.
   */
  setConnectionWindow(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff)
      throw new RangeError(`h2wasm: invalid connection window ${size}`);
    this.whenConnected((conn) => this.rt.ex.h2_clientconn_set_target_window_size(conn, size));
  }

  /**
   * Announces new values of our SETTINGS after the handshake (node's session.settings());
   * the server is bound by them once it acknowledges. Keys as in ConnectionOptions that
   * are SETTINGS (headerTableSize, maxConcurrentStreams, initialWindowSize, maxFrameSize,
   * maxHeaderListSize, enablePush, enableConnectProtocol); others are ignored. Each key
   * goes in a SETTINGS frame of its own: returns how many (each will be acknowledged).
   */
  updateSettings(settings: ConnectionOptions): number {
    const keys: [number, number][] = [];
    for (const name of SETTINGS_NAMES) {
      const v = settings[name];
      if (v !== undefined) keys.push([OPTION_KEYS[name], typeof v === 'boolean' ? (v ? 1 : 0) : v]);
    }
    this.whenConnected((conn) => {
      for (const [key, value] of keys) {
        const rc = this.rt.ex.h2_clientconn_submit_setting(conn, key, BigInt(value));
        if (rc !== 0) return rc;
      }
      return 0;
    });
    return keys.length;
  }

  /** Runs `fn` on the connection now (a refusal throws), or once connected (a failed handshake skips it). */
  private whenConnected(fn: (conn: number) => number): void {
    const run = () => {
      if (this.isClosed || !this.conn) return;
      const rc = fn(this.conn);
      this.rt.schedule();
      if (rc !== 0 && rc !== H2E.CLOSED) throw new RangeError(`h2wasm: the connection refused the change (code ${rc})`);
    };
    if (this.conn) run();
    else
      this.ready.then(
        () => {
          try {
            run();
          } catch {
            // Asked before the connection existed: nobody is left to tell.
          }
        },
        () => {},
      );
  }

  /** Takes pushed requests as they come, until the connection can push no more. */
  private pollPush(retry: boolean): void {
    const rt = this.rt;
    const ex = rt.ex;
    if (this.isClosed || !this.conn) return;
    rt.submit(ex.h2_clientconn_poll_push(this.conn), (task, type) => {
      if (type === TASK.REQUEST) {
        const req = ex.h2_task_value(task);
        this.pollPush(retry);
        this.pushed(req);
      } else if (type === TASK.EMPTY && retry && !this.isClosed && !this.closing) {
        // EMPTY also while our SETTINGS (ENABLE_PUSH) await their ACK: after a PING round
        // trip they are acknowledged, so ask once more.
        this.ping().then(
          () => this.pollPush(false),
          () => {},
        );
      } else if (type === TASK.ERROR) ex.h2_error_free(ex.h2_task_value(task));
    });
  }

  private pushed(req: number): void {
    const rt = this.rt;
    const ex = rt.ex;
    const info = {
      method: rt.pseudo(req, H2_PSEUDO.METHOD),
      scheme: rt.pseudo(req, H2_PSEUDO.SCHEME),
      authority: rt.pseudo(req, H2_PSEUDO.AUTHORITY),
      path: rt.pseudo(req, H2_PSEUDO.PATH),
      headers: rt.headers(ex.h2_request_headers(req)),
    };
    const task = ex.h2_request_pushed_response(req);
    ex.h2_request_free(req);
    if (!task) return;
    const stream = new ClientStream(this, {});
    this.track(1);
    const response = stream.awaitHead(task);
    if (this.onPush) this.onPush({ ...info, response });
    else
      response.then(
        (r) => r.body[Symbol.asyncIterator]().return?.(),
        () => {},
      );
  }

  /** Graceful close: GOAWAY, in-flight requests finish, then the connection closes. */
  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.ready;
    } catch {
      return;
    }
    if (!this.isClosed && this.conn) this.rt.ex.h2_clientconn_graceful_shutdown(this.conn);
    this.rt.schedule();
    await this.closed;
  }

  /** Abrupt close: every stream fails, the transport is closed now. */
  destroy(): void {
    this.closing = true;
    if (this.isClosed) return;
    if (this.conn) this.rt.ex.h2_clientconn_free(this.conn);
    this.conn = 0;
    this.rt.schedule();
    this.finish(true);
  }

  /**
   * The transport failed for a reason the host knows better than the module (a socket
   * error, TLS without h2 in ALPN): handshake and requests report this error.
   */
  failWith(error: Error): void {
    this.hostError ??= error;
    this.transport.end(true);
  }

  /** @internal */
  track(delta: number): void {
    this.inFlight += delta;
    this.onActivity?.(this.inFlight);
  }

  /** `aborted`: destroyed by its owner (its socket need not be given long to drain). */
  private finish(aborted = false): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closing = true;
    this.unlistenBroken?.();
    const conn = this.conn;
    if (conn) {
      // Streams still waiting learn the connection ended before the handle goes.
      this.rt.ex.h2_clientconn_free(conn);
      this.rt.schedule();
    }
    this.conn = 0;
    const failed = aborted || this.error !== undefined || this.hostError !== undefined;
    this.transport.sink.end(failed);
    this.rt.dropTransport(this.transport, failed);
    this.resolveClosed();
  }

  /** @internal */
  get connectionFailed(): boolean {
    return this.isClosed || this.error !== undefined;
  }
}

/** The end of a body: one settled promise every reader shares (no allocation per request). */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true as const });
const DONE_PROMISE: Promise<IteratorResult<Uint8Array>> = Promise.resolve(DONE);

/** A response body as an async iterable and its iterator in one object (read once). */
class BodyReader implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  constructor(private readonly s: ClientStream) {}
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.s.startBody();
    return this;
  }
  next(): Promise<IteratorResult<Uint8Array>> {
    return this.s.pull();
  }
  return(): Promise<IteratorResult<Uint8Array>> {
    return this.s.stopBody();
  }
}

/** One request/response exchange. */
export class ClientStream implements ClientResponse {
  status = 0;
  streamId = 0;
  /** The response head came with END_STREAM: no body, no trailers (gRPC's trailers-only answer). */
  endedWithHead = false;
  // The response head's field list, copied as bytes and decoded when first asked for.
  private headBytes: Uint8Array | undefined = undefined;
  private headerList: [string, string][] | undefined = undefined;
  private readonly rt: Runtime;
  private send = 0;
  /** The request body's zero-copy feed (a large or streamed body), and its release. */
  private feed: NoCopyFeed | undefined = undefined;
  private releaseFeed: (() => void) | undefined = undefined;
  private bodyHandle = 0;
  /** Its 1xx handler's userdata in the runtime (0: none). */
  private informationalId = 0;
  private aborted = false;
  private done = false;
  private bodyStarted = false;
  private bodyEnded = false;
  // Read ahead: the first chunk is taken as soon as the head is in (in the same poll round,
  // so a small response is whole when its head resolves), at most one chunk, never more.
  /** A chunk taken and not yet handed to the reader. */
  private ahead: Uint8Array | undefined = undefined;
  /** A read-ahead task is out; a reader waits for it (aheadWaiter) rather than ask again. */
  private aheadPending = false;
  private aheadWaiter: (() => void) | undefined = undefined;
  /** The read ahead found the body's end with nothing left to read (no trailers). */
  private wireEnded = false;
  /** The read ahead finished EMPTY: the end, with trailers (or none) still to be asked for. */
  private aheadEmpty = false;
  private trailerFields: [string, string][] | undefined = undefined;
  private endWaiters: { resolve: () => void; reject: (e: unknown) => void }[] | undefined = undefined;
  private failure: unknown = undefined;
  private readableStream: ReadableStream<Uint8Array> | undefined = undefined;
  private reader: BodyReader | undefined = undefined;
  private onAbort: (() => void) | undefined = undefined;
  private rejectHead: ((e: unknown) => void) | undefined = undefined;
  private resolveHead: ((r: ClientResponse) => void) | undefined = undefined;

  constructor(
    private session: ClientSession,
    private options: ClientRequestOptions,
  ) {
    this.rt = session.rt;
  }

  start(): Promise<ClientResponse> {
    const rt = this.rt;
    const ex = rt.ex;
    const o = this.options;
    const req = ex.h2_request_new();
    // A new request is a GET already: only another method crosses.
    if (o.method !== undefined || o.protocol) {
      const method = (o.method ?? 'CONNECT').toUpperCase();
      if (method !== 'GET') rt.with(method, (p, n) => ex.h2_request_set_method(req, p, n));
    }
    const path = o.path ?? '/';
    const rc = this.session.setTarget(req, o.authority, path);
    if (rc !== 0) {
      ex.h2_request_free(req);
      return Promise.reject(new TypeError(`h2wasm: invalid request target ${JSON.stringify(path)}`));
    }
    if (o.protocol && rt.with(o.protocol, (p, n) => ex.h2_request_set_protocol(req, p, n)) !== 0) {
      ex.h2_request_free(req);
      return Promise.reject(new TypeError(`h2wasm: invalid :protocol ${JSON.stringify(o.protocol)}`));
    }
    const trailers = o.trailers ? fieldList(o.trailers) : NO_FIELDS;
    if (o.headers || trailers.length) {
      const fields = fieldList(o.headers).filter(
        ([k]) => !CONNECTION_FIELDS.has(k.toLowerCase()) && !k.startsWith(':'),
      );
      // RFC 9110 §6.6.2: a sender of trailers SHOULD announce them in a Trailer field (Go's
      // server drops trailer fields that were not announced).
      if (trailers.length && !fields.some(([k]) => k.toLowerCase() === 'trailer')) {
        fields.push(['trailer', [...new Set(trailers.map(([k]) => k.toLowerCase()))].join(', ')]);
      }
      if (fields.length) rt.setHeaders(ex.h2_request_headers(req), fields);
    }
    const body = o.body;
    const emptyBytes =
      body == null ||
      (typeof body === 'string' && body.length === 0) ||
      ((body instanceof Uint8Array || body instanceof ArrayBuffer) && body.byteLength === 0);
    const streaming = !emptyBytes || trailers.length > 0;
    if (streaming) this.send = ex.h2_request_send_stream(req);
    if (this.send && zeroCopyBody(body)) this.feedBody(req, trailers);
    if (o.onInformational) {
      this.informationalId = rt.onInformational(o.onInformational);
      ex.h2_request_on_informational(req, this.informationalId);
    }
    const task = ex.h2_clientconn_send(this.session.conn, req);
    this.session.track(1);
    const signal = o.signal;
    const head = this.awaitHead(task);
    if (signal) {
      this.onAbort = () => this.abort(signal);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (this.send) {
      this.streamId = ex.h2_send_stream_stream_id(this.send);
      this.upload(body, trailers).catch((e) => {
        // The upload failed on our side (a source threw): reset the stream, fail the request.
        this.feed?.fail();
        if (this.send && !this.done) {
          ex.h2_send_stream_send_reset(this.send, this.aborted ? 8 : 2);
          rt.schedule();
        }
        if (!this.aborted && !(e instanceof H2StreamError)) {
          this.failure = e;
          this.rejectHead?.(e);
          this.failEnd(e);
        }
      });
    }
    return head;
  }

  /** Waits for the response head of `task` (a send or a pushed response). */
  awaitHead(task: number): Promise<ClientResponse> {
    const head = new Promise<ClientResponse>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.rt.submit(task, (t, type) => this.headDone(t, type));
    return head;
  }

  /** The head task finished: RESPONSE (read its body's first chunk too), or the error. */
  private headDone(t: number, type: number): void {
    const rt = this.rt;
    const ex = rt.ex;
    const resolve = this.resolveHead!;
    const reject = this.rejectHead!;
    this.resolveHead = undefined;
    this.rejectHead = undefined;
    const value = ex.h2_task_value(t);
    if (type === TASK.RESPONSE) {
      this.status = ex.h2_response_status(value);
      this.headBytes = rt.headerBytes(ex.h2_response_headers(value));
      this.bodyHandle = ex.h2_response_body(value);
      this.endedWithHead = !this.bodyHandle || ex.h2_body_is_end(this.bodyHandle) === 1;
      ex.h2_response_free(value);
      if (this.send) this.streamId = ex.h2_send_stream_stream_id(this.send);
      if (this.aborted) {
        // Aborted before the head: let go of the stream now (CANCEL).
        if (this.bodyHandle) ex.h2_body_free(this.bodyHandle);
        this.bodyHandle = 0;
        this.release();
        rt.schedule();
        return;
      }
      if (this.endedWithHead) this.wireEnded = true;
      else {
        // What came with the head is read in this call (h2_body_read): a small response is
        // whole when its head resolves, with no read-ahead task.
        const chunk = rt.readBody(this.bodyHandle);
        if (chunk === undefined) this.readAhead();
        else {
          this.ahead = chunk;
          if (ex.h2_body_is_end(this.bodyHandle) === 1) this.wireEnded = true;
        }
      }
      resolve(this);
      return;
    }
    const err =
      type === TASK.ERROR
        ? typedError(rt, value, this.session.connectionFailed, 'request failed')
        : new H2StreamError('request failed: stream closed without a response', 0, H2E.CLOSED, false);
    this.failure = err;
    this.release();
    if (!this.aborted) reject(err);
  }

  /**
   * Takes the body's next chunk now: what arrived with the head is then in hand when the
   * head resolves (its task finishes in the same poll round), and a response that is
   * whole is read with no further task. One chunk at most: the window is given back for
   * it only, as if the reader had pulled once.
   */
  private readAhead(): void {
    this.aheadPending = true;
    this.rt.submit(this.rt.ex.h2_body_data(this.bodyHandle), (t, type) => this.aheadDone(t, type));
  }

  private aheadDone(t: number, type: number): void {
    const rt = this.rt;
    const ex = rt.ex;
    this.aheadPending = false;
    const value = ex.h2_task_value(t);
    if (this.aborted || this.done) {
      if (type === TASK.BUF) ex.h2_buf_free(value);
      else if (type === TASK.ERROR) ex.h2_error_free(value);
    } else if (type === TASK.BUF) {
      const chunk = rt.takeBuf(value);
      if (chunk.length > 0) this.ahead = chunk;
      if (ex.h2_body_is_end(this.bodyHandle) === 1) this.wireEnded = true;
    } else if (type === TASK.EMPTY) {
      this.aheadEmpty = true;
    } else {
      this.bodyFailed(type, value);
    }
    this.wakeReader();
  }
  /** The body's read task ended in failure: the error the body ends with (it is released). */
  private bodyFailed(type: number, value: number): Error {
    const err =
      type === TASK.ERROR
        ? typedError(this.rt, value, this.session.connectionFailed, 'response body')
        : new H2StreamError('response body failed', 0, H2E.CLOSED, false);
    this.failure = err;
    this.release();
    this.failEnd(err);
    return err;
  }

  private wakeReader(): void {
    const w = this.aheadWaiter;
    this.aheadWaiter = undefined;
    w?.();
  }

  /**
   * A large or streamed body goes zero-copy: a data source that the module frames and
   * whose frames' data the transport takes straight from the chunks (no-copy-feed.ts), its
   * trailers after it. The send stream stays: the stream's id and resets with a code.
   */
  private feedBody(req: number, trailers: [string, string][]): void {
    const rt = this.rt;
    const ex = rt.ex;
    const nc = rt.noCopyFeed(this.session.transport);
    if (trailers.length) {
      const h = ex.h2_headers_new();
      rt.setHeaders(h, trailers);
      ex.h2_body_set_trailers(nc.body, h);
    }
    if (ex.h2_request_set_body(req, nc.body) !== 0) {
      nc.release(); // refused (and freed): the send stream carries the body instead
      return;
    }
    this.feed = nc.feed;
    this.releaseFeed = nc.release;
  }

  /** Hands the body to the zero-copy feed at the pace the transport takes it. */
  private async uploadFed(feed: NoCopyFeed, body: RequestBody): Promise<void> {
    const bytes = wholeBody(body);
    if (bytes) {
      feed.push(bytes, true);
    } else if (body != null) {
      for await (const chunk of bodyChunks(body)) {
        if (this.done || this.aborted) return;
        const c = asBytes(chunk);
        if (!c.length) continue;
        // A small chunk is copied (and more are taken while little is in hand); a large one
        // goes as a view, and the next is taken once it was written and flushed.
        const view = c.length >= FEED_COPY_BELOW;
        feed.push(view ? c : c.slice(), view);
        const wait = feed.ready(view ? 0 : FEED_READ_AHEAD, view);
        if (wait) await wait;
      }
      if (this.done || this.aborted) return;
    }
    feed.end();
  }

  /** Writes the body then the trailers, paced by capacity. */
  private async upload(body: RequestBody, trailers: [string, string][]): Promise<void> {
    const rt = this.rt;
    const ex = rt.ex;
    if (this.feed) return this.uploadFed(this.feed, body);
    const hasTrailers = trailers.length > 0;
    const bytes = wholeBody(body);
    if (bytes) {
      await this.write(bytes, !hasTrailers);
    } else if (body != null) {
      for await (const chunk of bodyChunks(body)) {
        if (this.done || this.aborted) return;
        const c = asBytes(chunk);
        if (c.length) await this.write(c, false);
      }
      if (!hasTrailers && !this.done) this.sendData(new Uint8Array(0), true);
    } else if (!hasTrailers) {
      this.sendData(new Uint8Array(0), true);
    }
    if (hasTrailers && !this.done && !this.aborted) {
      const h = ex.h2_headers_new();
      rt.setHeaders(h, trailers);
      const rc = ex.h2_send_stream_send_trailers(this.send, h);
      if (rc !== 0 && rc !== H2E.CLOSED) throw new Error(`h2wasm: trailers not sent (code ${rc})`);
    }
    rt.schedule();
  }

  /** Queues `chunk`; when the send buffer is full, waits for capacity and sends what it allows. */
  private async write(chunk: Uint8Array, end: boolean): Promise<void> {
    const rt = this.rt;
    const ex = rt.ex;
    let at = 0;
    let allowed = 1 << 20; // first try: as much as the send buffer takes
    let triedHeld = false;
    do {
      if (this.done || this.aborted || !this.send) return;
      const piece = chunk.subarray(at, Math.min(chunk.length, at + allowed));
      const last = at + piece.length === chunk.length;
      const rc = this.sendData(piece, end && last);
      if (rc === 0) {
        at += piece.length;
        triedHeld = false;
        continue;
      }
      if (rc === H2E.CLOSED) return; // the stream ended (reset, or answered early): the response tells
      if (rc !== H2E.LIMIT_EXCEEDED) throw new Error(`h2wasm: send_data failed (code ${rc})`);
      ex.h2_send_stream_reserve_capacity(this.send, Math.min(chunk.length - at, 1 << 20));
      // poll_capacity answers only when more is assigned: what is there already goes first.
      const held = ex.h2_send_stream_capacity(this.send);
      if (held > 0 && !triedHeld) {
        triedHeld = true;
        allowed = held;
        continue;
      }
      triedHeld = false;
      const { type, value } = await rt.wait(ex.h2_send_stream_poll_capacity(this.send));
      if (type !== TASK.CAPACITY) return; // the stream cannot send any more
      allowed = Math.max(1, value);
    } while (at < chunk.length);
  }

  private sendData(bytes: Uint8Array, end: boolean): number {
    const r = this.rt.with(bytes, (p, n) => this.rt.ex.h2_send_stream_send_data(this.send, p, n, end ? 1 : 0));
    this.rt.schedule();
    return r;
  }

  private abort(signal: AbortSignal): void {
    this.reset(CANCEL, abortError(signal));
  }

  /**
   * Resets the stream with RST_STREAM `code` (RFC 9113 §7; CANCEL by default) and fails
   * what still waits on it (body, trailers) with `reason`. The code goes out through the
   * send stream while the request can still send; otherwise letting go of the unfinished
   * response body resets it, always with CANCEL. Nothing happens once the stream is over.
   */
  reset(code = CANCEL, reason?: unknown): void {
    if (this.done || this.aborted) return;
    this.aborted = true;
    const err = reason ?? new H2StreamError(`stream reset by us (${errorName(code)})`, code, H2E.CLOSED, false);
    this.failure = err;
    this.ahead = undefined;
    const ex = this.rt.ex;
    if (this.send) ex.h2_send_stream_send_reset(this.send, code);
    if (this.bodyHandle) {
      ex.h2_body_free(this.bodyHandle);
      this.bodyHandle = 0;
    }
    this.rt.schedule();
    const reject = this.rejectHead;
    this.rejectHead = undefined;
    reject?.(err);
    this.failEnd(err);
    this.wakeReader();
    // Before the response head, the stream is reset when it arrives (see headDone), or
    // right away through the send stream.
    if (!this.send && this.status === 0) return;
    this.release();
  }

  // ---- the response body -------------------------------------------------------------

  get body(): AsyncIterable<Uint8Array> {
    this.reader ??= new BodyReader(this);
    return this.reader;
  }

  /** @internal The body's reading starts (once). */
  startBody(): void {
    if (this.bodyStarted) throw new TypeError('h2wasm: the response body was already read');
    this.bodyStarted = true;
  }

  /** @internal Broken off: let the stream go (CANCEL when unfinished). */
  stopBody(): Promise<IteratorResult<Uint8Array>> {
    if (!this.bodyEnded) this.release();
    this.ahead = undefined;
    return DONE_PROMISE;
  }

  /** @internal The next chunk: at once when it was read ahead, else from the module. */
  pull(): Promise<IteratorResult<Uint8Array>> {
    if (this.aborted || (this.failure && !this.bodyEnded)) return Promise.reject(this.failure);
    const chunk = this.ahead;
    if (chunk !== undefined) {
      this.ahead = undefined;
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.bodyEnded || !this.bodyHandle) return DONE_PROMISE;
    if (this.wireEnded) {
      this.endBody();
      return DONE_PROMISE;
    }
    return this.nextChunk();
  }

  private async nextChunk(): Promise<IteratorResult<Uint8Array>> {
    const rt = this.rt;
    const ex = rt.ex;
    for (let i = 0; i < 1_000_000; i++) {
      if (this.aborted || (this.failure && !this.bodyEnded)) throw this.failure;
      const chunk = this.ahead;
      if (chunk !== undefined) {
        this.ahead = undefined;
        return { value: chunk, done: false };
      }
      if (this.bodyEnded || !this.bodyHandle) return DONE;
      if (this.aheadPending) {
        await new Promise<void>((r) => (this.aheadWaiter = r));
        continue;
      }
      // Nothing more to read and no trailers: finish without two task round trips.
      if (this.wireEnded || ex.h2_body_is_end(this.bodyHandle) === 1) {
        this.endBody();
        return DONE;
      }
      let type: number;
      let value = 0;
      if (this.aheadEmpty) {
        this.aheadEmpty = false;
        type = TASK.EMPTY;
      } else {
        ({ type, value } = await rt.wait(ex.h2_body_data(this.bodyHandle)));
      }
      if (this.aborted) {
        if (type === TASK.BUF) ex.h2_buf_free(value);
        else if (type === TASK.ERROR) ex.h2_error_free(value);
        throw this.failure;
      }
      if (type === TASK.BUF) {
        const chunk = rt.takeBuf(value);
        if (chunk.length === 0) continue;
        return { value: chunk, done: false };
      }
      if (type === TASK.EMPTY) {
        const t = await rt.wait(ex.h2_body_trailers(this.bodyHandle));
        if (t.type === TASK.TRAILERS) {
          this.trailerFields = rt.headers(t.value);
          ex.h2_headers_free(t.value);
        } else if (t.type === TASK.ERROR) ex.h2_error_free(t.value);
        this.endBody();
        return DONE;
      }
      throw this.bodyFailed(type, value);
    }
    throw new Error('h2wasm: response body did not make progress');
  }

  get headers(): [string, string][] {
    if (!this.headerList) {
      const b = this.headBytes;
      this.headerList = b ? this.rt.fields(b, 0, b.length).filter(([k]) => !k.startsWith(':')) : [];
      this.headBytes = undefined;
    }
    return this.headerList;
  }

  private endBody(): void {
    this.bodyEnded = true;
    this.release();
    const waiters = this.endWaiters;
    this.endWaiters = undefined;
    if (waiters) for (const w of waiters) w.resolve();
  }

  get stream(): ReadableStream<Uint8Array> {
    if (!this.readableStream) {
      this.startBody();
      this.readableStream = iteratorStream(new BodyReader(this));
    }
    return this.readableStream;
  }

  /** The whole body when it is in hand already (read ahead to its end), else undefined. */
  private wholeBody(): Uint8Array | undefined {
    if (this.bodyStarted || !this.wireEnded || this.aborted || this.failure) return undefined;
    this.bodyStarted = true;
    const chunk = this.ahead ?? new Uint8Array(0);
    this.ahead = undefined;
    this.endBody();
    return chunk;
  }

  async bytes(): Promise<Uint8Array> {
    const whole = this.wholeBody();
    if (whole) return whole;
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const c of this.body) {
      parts.push(c);
      total += c.length;
    }
    return joinBytes(parts, total);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
      ? (b.buffer as ArrayBuffer)
      : (b.slice().buffer as ArrayBuffer);
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async trailers(): Promise<[string, string][]> {
    if (this.bodyEnded) return this.trailerFields ?? [];
    if (this.failure) throw this.failure;
    if (!this.bodyStarted) {
      for await (const _ of this.body) void _;
      return this.trailerFields ?? [];
    }
    await new Promise<void>((resolve, reject) => (this.endWaiters ??= []).push({ resolve, reject }));
    return this.trailerFields ?? [];
  }

  private failEnd(e: unknown): void {
    const waiters = this.endWaiters;
    this.endWaiters = undefined;
    if (waiters) for (const w of waiters) w.reject(e);
  }

  /** Lets go of every handle (once); an unfinished body or send stream resets with CANCEL. */
  private release(): void {
    if (this.done) return;
    this.done = true;
    const ex = this.rt.ex;
    if (this.informationalId) this.rt.dropInformational(this.informationalId);
    this.informationalId = 0;
    if (this.bodyHandle) ex.h2_body_free(this.bodyHandle);
    this.bodyHandle = 0;
    if (this.send) ex.h2_send_stream_free(this.send);
    this.send = 0;
    this.releaseFeed?.();
    this.releaseFeed = undefined;
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
    this.session.track(-1);
    this.rt.schedule();
  }
}

/** Bodies at least this large go zero-copy (smaller ones are copied into the module at once). */
export const ZERO_COPY_MIN = 64 * 1024;
/** A streamed body's chunks smaller than this are copied as they are taken... */
const FEED_COPY_BELOW = 16 * 1024;
/** ...and taken while at most this much is in hand (the module's own send buffer held up to 1 MiB). */
const FEED_READ_AHEAD = 256 * 1024;

/** Whether a request body goes through a zero-copy feed: a streamed one, or large bytes. */
function zeroCopyBody(body: RequestBody): boolean {
  if (body == null) return false;
  if (typeof body === 'string') return body.length >= ZERO_COPY_MIN;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return body.byteLength >= ZERO_COPY_MIN;
  return true;
}

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof (x as ReadableStream | null)?.getReader === 'function';
}

async function* streamIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A request body given whole (string, bytes, ArrayBuffer) as bytes; null for a stream. */
function wholeBody(body: RequestBody): Uint8Array | null {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return null;
}

/** A streamed request body's chunks, a ReadableStream's or an async iterable's. */
function bodyChunks(body: RequestBody): AsyncIterable<unknown> {
  return isReadableStream(body) ? streamIterable(body) : (body as AsyncIterable<unknown>);
}

/** One chunk of a streamed body as bytes (strings are UTF-8). */
function asBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  return chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBufferLike);
}
