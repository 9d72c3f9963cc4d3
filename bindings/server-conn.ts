// One server connection on the runtime: handshake, the accept loop, and per request the
// low-level stream API (method, path, headers, a body to iterate, respond with status,
// headers, body and trailers). No `node:` import; node.ts brings the sockets.
import { Runtime, TASK, readU32, type NoCopyFill, type Transport } from './runtime.js';
import { H2E, H2_OPT, H2_PSEUDO } from './abi.js';

/** Settings and limits of a connection, by the header's H2_OPT_* names. */
export interface ConnectionOptions {
  headerTableSize?: number;
  maxConcurrentStreams?: number;
  initialWindowSize?: number;
  maxFrameSize?: number;
  maxHeaderListSize?: number;
  enableConnectProtocol?: boolean;
  enablePush?: boolean;
  connectionWindow?: number;
  maxStreamSendBuffer?: number;
  maxConnectionSendBuffer?: number;
  maxContinuations?: number;
  maxQueuedControlFrames?: number;
  maxClosedStreams?: number;
  maxResetsPerSecond?: number;
  maxPendingStreams?: number;
  outputHighWater?: number;
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  settingsTimeoutMs?: number;
  idleTimeoutMs?: number;
  gracefulTimeoutMs?: number;
  maxGlitchesPerSecond?: number;
  closeLingerMs?: number;
  capacityHighWater?: number;
  handshakeTimeoutMs?: number;
  headerTimeoutMs?: number;
  sendStallTimeoutMs?: number;
  writeStallTimeoutMs?: number;
  recvIdleTimeoutMs?: number;
}

export const OPTION_KEYS: Record<keyof ConnectionOptions, number> = {
  headerTableSize: H2_OPT.HEADER_TABLE_SIZE,
  enablePush: H2_OPT.ENABLE_PUSH,
  maxConcurrentStreams: H2_OPT.MAX_CONCURRENT_STREAMS,
  initialWindowSize: H2_OPT.INITIAL_WINDOW_SIZE,
  maxFrameSize: H2_OPT.MAX_FRAME_SIZE,
  maxHeaderListSize: H2_OPT.MAX_HEADER_LIST_SIZE,
  enableConnectProtocol: H2_OPT.ENABLE_CONNECT_PROTOCOL,
  connectionWindow: H2_OPT.CONNECTION_WINDOW,
  maxStreamSendBuffer: H2_OPT.MAX_STREAM_SEND_BUFFER,
  maxConnectionSendBuffer: H2_OPT.MAX_CONNECTION_SEND_BUFFER,
  maxContinuations: H2_OPT.MAX_CONTINUATIONS,
  maxQueuedControlFrames: H2_OPT.MAX_QUEUED_CONTROL_FRAMES,
  maxClosedStreams: H2_OPT.MAX_CLOSED_STREAMS,
  maxResetsPerSecond: H2_OPT.MAX_RESETS_PER_SECOND,
  maxPendingStreams: H2_OPT.MAX_PENDING_STREAMS,
  outputHighWater: H2_OPT.OUTPUT_HIGH_WATER,
  keepaliveIntervalMs: H2_OPT.KEEPALIVE_INTERVAL_MS,
  keepaliveTimeoutMs: H2_OPT.KEEPALIVE_TIMEOUT_MS,
  settingsTimeoutMs: H2_OPT.SETTINGS_TIMEOUT_MS,
  idleTimeoutMs: H2_OPT.IDLE_TIMEOUT_MS,
  gracefulTimeoutMs: H2_OPT.GRACEFUL_TIMEOUT_MS,
  maxGlitchesPerSecond: H2_OPT.MAX_GLITCHES_PER_SECOND,
  closeLingerMs: H2_OPT.CLOSE_LINGER_MS,
  capacityHighWater: H2_OPT.CAPACITY_HIGH_WATER,
  handshakeTimeoutMs: H2_OPT.HANDSHAKE_TIMEOUT_MS,
  headerTimeoutMs: H2_OPT.HEADER_TIMEOUT_MS,
  sendStallTimeoutMs: H2_OPT.SEND_STALL_TIMEOUT_MS,
  writeStallTimeoutMs: H2_OPT.WRITE_STALL_TIMEOUT_MS,
  recvIdleTimeoutMs: H2_OPT.RECV_IDLE_TIMEOUT_MS,
};

