// HTTP/1.1 beside HTTP/2 in serve(): Node's own http server parses and writes HTTP/1.1
// (keep-alive, pipelining, chunked bodies, trailers, 100-continue, its head timeout); this
// file gives its requests to the same handler as HTTP/2's, through the same
// IncomingRequest and Responder. first-bytes.ts decides which connections come here.
import http from 'node:http';
import type net from 'node:net';
import {
  StreamClosedError,
  expectsContinue,
  respondWithOpenedFile,
  type ConnectionOptions,
  type FileOpener,
  type IncomingRequest,
  type Responder,
  type ResponseBody,
  type StreamHandler,
} from './server-conn.js';
import type { NoCopyFill } from './runtime.js';
import { CONNECTION_FIELDS, NO_BODY_STATUS, rawPairs, requestTarget } from './http-fields.js';

/** Defaults of the HTTP/1.1 bounds that the connection options set (README, "Options and limits"). */
export const HANDSHAKE_TIMEOUT_MS = 10_000; // handshakeTimeoutMs: the first bytes of a connection
const HEADER_TIMEOUT_MS = 10_000; // headerTimeoutMs: a request head
const IDLE_TIMEOUT_MS = 300_000; // idleTimeoutMs: a keep-alive connection between requests
const RECV_IDLE_TIMEOUT_MS = 60_000; // recvIdleTimeoutMs: a request body that stops coming
const WRITE_STALL_TIMEOUT_MS = 30_000; // writeStallTimeoutMs: a response its client takes none of
const GRACEFUL_TIMEOUT_MS = 30_000; // gracefulTimeoutMs: what close() lets requests in flight take
/** Bodies are written in pieces this large (node's socket high-water mark): a reader's
 *  progress is seen piece by piece, and a stalled one within writeStallTimeoutMs. */
const PIECE = 16 * 1024;

export interface Http1Options {
  handler: StreamHandler;
  secure: boolean;
  settings: ConnectionOptions;
  onError: (e: unknown) => void;
  onStreamsLost: (count: number) => void;
  openFile?: FileOpener;
}

const STATE = Symbol('h2wasm.http1');
type Tracked = net.Socket & { [STATE]?: SocketState };

interface SocketState {
  inFlight: number;
  /** Handlers whose client went away under them: told once, when the connection and they are over. */
  lost: number;
  closed: boolean;
}

/** The HTTP/1.1 side of serve(): connections are handed in with accept(). */
export class Http1Server {
  get secure(): boolean {
    return this.o.secure;
  }
  private readonly server: http.Server;
  private readonly sockets = new Map<net.Socket, SocketState>();
  closing = false;
  /** writeStallTimeoutMs: how long a response may wait for its client to take any of it. */
  readonly writeStallMs: number;
  /** recvIdleTimeoutMs: how long a request body may stop coming while the handler reads it. */
  readonly recvIdleMs: number;

  constructor(private readonly o: Http1Options) {
    const s = o.settings;
    this.writeStallMs = s.writeStallTimeoutMs ?? WRITE_STALL_TIMEOUT_MS;
    this.recvIdleMs = s.recvIdleTimeoutMs ?? RECV_IDLE_TIMEOUT_MS;
    this.server = http.createServer(
      {
        keepAliveTimeout: s.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
        headersTimeout: s.headerTimeoutMs ?? HEADER_TIMEOUT_MS,
        // No bound on a whole request (an upload may take hours, as over HTTP/2): a body
        // that stops coming is bounded instead, by recvIdleTimeoutMs while it is read.
        requestTimeout: 0,
        connectionsCheckingInterval: 1000,
        maxHeaderSize: s.maxHeaderListSize,
      },
      (req, res) => this.dispatch(req, res, false),
    );
    // A client that half-closes after its request (`nc -N`, some probes) is still answered;
    // node's default aborts its request at the FIN. (node's own switch, not in its typings:
    // node:http2 sets it the same way for allowHTTP1.)
    (this.server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Without a listener node answers 100 at once; with it, when the handler reads the body.
    this.server.on('checkContinue', (req, res) => this.dispatch(req, res, true));
    // Node checks the head and request timeouts only of a server that listened: this one
    // never does (serve()'s listener hands it connections), so it is told it did.
    this.server.emit('listening');
  }

  /** Takes a connection whose first bytes (put back) are HTTP/1.1. */
  accept(socket: net.Socket): void {
    const state: SocketState = { inFlight: 0, lost: 0, closed: false };
    this.sockets.set(socket, state);
    (socket as Tracked)[STATE] = state; // found per request without a map lookup
    socket.once('close', () => {
      this.sockets.delete(socket);
      state.closed = true;
      this.reportLost(state);
    });
    socket.setNoDelay(true); // node does this only for sockets its own listener accepted
    socket.allowHalfOpen = true; // with httpAllowHalfOpen: our side ends after the answer
    this.server.emit('connection', socket);
    socket.resume();
  }

  /**
   * Graceful: idle connections close now; one with a request in flight closes after its
   * response (which says `Connection: close`), or when `gracefulTimeoutMs` runs out.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.server.close(() => {}); // closes idle keep-alive connections, stops the timeout checks
    for (const [socket, state] of this.sockets) if (state.inFlight === 0) socket.destroySoon();
    const open = [...this.sockets.keys()].map((s) => new Promise((r) => s.once('close', r)));
    const patience = this.o.settings.gracefulTimeoutMs ?? GRACEFUL_TIMEOUT_MS;
    const timer = setTimeout(() => this.sockets.forEach((_, s) => s.destroy()), patience);
    await Promise.all(open);
    clearTimeout(timer);
  }

  private reportLost(state: SocketState): void {
    if (!state.closed || state.inFlight > 0 || state.lost === 0) return;
    const n = state.lost;
    state.lost = 0;
    this.o.onStreamsLost(n);
  }

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): void {
    const state = (req.socket as Tracked)[STATE] ?? { inFlight: 0, lost: 0, closed: false };
    state.inFlight++;
    const incoming = new Http1Incoming(req, this, expectContinue ? res : undefined);
    const responder = new Http1Responder(req, res, this, this.o.openFile);
    let result: void | Promise<void>;
    try {
      result = this.o.handler(incoming, responder);
    } catch (e) {
      this.failed(e, state, res, responder);
      return;
    }
    // RESOLVED is what respond() returns for an answer written at once: nothing to wait for
    // (and no closure made, on the path most requests take).
    if (result === RESOLVED || !result || typeof (result as Promise<void>).then !== 'function')
      this.settled(state, res, responder);
    else
      (result as Promise<void>).then(
        () => this.settled(state, res, responder),
        (e: unknown) => this.failed(e, state, res, responder),
      );
  }

  /** The handler is over: the request is, once its response is all queued. */
  private settled(state: SocketState, res: http.ServerResponse, responder: Http1Responder): void {
    responder.unanswered();
    // A handler may return before its response is all queued (not awaiting respond()): the
    // request is in flight until it is (what is queued, destroySoon lets flush).
    if (res.writableEnded || res.destroyed) this.over(state, res.socket);
    else res.once('close', () => this.over(state, res.socket));
  }

  private failed(e: unknown, state: SocketState, res: http.ServerResponse, responder: Http1Responder): void {
    if (e instanceof StreamClosedError) state.lost++;
    else this.o.onError(e);
    // HTTP/1.1 has no stream to reset: a 500 when nothing was sent, else the connection goes.
    if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-length': '0' }).end();
    else if (!res.writableEnded) res.destroy();
    this.settled(state, res, responder);
  }

  private over(state: SocketState, socket: net.Socket | null): void {
    state.inFlight--;
    if (this.closing && state.inFlight === 0) socket?.destroySoon(); // after what was written
    this.reportLost(state);
  }
}

/** The body of a request that has none: every GET's. */
const ENDED: Promise<IteratorResult<Uint8Array>> = Promise.resolve({ done: true, value: undefined });
const NO_BODY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => ENDED }) };

/** Whether a request head announces a body (RFC 9112 §6.3: transfer-encoding, or a content-length above 0). */
function framesBody(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return true;
    if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1] !== '0') return true;
  }
  return false;
}