/** Applies options through h2_*conn_options_set; throws on a value the module refuses. */
export function applyOptions(
  rt: Runtime,
  opts: number,
  set: 'h2_clientconn_options_set' | 'h2_serverconn_options_set',
  options: ConnectionOptions,
): void {
  for (const [name, value] of Object.entries(options)) {
    const key = OPTION_KEYS[name as keyof ConnectionOptions];
    if (key === undefined || value === undefined) continue;
    const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    if (rt.ex[set](opts, key, BigInt(v)) !== 0)
      throw new RangeError(`h2wasm: invalid option ${name} = ${String(value)}`);
  }
}

/** Throws (as applyOptions) when the module refuses one of the server options. */
export function checkOptions(rt: Runtime, options: ConnectionOptions): void {
  const opts = rt.ex.h2_serverconn_options_new();
  try {
    applyOptions(rt, opts, 'h2_serverconn_options_set', options);
  } finally {
    rt.ex.h2_serverconn_options_free(opts);
  }
}

/** A request as the low-level handler sees it. */
export interface IncomingRequest {
  /** '2.0', or the HTTP/1.x version of a request serve() took over HTTP/1.1 ('1.1', '1.0'). */
  readonly httpVersion: string;
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  /** An extended CONNECT's :protocol (RFC 8441: 'websocket'…); '' for any other request.
   *  The server announces it with the option enableConnectProtocol. */
  readonly protocol: string;
  readonly headers: [string, string][];
  /** The HTTP/2 stream; 0 over HTTP/1.1. */
  readonly streamId: number;
  /** Whether the body is known to be over already: true for a request that came without
   *  one (every GET, as `Request.body === null`), or once it was read to its end. */
  readonly bodyEnded: boolean;
  /** The body, chunk by chunk (read it once). A request that sent `expect: 100-continue`
   *  is answered `100 Continue` when this is first called, as node's servers do. */
  body(): AsyncIterable<Uint8Array>;
  /** The trailers, after the body was read to its end (empty when none). */
  trailers(): Promise<[string, string][]>;
}

export type ResponseBody = Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null | undefined;

export interface Responder {
  /** Sends the response: head, then the body (paced by flow control), then trailers. */
  respond(
    status: number,
    headers?: Iterable<[string, string]>,
    body?: ResponseBody,
    trailers?: Iterable<[string, string]>,
  ): Promise<void>;
  /** Sends a 1xx informational response (over HTTP/1.1: 100, 102 and 103; others are not sent). */
  informational(status: number, headers?: Iterable<[string, string]>): void;
  /**
   * Server push (RFC 9113 §8.4): promises a GET of `path` on this request's scheme and
   * authority, with `headers`, and returns the pushed stream's responder (answer it as any
   * request; it lets go of its stream once answered). null when the client does not take
   * pushes (it disabled them, or the connection is going away), and always over HTTP/1.1.
   */
  push(path: string, headers?: Iterable<[string, string]>): Responder | null;
  /**
   * Sends the response with a body of `size` bytes the module never holds (zero-copy DATA,
   * nghttp2's NO_COPY): each frame's data is copied by `fill(dst, at, len, position)`
   * straight into the outgoing frame; `padding` pads each DATA frame with that many zero
   * bytes (0..255). Resolves once the stream is over (sent, or reset). respondWithFile
   * (file-body.ts) serves a file this way.
   */
  respondWithSource(
    status: number,
    headers: Iterable<[string, string]>,
    size: number,
    fill: NoCopyFill,
    padding?: number,
  ): Promise<void>;
  /**
   * Answers with the file at `path` through zero-copy DATA, as node:http2's
   * respondWithFile: content-length from its size, each frame's data read from the file
   * into the frame, never into the module. Throws (ENOENT, not a file…) before anything is
   * sent; resolves once the stream is over. Needs a host with files (serve() on Node).
   */
  respondWithFile(path: string, headers?: Iterable<[string, string]>, status?: number): Promise<void>;
  /** Resets the stream with an RFC 9113 code (CANCEL = 8 by default). */
  reset(code?: number): void;
  /**
   * Calls `fn` once if the stream ends without its answer taking place: reset (by the peer,
   * or by the server) or its connection lost. Nothing is watched until this is called (the
   * fetch adapter calls it when a handler first reads `request.signal`). Over HTTP/1.1 a
   * client's FIN alone is a half-close (it is still answered): a reset or error is a loss.
   */
  whenAborted?(fn: () => void): void;
}

/** What respond() answers when the whole response went out in the call: a handler that
 *  returns it is done, with no promise to wait for (ServerConnection checks for it). */
export const RESPONDED: Promise<void> = Promise.resolve();

/** A file opened for a zero-copy answer: its size, how to copy a range of it, and closing it. */
export type FileOpener = (path: string) => { size: number; fill: NoCopyFill; close: () => void };

/** respondWithFile on any responder: the file's size as content-length, its bytes from `fill`. */
export async function respondWithOpenedFile(
  responder: Responder,
  openFile: FileOpener | undefined,
  path: string,
  headers: Iterable<[string, string]>,
  status: number,
): Promise<void> {
  if (!openFile) throw new Error('h2wasm: respondWithFile needs a host with files (serve() on Node)');
  const file = openFile(path);
  try {
    await responder.respondWithSource(
      status,
      [...headers, ['content-length', String(file.size)]],
      file.size,
      file.fill,
    );
  } finally {
    file.close();
  }
}

/** Whether a request's fields ask for `100 Continue` before the body is sent. */
export function expectsContinue(headers: [string, string][]): boolean {
  for (const [name, value] of headers) if (name === 'expect' && value.toLowerCase() === '100-continue') return true;
  return false;
}

export type StreamHandler = (req: IncomingRequest, res: Responder) => void | Promise<void>;

/**
 * The stream ended under the handler — reset by the peer, or its connection gone — so what
 * the handler was doing cannot finish. Not the handler's fault: a server counts these per
 * connection rather than reporting each as an error.
 */
export class StreamClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamClosedError';
  }
}

/** An error for a send-side result code: the stream gone, or something else. */
const sendError = (what: string, rc: number) =>
  rc === H2E.CLOSED
    ? new StreamClosedError(`h2wasm: ${what}: the stream was closed`)
    : new Error(`h2wasm: ${what} failed (code ${rc})`);

const encoder = new TextEncoder();
/** The capacity a streamed body waits for before it pulls its next chunk (also the chunk
 *  `h2wasm serve --dir` reads a file in). */
export const PULL_CHUNK = 64 * 1024;
/** A byte body up to this size is offered to the send buffer whole (as write() first does). */
const WHOLE_SEND = 1 << 20;

export class ServerConnection {
  conn = 0;
  private closed = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private inFlight = 0;
  /** Handlers whose stream the peer ended under them (StreamClosedError): told once, at the end. */
  private streamsLost = 0;

  /**
   * `onError` hears what handlers throw; `onStreamsLost`, once the connection and its
   * handlers are over, how many of its streams the peer ended under their handler (a
   * reset, the connection gone) — none of them the handler's fault.
   */
  private readonly unlistenBroken: () => void;

  constructor(
    readonly rt: Runtime,
    readonly transport: Transport,
    io: number,
    options: ConnectionOptions,
    readonly handler: StreamHandler,
    readonly onError: (e: unknown) => void = () => {},
    readonly onStreamsLost: (count: number) => void = () => {},
    /** Where respondWithFile finds files (serve() on Node gives one); absent, it throws. */
    readonly openFile?: FileOpener,
  ) {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
    this.unlistenBroken = rt.whenBroken(() => this.finish(true));
    const ex = rt.ex;
    const opts = ex.h2_serverconn_options_new();
    ex.h2_serverconn_options_exec(opts, rt.exec);
    applyOptions(rt, opts, 'h2_serverconn_options_set', options);
    rt.submit(ex.h2_serverconn_handshake(io, opts), (task, type) => {
      if (type !== TASK.SERVERCONN) {
        this.finish(true);
        return;
      }
      this.conn = ex.h2_task_value(task);
      this.acceptNext();
      rt.submit(ex.h2_serverconn_poll_close(this.conn), (_t, type) => this.finish(type !== TASK.EMPTY));
    });
  }