/** A field of node's raw list by lower-case name (node's `headers` object is built on first use: unused here). */
function rawField(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

class Http1Incoming implements IncomingRequest {
  readonly httpVersion: string;
  readonly method: string;
  readonly scheme: string;
  readonly path: string;
  readonly protocol = '';
  readonly streamId = 0;
  private headerList: [string, string][] | undefined;
  private read = false;
  private targetAuthority: string | undefined;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly server: Http1Server,
    /** Where `100 Continue` goes when the handler starts reading the body; absent when not asked for. */
    private continueVia: http.ServerResponse | undefined,
  ) {
    this.httpVersion = req.httpVersion;
    this.method = req.method ?? 'GET';
    this.scheme = server.secure ? 'https' : 'http';
    const url = req.url ?? '/';
    // Origin-form (every client's) as it is; absolute-form (a proxy's) as HTTP/2 has it.
    const target = url.startsWith('/') ? null : requestTarget(url, '');
    this.targetAuthority = target?.authority;
    this.path = target?.path ?? url;
  }

  get authority(): string {
    return this.targetAuthority ?? rawField(this.req.rawHeaders, 'host') ?? '';
  }

  /** The request's fields as HTTP/2 has them: lower-case, without the connection's own. */
  get headers(): [string, string][] {
    if (!this.headerList) {
      const raw = this.req.rawHeaders;
      const named = rawField(raw, 'connection')?.toLowerCase().split(',') ?? [];
      const connection = new Set(named.map((t) => t.trim()));
      const list: [string, string][] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i].toLowerCase();
        if (!CONNECTION_FIELDS.has(name) && !connection.has(name)) list.push([name, raw[i + 1]]);
      }
      this.headerList = list;
    }
    return this.headerList;
  }

  get bodyEnded(): boolean {
    return !framesBody(this.req.rawHeaders) || this.req.readableEnded;
  }

  body(): AsyncIterable<Uint8Array> {
    if (this.read) return NO_BODY;
    this.read = true;
    if (this.bodyEnded) return NO_BODY; // no stream to start
    return this.stream();
  }

  private async *stream(): AsyncIterable<Uint8Array> {
    const req = this.req;
    if (this.continueVia && expectsContinue(this.headers) && !this.continueVia.headersSent)
      this.continueVia.writeContinue();
    this.continueVia = undefined;
    // A body that stops coming for recvIdleTimeoutMs loses the connection (node then ends
    // the request with an error); the socket's timeout is node's again once it is read.
    const socket = req.socket;
    socket.setTimeout(this.server.recvIdleMs);
    try {
      // Not destroyed when the handler stops reading early (a 413): node drops the rest.
      for await (const chunk of req.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    } catch (e) {
      throw new StreamClosedError(`h2wasm: request body: ${(e as Error).message}`);
    } finally {
      if (!socket.destroyed) socket.setTimeout(0);
    }
    if (!req.complete) throw new StreamClosedError('h2wasm: request body: the connection closed mid-body');
  }

  async trailers(): Promise<[string, string][]> {
    if (!this.read) for await (const _ of this.body()) void _;
    return rawPairs(this.req.rawTrailers);
  }
}

const RESOLVED = Promise.resolve();