  private acceptNext(): void {
    const ex = this.rt.ex;
    if (this.closed) return;
    this.rt.submit(ex.h2_serverconn_poll_requests(this.conn), (_task, type) => {
      if (type !== TASK.REQUEST) return; // EMPTY: no more requests will come
      if (!this.takeWaiting()) {
        // The next head is larger than the take buffer: that one the long way.
        this.rt.submit(ex.h2_serverconn_accept(this.conn), (task, t) => {
          if (t !== TASK.REQUEST) return; // EMPTY, or ERROR (no handle left): accepting stops, as before
          this.queue(Incoming.fromRequest(this.rt, ex.h2_task_value(task)));
          this.acceptNext();
        });
        return;
      }
      this.acceptNext();
    });
  }

  /** Takes every waiting request in one crossing; false when none could be taken. */
  private takeWaiting(): boolean {
    const bytes = this.rt.takeRequests(this.conn);
    if (bytes.length === 0) return false;
    for (let at = 0; at + 16 <= bytes.length;) {
      // u32 respond, body, stream id, head length; then the head.
      const headLen = readU32(bytes, at + 12);
      const respond = readU32(bytes, at);
      const body = readU32(bytes, at + 4);
      this.queue(Incoming.fromTaken(this.rt, bytes, at + 16, headLen, respond, body, readU32(bytes, at + 8)));
      at += 16 + headLen;
    }
    return true;
  }

  /**
   * Handlers run once the executor's turn is over, all the turn's requests together: a
   * handler that answers at once would otherwise answer inside the turn, and each answer be
   * framed and written on its own (one write per response: half the requests a second).
   */
  private queue(incoming: Incoming): void {
    if (this.accepted.push(incoming) === 1) queueMicrotask(this.dispatchAccepted);
  }

  private accepted: Incoming[] = [];
  private readonly dispatchAccepted = () => {
    const batch = this.accepted;
    this.accepted = [];
    if (this.rt.broken) return; // the instance trapped in between: its handles are gone with it
    for (const incoming of batch) this.dispatch(incoming);
  };

  private dispatch(incoming: Incoming): void {
    const rt = this.rt;
    const respond = incoming.respond;
    const responder = new StreamResponder(
      rt,
      respond,
      incoming.scheme,
      incoming.authority,
      this.transport,
      this.openFile,
    );
    incoming.continueVia = responder;
    this.inFlight++;
    const done = () => {
      this.inFlight--;
      incoming.release();
      responder.release();
      this.reportLost();
    };
    const failed = (e: unknown) => {
      if (e instanceof StreamClosedError) this.streamsLost++;
      else this.onError(e);
      if (!responder.sent) responder.fail();
      done();
    };
    // Called at once (no extra microtask per request); a thrown error and a rejected
    // promise end the same way.
    let result: void | Promise<void>;
    try {
      result = this.handler(incoming, responder);
    } catch (e) {
      failed(e);
      return;
    }
    if (result === RESPONDED) done();
    else if (result && typeof (result as Promise<void>).then === 'function')
      (result as Promise<void>).then(done, failed);
    else done();
  }

  /** Graceful shutdown: GOAWAY, in-flight streams finish, then the connection closes. */
  close(): Promise<void> {
    if (this.conn && !this.closed) this.rt.ex.h2_serverconn_graceful_shutdown(this.conn);
    this.rt.schedule();
    return this.done;
  }

  private finish(failed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.unlistenBroken();
    if (this.conn) this.rt.ex.h2_serverconn_free(this.conn);
    this.conn = 0;
    this.transport.sink.end(failed);
    this.rt.dropTransport(this.transport, failed);
    this.resolveDone();
    this.reportLost();
  }

  private reportLost(): void {
    if (!this.closed || this.inFlight > 0 || this.streamsLost === 0) return;
    const n = this.streamsLost;
    this.streamsLost = 0;
    this.onStreamsLost(n);
  }
}

class Incoming implements IncomingRequest {
  readonly httpVersion = '2.0';
  /** Set while a `100 Continue` may still be owed: the first body() sends it if asked for. */
  continueVia: StreamResponder | undefined;
  method = '';
  scheme = '';
  authority = '';
  path = '';
  protocol = '';
  private headerList: [string, string][] | undefined;
  private trailerFields: [string, string][] = [];
  private ended = false;

  private constructor(
    private rt: Runtime,
    /** Its respond handle (the dispatcher hands it to the responder). */
    readonly respond: number,
    private bodyHandle: number,
    readonly streamId: number,
    // The regular fields, as a flat field list decoded when first asked for.
    private headBytes: Uint8Array | undefined,
    private headAt = 0,
    private headLen = headBytes ? headBytes.length : 0,
  ) {}

  /** A request taken by h2_serverconn_take_requests: its head [at, at+len) of `bytes`,
   *  pseudo-headers first (read here), then the regular fields (decoded when asked for). */
  static fromTaken(
    rt: Runtime,
    bytes: Uint8Array,
    at: number,
    len: number,
    respond: number,
    body: number,
    streamId: number,
  ): Incoming {
    const end = at + len;
    const incoming = new Incoming(rt, respond, body, streamId, bytes);
    while (at + 12 <= end) {
      const nl = readU32(bytes, at);
      const vl = readU32(bytes, at + 4);
      const name = at + 12;
      if (nl < 2 || bytes[name] !== 0x3a) break; // the regular fields start here
      const value = rt.textOf(bytes, name + nl, vl);
      // The length and the letter after the colon tell the five apart (the core validated them).
      const c = bytes[name + 1];
      if (nl === 7 && c === 0x6d) incoming.method = value;
      else if (nl === 7 && c === 0x73) incoming.scheme = value;
      else if (nl === 10) incoming.authority = value;
      else if (nl === 5) incoming.path = value;
      else if (nl === 9) incoming.protocol = value;
      at = name + nl + vl;
    }
    incoming.headAt = at;
    incoming.headLen = end - at;
    return incoming;
  }

  /** A request handed over by h2_serverconn_accept (the handle is freed here). */
  static fromRequest(rt: Runtime, req: number): Incoming {
    const ex = rt.ex;
    const respond = ex.h2_request_respond(req);
    const incoming = new Incoming(
      rt,
      respond,
      ex.h2_request_body(req),
      respond ? ex.h2_respond_stream_id(respond) >>> 0 : 0,
      rt.headerBytes(ex.h2_request_headers(req)),
    );
    incoming.method = rt.pseudo(req, H2_PSEUDO.METHOD);
    incoming.scheme = rt.pseudo(req, H2_PSEUDO.SCHEME);
    incoming.authority = rt.pseudo(req, H2_PSEUDO.AUTHORITY);
    incoming.path = rt.pseudo(req, H2_PSEUDO.PATH);
    incoming.protocol = incoming.method === 'CONNECT' ? rt.pseudo(req, H2_PSEUDO.PROTOCOL) : '';
    ex.h2_request_free(req);
    return incoming;
  }

  get bodyEnded(): boolean {
    if (!this.ended && this.bodyHandle && this.rt.ex.h2_body_is_end(this.bodyHandle) === 1) this.ended = true;
    return this.ended || !this.bodyHandle;
  }

  get headers(): [string, string][] {
    if (!this.headerList) {
      const b = this.headBytes;
      this.headerList = b ? this.rt.fields(b, this.headAt, this.headLen) : [];
      this.headBytes = undefined;
    }
    return this.headerList;
  }