class Http1Responder implements Responder {
  private sent = false;
  private lengthGiven = false;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly server: Http1Server,
    private readonly openFile: FileOpener | undefined,
  ) {}

  respond(
    status: number,
    headers: Iterable<[string, string]> = [],
    body?: ResponseBody,
    trailers?: Iterable<[string, string]>,
  ): Promise<void> {
    const whole = body == null || typeof body === 'string' || body instanceof Uint8Array;
    // Streamed: an iterable, trailers, or a body large enough to be paced (and its reader watched).
    if (trailers || !whole || (body != null && body.length > PIECE))
      return this.respondStreamed(status, headers, body, trailers);
    // A whole body and no trailers (most answers): written at once, with its length.
    try {
      const raw = this.head(headers, false);
      if (!this.lengthGiven) this.addLength(status, raw, body);
      this.writeHead(status, raw);
      this.res.end(body ?? undefined);
      return RESOLVED;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A streamed body, or trailers: chunked trailers when the client said it takes them, else dropped. */
  private async respondStreamed(
    status: number,
    headers: Iterable<[string, string]>,
    body: ResponseBody,
    trailers: Iterable<[string, string]> | undefined,
  ): Promise<void> {
    const res = this.res;
    const trailerList = trailers ? [...trailers] : [];
    const withTrailers = trailerList.length > 0 && this.takesTrailers(status);
    const raw = this.head(headers, withTrailers);
    if (withTrailers) raw.push('trailer', trailerList.map(([n]) => n).join(', '));
    else if ((typeof body === 'string' || body instanceof Uint8Array || body == null) && !this.lengthGiven)
      this.addLength(status, raw, body);
    this.writeHead(status, raw);
    if (typeof body === 'string' || body instanceof Uint8Array)
      await this.writePieces(typeof body === 'string' ? Buffer.from(body) : body);
    else if (body != null) for await (const chunk of body) await this.writePieces(chunk);
    if (withTrailers) res.addTrailers(trailerList);
    return this.end();
  }

  /** Whether trailers can go: a chunked HTTP/1.1 body the client said it takes them in (TE: trailers). */
  private takesTrailers(status: number): boolean {
    const req = this.req;
    if (req.httpVersion !== '1.1' || req.method === 'HEAD' || NO_BODY_STATUS.has(status)) return false;
    return /(^|,)\s*trailers\s*(,|$)/i.test(String(req.headers.te ?? ''));
  }

  /** Adds the content-length of a whole `body` to `raw`, unless the answer has no body. */
  private addLength(status: number, raw: string[], body: string | Uint8Array | null | undefined): void {
    if (NO_BODY_STATUS.has(status) || (body == null && this.req.method === 'HEAD')) return;
    const length = body == null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    raw.push('content-length', String(length));
  }

  respondWithSource(
    status: number,
    headers: Iterable<[string, string]>,
    size: number,
    fill: NoCopyFill,
  ): Promise<void> {
    const raw = this.head(headers, true);
    raw.push('content-length', String(size));
    this.writeHead(status, raw);
    return this.pieces(size, fill);
  }

  respondWithFile(path: string, headers: Iterable<[string, string]> = [], status = 200): Promise<void> {
    return respondWithOpenedFile(this, this.openFile, path, headers, status);
  }

  informational(status: number, headers: Iterable<[string, string]> = []): void {
    const res = this.res;
    if (res.headersSent) return;
    if (status === 100) res.writeContinue();
    else if (status === 102) res.writeProcessing();
    else if (status === 103) {
      const hints: Record<string, string[]> = {};
      for (const [n, v] of headers) (hints[n] ??= []).push(v);
      if (hints.link) res.writeEarlyHints(hints as { link: string[] });
    }
  }

  push(): Responder | null {
    return null;
  }

  reset(): void {
    this.sent = true;
    this.res.destroy();
  }

  whenAborted(fn: () => void): void {
    const res = this.res;
    const lost = () => {
      if (!res.writableFinished) fn();
    };
    if (res.destroyed) lost();
    else res.once('close', lost);
  }

  /** A handler that finished without answering: HTTP/2 resets its stream; here, a 500. */
  unanswered(): void {
    if (!this.sent && !this.res.headersSent && !this.res.destroyed)
      this.res.writeHead(500, { 'content-length': '0' }).end();
  }

  /**
   * The head as node's flat list, names in lower case (without content-length when
   * `lengthless`; lengthGiven says whether it had one); `connection: close` while the
   * server closes.
   */
  private head(headers: Iterable<[string, string]>, lengthless: boolean): string[] {
    if (this.sent) throw new Error('h2wasm: response already sent');
    this.sent = true;
    const raw: string[] = [];
    for (const [field, value] of headers) {
      const name = field.toLowerCase();
      if (name !== 'content-length') raw.push(name, value);
      else if (!lengthless) {
        this.lengthGiven = true;
        raw.push(name, value);
      }
    }
    if (this.server.closing) raw.push('connection', 'close');
    return raw;
  }

  private writeHead(status: number, raw: string[]): void {
    if (this.res.destroyed) throw new StreamClosedError('h2wasm: response: the connection closed');
    this.res.writeHead(status, raw);
  }

  private async pieces(size: number, fill: NoCopyFill): Promise<void> {
    for (let position = 0; position < size;) {
      const piece = Buffer.allocUnsafe(Math.min(PIECE, size - position));
      const n = fill(piece, 0, piece.length, position);
      if (n <= 0) throw new Error(`h2wasm: respondWithSource: fill gave ${n} bytes at ${position} of ${size}`);
      await this.write(piece.subarray(0, n));
      position += n;
    }
    return this.end();
  }

  /** Writes `bytes` a PIECE at a time, each as write() does. */
  private async writePieces(bytes: Uint8Array): Promise<void> {
    if (bytes.length <= PIECE) return this.write(bytes);
    for (let at = 0; at < bytes.length; at += PIECE) await this.write(bytes.subarray(at, at + PIECE));
  }

  /**
   * Writes a piece; waits while node's buffer is full. A client that takes none of what is
   * queued for writeStallTimeoutMs loses the connection (a peer that never reads must not
   * hold it, and what is queued for it, for ever); one that reads, however slowly, keeps it.
   * Throws StreamClosedError once the client is gone.
   */
  private write(chunk: Uint8Array): Promise<void> | void {
    const res = this.res;
    if (res.destroyed) throw new StreamClosedError('h2wasm: response: the connection closed');
    if (res.write(chunk)) return;
    const socket = this.req.socket;
    return new Promise((resolve, reject) => {
      let queued = socket.writableLength;
      const watch = () => {
        if (socket.writableLength >= queued) return res.destroy(); // nothing taken since the last look
        queued = socket.writableLength;
        stalled = setTimeout(watch, this.server.writeStallMs);
      };
      let stalled = setTimeout(watch, this.server.writeStallMs);
      const done = () => {
        clearTimeout(stalled);
        res.off('drain', done);
        res.off('close', done);
        if (res.destroyed && !res.writableFinished)
          reject(new StreamClosedError('h2wasm: response: the connection closed'));
        else resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  private end(): Promise<void> {
    const res = this.res;
    if (res.destroyed) return Promise.reject(new StreamClosedError('h2wasm: response: the connection closed'));
    res.end();
    return RESOLVED;
  }
}