  async *body(): AsyncIterable<Uint8Array> {
    const rt = this.rt;
    const ex = rt.ex;
    // A request that ended with its head (every GET) needs no task round trip.
    if (this.bodyHandle && !this.ended && ex.h2_body_is_end(this.bodyHandle) === 1) this.ended = true;
    const via = this.continueVia;
    this.continueVia = undefined;
    if (via && !this.ended && !via.sent && expectsContinue(this.headers)) via.informational(100);
    while (this.bodyHandle && !this.ended) {
      const { type, value } = await rt.wait(ex.h2_body_data(this.bodyHandle));
      if (type === TASK.BUF) {
        yield rt.takeBuf(value);
      } else if (type === TASK.EMPTY) {
        this.ended = true;
        const t = await rt.wait(ex.h2_body_trailers(this.bodyHandle));
        if (t.type === TASK.TRAILERS) {
          this.trailerFields = rt.headers(t.value);
          ex.h2_headers_free(t.value);
        }
      } else {
        const err = type === TASK.ERROR ? rt.errorMessage(value) : { message: 'body failed' };
        throw new StreamClosedError(`h2wasm: request body: ${err.message}`);
      }
    }
  }

  async trailers(): Promise<[string, string][]> {
    if (!this.ended) for await (const _ of this.body()) void _;
    return this.trailerFields;
  }

  release(): void {
    if (this.bodyHandle) this.rt.ex.h2_body_free(this.bodyHandle);
    this.bodyHandle = 0;
  }
}

class StreamResponder implements Responder {
  sent = false;
  /** A pushed stream's responder lets go of its stream once answered (no dispatch does). */
  private releaseWhenAnswered = false;
  constructor(
    private rt: Runtime,
    private respondHandle: number,
    private scheme: string,
    private authority: string,
    private transport: Transport,
    private openFile: FileOpener | undefined,
  ) {}

  respondWithFile(path: string, headers: Iterable<[string, string]> = [], status = 200): Promise<void> {
    return respondWithOpenedFile(this, this.openFile, path, headers, status);
  }

  respondWithSource(
    status: number,
    headers: Iterable<[string, string]>,
    size: number,
    fill: NoCopyFill,
    padding?: number,
  ): Promise<void> {
    const rt = this.rt;
    const ex = rt.ex;
    const resp = this.finalHead(status, headers);
    const source = rt.noCopySource(this.transport, size, fill);
    if (padding !== undefined && ex.h2_body_set_padding(source.body, padding) !== H2E.OK) {
      ex.h2_response_free(resp);
      ex.h2_body_free(source.body);
      source.release();
      this.sent = false;
      throw new RangeError(`h2wasm: padding ${padding} outside 0..255`);
    }
    ex.h2_response_set_body(resp, source.body); // taken
    ex.h2_respond_send_response(this.respondHandle, resp, 0);
    const code = ex.h2_last_result();
    rt.schedule();
    if (code !== H2E.OK) {
      source.release();
      return Promise.reject(sendError('response', code));
    }
    // Over when the stream is: closed normally (EMPTY) or reset (RESET): the source goes then.
    return new Promise<void>((resolve) => {
      rt.submit(ex.h2_respond_poll_reset(this.respondHandle), () => {
        source.release();
        resolve();
      });
    });
  }

  push(path: string, headers: Iterable<[string, string]> = []): Responder | null {
    const rt = this.rt;
    const ex = rt.ex;
    if (!this.respondHandle) return null;
    const req = ex.h2_request_new();
    const rc = rt.setTarget(req, this.scheme, this.authority, path);
    if (rc !== 0) {
      ex.h2_request_free(req);
      throw new TypeError(`h2wasm: invalid push path ${JSON.stringify(path)}`);
    }
    rt.setHeaders(ex.h2_request_headers(req), headers);
    const pushed = ex.h2_respond_push(this.respondHandle, req); // takes the request
    rt.schedule();
    if (!pushed) {
      const code = ex.h2_last_result();
      if (code === H2E.CLOSED) return null;
      throw sendError('push', code);
    }
    const responder = new StreamResponder(rt, pushed, this.scheme, this.authority, this.transport, this.openFile);
    responder.releaseWhenAnswered = true;
    return responder;
  }

  /** A response handle with `status` and `headers` (the caller hands it to the module). */
  private head(status: number, headers: Iterable<[string, string]>): number {
    const ex = this.rt.ex;
    const resp = ex.h2_response_new();
    ex.h2_response_set_status(resp, status);
    this.rt.setHeaders(ex.h2_response_headers(resp), headers);
    return resp;
  }

  /** The final response's head; a responder answers once. */
  private finalHead(status: number, headers: Iterable<[string, string]>): number {
    if (this.sent) throw new Error('h2wasm: response already sent');
    this.sent = true;
    return this.head(status, headers);
  }

  informational(status: number, headers: Iterable<[string, string]> = []): void {
    this.rt.ex.h2_respond_send_informational(this.respondHandle, this.head(status, headers));
    this.rt.schedule();
  }

  respond(
    status: number,
    headers: Iterable<[string, string]> = [],
    body?: ResponseBody,
    trailers?: Iterable<[string, string]>,
  ): Promise<void> {
    const rt = this.rt;
    const ex = rt.ex;
    try {
      const empty = body == null || body === '' || (body instanceof Uint8Array && body.length === 0);
      if (!trailers && !this.sent && (body == null || typeof body === 'string' || body instanceof Uint8Array)) {
        // Head and body in one call, no handles; the long way when they do not fit now.
        const list = Array.isArray(headers) ? (headers as [string, string][]) : [...headers];
        const rc = rt.respondWhole(this.respondHandle, status, list, body ?? '');
        if (rc !== -1 && rc !== H2E.LIMIT_EXCEEDED) {
          this.sent = true;
          rt.schedule();
          if (this.releaseWhenAnswered) this.release();
          if (rc !== H2E.OK && !empty) throw sendError('response', rc);
          return RESPONDED;
        }
        headers = list;
      }
      const resp = this.finalHead(status, headers);
      const trailerList = trailers ? [...trailers] : [];
      const endWithHead = empty && trailerList.length === 0;
      const send = ex.h2_respond_send_response(this.respondHandle, resp, endWithHead ? 1 : 0);
      rt.schedule();
      if (this.releaseWhenAnswered && (endWithHead || !send)) this.release();
      if (endWithHead) return RESPONDED;
      if (!send) throw sendError('response', ex.h2_last_result());
      // A whole body the send buffer takes in one call: done here, with no promise to wait
      // for. UTF-8 goes straight into linear memory.
      if (
        trailerList.length === 0 &&
        (typeof body === 'string' || (body instanceof Uint8Array && body.length <= WHOLE_SEND)) &&
        this.sendData(send, body, true) === 0
      ) {
        this.sendOver(send);
        return RESPONDED;
      }
      return this.sendBody(send, body, trailerList);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The body (and trailers) of a response whose head went out: paced by capacity. */
  private async sendBody(send: number, body: ResponseBody, trailerList: [string, string][]): Promise<void> {
    const ex = this.rt.ex;
    const end = trailerList.length === 0;
    try {
      if (typeof body === 'string') {
        // Encoded separately only when the send buffer cannot take it whole.
        if (body.length > 0 && this.sendData(send, body, end) !== 0) await this.write(send, encoder.encode(body), end);
      } else if (body instanceof Uint8Array) {
        if (body.length > 0) await this.write(send, body, end);
      } else if (body != null) {
        await this.stream(send, body);
        if (end) this.sendData(send, new Uint8Array(0), true);
      }
      if (!end) {
        const h = ex.h2_headers_new();
        this.rt.setHeaders(h, trailerList);
        ex.h2_send_stream_send_trailers(send, h);
      }
    } finally {
      this.sendOver(send);
    }
  }

  private sendOver(send: number): void {
    this.rt.ex.h2_send_stream_free(send);
    if (this.releaseWhenAnswered) this.release();
    this.rt.schedule();
  }

  /**
   * Sends an iterable body at the pace of the peer's windows and of the transport: the
   * next chunk is asked for only once the stream has send capacity assigned (its window
   * and the connection's open, the connection not holding capacityHighWater unwritten),
   * as nghttp2 asks its data provider, and a chunk goes in no faster than capacity comes.
   * A stalled stream holds at most one chunk, in JS, and nothing in wasm beyond what was
   * assigned to it; a lazy body (a file opened on its first read) never opens.
   */
  private async stream(send: number, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
      Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]();
    let done = false;
    let held = 0; // capacity assigned to the stream and not used yet
    try {
      for (;;) {
        if (held === 0) held = await this.capacity(send, PULL_CHUNK);
        const pulled = it.next();
        if (pulled instanceof Promise) {
          // A body that is not ready (an upstream, events to come) holds no capacity while it
          // waits: what was assigned would keep the connection window from every other stream.
          this.rt.ex.h2_send_stream_reserve_capacity(send, 0);
          held = 0;
        }
        const next = await pulled;
        if (next.done) {
          done = true;
          return;
        }
        const chunk = next.value;
        for (let at = 0; at < chunk.length;) {
          if (held === 0) held = await this.capacity(send, chunk.length - at);
          const n = Math.min(chunk.length - at, held);
          const rc = this.sendData(send, chunk.subarray(at, at + n), false);
          if (rc !== 0) throw sendError('send_data', rc);
          at += n;
          held -= n;
        }
      }
    } finally {
      if (!done) await it.return?.();
    }
  }

  /** The send capacity assigned to the stream, waiting for some when there is none. */
  private async capacity(send: number, want: number): Promise<number> {
    const ex = this.rt.ex;
    ex.h2_send_stream_reserve_capacity(send, want);
    const now = ex.h2_send_stream_capacity(send);
    if (now > 0) return now;
    const { type, value } = await this.rt.wait(ex.h2_send_stream_poll_capacity(send));
    if (type !== TASK.CAPACITY) throw new StreamClosedError('h2wasm: stream closed while sending');
    return value;
  }

  /**
   * Queues `chunk`. When the send buffer is full, waits for capacity and sends what it
   * allows, so the body streams at the pace of the peer's windows with bounded buffering.
   */
  private async write(send: number, chunk: Uint8Array, end: boolean): Promise<void> {
    let at = 0;
    let allowed = 1 << 20; // first try: as much as the send buffer takes
    do {
      const piece = chunk.subarray(at, Math.min(chunk.length, at + allowed));
      const last = at + piece.length === chunk.length;
      const rc = this.sendData(send, piece, end && last);
      if (rc === 0) {
        at += piece.length;
        continue;
      }
      if (rc !== H2E.LIMIT_EXCEEDED) throw sendError('send_data', rc);
      allowed = await this.capacity(send, chunk.length - at);
    } while (at < chunk.length);
  }

  private sendData(send: number, bytes: Uint8Array | string, end: boolean): number {
    const rc = this.rt.with(bytes, (p, n) => this.rt.ex.h2_send_stream_send_data(send, p, n, end ? 1 : 0));
    this.rt.schedule(); // frame and write it now, not when something else happens
    return rc;
  }

  reset(code = 8): void {
    this.sent = true;
    this.rt.ex.h2_respond_reset(this.respondHandle, code);
    this.rt.schedule();
  }

  whenAborted(fn: () => void): void {
    const rt = this.rt;
    if (rt.broken) return fn();
    if (!this.respondHandle) return; // answered and let go of: nothing can abort it now
    // Over when the stream is: closed after its answer (EMPTY), or reset / its connection failed.
    rt.submit(rt.ex.h2_respond_poll_reset(this.respondHandle), (_t, type) => {
      if (type !== TASK.EMPTY) fn();
    });
  }

  fail(): void {
    this.reset(2); // INTERNAL_ERROR
  }

  release(): void {
    if (this.respondHandle) this.rt.ex.h2_respond_free(this.respondHandle);
    this.respondHandle = 0;
  }
}
