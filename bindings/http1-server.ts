// HTTP/1.1 beside HTTP/2 in serve(): Node's own http server parses and writes HTTP/1.1
// (keep-alive, pipelining, chunked bodies, trailers, 100-continue, its timeouts); this file
// gives its requests to the same handler as HTTP/2's, through the same IncomingRequest and
// Responder, and decides from a connection's first bytes which protocol it speaks.
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
import { CONNECTION_FIELDS, PREFACE, headEnd, parseH2cUpgrade, upgradePrelude } from './h2c-upgrade.js';

/** Defaults of the HTTP/1.1 timeouts that the connection options set (README, "Options and limits"). */
export const HANDSHAKE_TIMEOUT_MS = 10_000; // handshakeTimeoutMs: the first bytes of a connection
const HEADER_TIMEOUT_MS = 10_000; // headerTimeoutMs: a request head
const IDLE_TIMEOUT_MS = 300_000; // idleTimeoutMs: a keep-alive connection between requests
const WRITE_STALL_TIMEOUT_MS = 30_000; // writeStallTimeoutMs: a response its client does not read
/** How long graceful close() lets requests in flight finish (gracefulTimeoutMs's default). */
const GRACEFUL_TIMEOUT_MS = 30_000;
/** An HTTP/1.x request line (RFC 9112 §3): method, target, version. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ ]+ HTTP\/1\.[0-9]$/;
/** A request head we look into (its first line, `Upgrade: h2c`) is no longer than this. */
const MAX_SNIFF = 16_384;
/** A streamed body (respondWithSource) is read in pieces this large. */
const PIECE = 64 * 1024;

export type FirstBytes =
  | { kind: 'h2'; bytes: Uint8Array }
  /** An upgrade: what the engine reads first (upgradePrelude), and the bytes after the request head. */
  | { kind: 'h2c'; prelude: Uint8Array; rest: Uint8Array }
  | { kind: 'http1' };

/**
 * Waits for what a connection sends first and says what it is: the HTTP/2 preface, an
 * HTTP/1.1 request asking for h2c, or any other HTTP/1.1. Only the first bytes are looked
 * at (a request that asks for h2c only past its first chunk is answered over HTTP/1.1, as
 * a server may); the socket is paused when `decided` runs, with HTTP/1.1's bytes put back.
 * A connection that sends nothing for `timeoutMs` is destroyed.
 */
export function sniff(socket: net.Socket, timeoutMs: number, decided: (first: FirstBytes) => void): void {
  let got: Buffer | undefined;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const stop = () => {
    clearTimeout(timer);
    socket.pause();
    socket.off('data', onData);
    socket.off('close', stop);
  };
  const onData = (chunk: Buffer) => {
    got = got ? Buffer.concat([got, chunk]) : chunk;
    const n = Math.min(got.length, PREFACE.length);
    if (got.compare(PREFACE, 0, n, 0, n) === 0) {
      if (got.length < PREFACE.length) return; // a preface so far: wait for the rest
      stop();
      return decided({ kind: 'h2', bytes: got });
    }
    // HTTP/1.x only when the first line is a request line; anything else goes to the engine,
    // which answers what is not a preface with GOAWAY PROTOCOL_ERROR, as before.
    const lineEnd = got.indexOf('\r\n');
    if (lineEnd < 0 && got.length < MAX_SNIFF && startsRequestLine(got.toString('latin1'))) return; // not whole yet
    if (lineEnd < 0 || !REQUEST_LINE.test(got.toString('latin1', 0, lineEnd))) {
      stop();
      return decided({ kind: 'h2', bytes: got });
    }
    if (headEnd(got) < 0 && got.length < MAX_SNIFF && /\r\nupgrade:[ \t]*[^\r]*h2c/i.test(got.toString('latin1')))
      return; // an upgrade to h2c, its head not whole yet
    stop();
    const request = parseH2cUpgrade(got);
    const prelude = request && upgradePrelude(request);
    if (request && prelude) return decided({ kind: 'h2c', prelude, rest: request.rest });
    socket.unshift(got);
    decided({ kind: 'http1' });
  };
  socket.on('data', onData);
  socket.on('close', stop);
}

/** Whether `s` (no CRLF yet) can still become a request line: a TLS ClientHello or binary
 *  cannot, and goes to the engine at once rather than waiting out the handshake timeout. */
function startsRequestLine(s: string): boolean {
  const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: ([^ \r\n]*)(?: ([^\r\n]*)\r?)?)?$/.exec(s);
  if (!m) return false;
  return m[2] === undefined || 'HTTP/1.1'.startsWith(m[2]) || /^HTTP\/1\.[0-9]$/.test(m[2]);
}

export interface Http1Options {
  handler: StreamHandler;
  secure: boolean;
  settings: ConnectionOptions;
  onError: (e: unknown) => void;
  onStreamsLost: (count: number) => void;
  openFile?: FileOpener;
}

interface SocketState {
  inFlight: number;
  /** Handlers whose client went away under them: told once, when the connection and they are over. */
  lost: number;
  closed: boolean;
}

/** The HTTP/1.1 side of serve(): connections are handed in with accept(). */
export class Http1Server {
  private readonly server: http.Server;
  private readonly sockets = new Map<net.Socket, SocketState>();
  closing = false;
  /** writeStallTimeoutMs: how long a response may wait for its client to take any of it. */
  readonly writeStallMs: number;

  constructor(private readonly o: Http1Options) {
    const s = o.settings;
    this.writeStallMs = s.writeStallTimeoutMs ?? WRITE_STALL_TIMEOUT_MS;
    const headersTimeout = s.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
    this.server = http.createServer(
      {
        keepAliveTimeout: s.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
        headersTimeout,
        requestTimeout: Math.max(headersTimeout, 300_000), // node's default; it must not be below headersTimeout
        connectionsCheckingInterval: 1000,
        maxHeaderSize: s.maxHeaderListSize,
      },
      (req, res) => this.dispatch(req, res, false),
    );
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
    socket.once('close', () => {
      this.sockets.delete(socket);
      state.closed = true;
      this.reportLost(state);
    });
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
    const socket = req.socket;
    const state = this.sockets.get(socket) ?? { inFlight: 0, lost: 0, closed: false };
    state.inFlight++;
    const incoming = new Http1Request(req, this.o.secure, expectContinue ? res : undefined);
    const responder = new Http1Responder(req, res, this, this.o.openFile);
    const done = () => {
      responder.unanswered();
      state.inFlight--;
      if (this.closing && state.inFlight === 0) socket.destroySoon(); // after what was written
      this.reportLost(state);
    };
    const failed = (e: unknown) => {
      if (e instanceof StreamClosedError) state.lost++;
      else this.o.onError(e);
      // HTTP/1.1 has no stream to reset: a 500 when nothing was sent, else the connection goes.
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-length': '0' }).end();
      else if (!res.writableEnded) res.destroy();
      done();
    };
    let result: void | Promise<void>;
    try {
      result = this.o.handler(incoming, responder);
    } catch (e) {
      failed(e);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).then(done, failed);
    else done();
  }
}

/** The body of a request that has none: every GET's. */
const ENDED: Promise<IteratorResult<Uint8Array>> = Promise.resolve({ done: true, value: undefined });
const NO_BODY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => ENDED }) };

/** A field of node's raw list by lower-case name (node's `headers` object is built on first use: unused here). */
function rawField(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

class Http1Request implements IncomingRequest {
  readonly httpVersion: string;
  readonly method: string;
  readonly scheme: string;
  readonly path: string;
  readonly protocol = '';
  readonly streamId = 0;
  private headerList: [string, string][] | undefined;
  private read = false;

  constructor(
    private readonly req: http.IncomingMessage,
    secure: boolean,
    /** Where `100 Continue` goes when the handler starts reading the body; absent when not asked for. */
    private continueVia: http.ServerResponse | undefined,
  ) {
    this.httpVersion = req.httpVersion;
    this.method = req.method ?? 'GET';
    this.scheme = secure ? 'https' : 'http';
    this.path = req.url ?? '/';
  }

  get authority(): string {
    return rawField(this.req.rawHeaders, 'host') ?? '';
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

  body(): AsyncIterable<Uint8Array> {
    if (this.read) return NO_BODY;
    this.read = true;
    const raw = this.req.rawHeaders;
    if (rawField(raw, 'transfer-encoding') === undefined && (rawField(raw, 'content-length') ?? '0') === '0')
      return NO_BODY; // no stream to start
    return this.stream();
  }

  private async *stream(): AsyncIterable<Uint8Array> {
    const req = this.req;
    if (this.continueVia && expectsContinue(this.headers) && !this.continueVia.headersSent)
      this.continueVia.writeContinue();
    this.continueVia = undefined;
    try {
      for await (const chunk of req) yield chunk as Buffer;
    } catch (e) {
      throw new StreamClosedError(`h2wasm: request body: ${(e as Error).message}`);
    }
    if (!req.complete) throw new StreamClosedError('h2wasm: request body: the connection closed mid-body');
  }

  async trailers(): Promise<[string, string][]> {
    if (!this.read) for await (const _ of this.body()) void _;
    const raw = this.req.rawTrailers;
    const out: [string, string][] = [];
    for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
    return out;
  }
}

const NO_BODY_STATUS = new Set([204, 304]);
const RESOLVED = Promise.resolve();

/** Whether node's flat [name, value, …] list has `name`. */
function hasName(raw: string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === name) return true;
  return false;
}

class Http1Responder implements Responder {
  private sent = false;

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
      if (
        !hasName(raw, 'content-length') &&
        !NO_BODY_STATUS.has(status) &&
        (body != null || this.req.method !== 'HEAD')
      )
        raw.push(
          'content-length',
          String(body == null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length),
        );
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
    const withTrailers = trailerList.length > 0 && /(^|,)\s*trailers\s*(,|$)/i.test(String(this.req.headers.te ?? ''));
    const raw = this.head(headers, withTrailers);
    if (withTrailers) raw.push('trailer', trailerList.map(([n]) => n).join(', '));
    else if (typeof body === 'string' || body instanceof Uint8Array || body == null) {
      if (
        !hasName(raw, 'content-length') &&
        !NO_BODY_STATUS.has(status) &&
        (body != null || this.req.method !== 'HEAD')
      )
        raw.push(
          'content-length',
          String(body == null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length),
        );
    }
    this.writeHead(status, raw);
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      for (let at = 0; at < bytes.length; at += PIECE) await this.write(bytes.subarray(at, at + PIECE));
    } else if (body != null) for await (const chunk of body) await this.write(chunk);
    if (withTrailers) res.addTrailers(trailerList);
    return this.end();
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

  /** A handler that finished without answering: HTTP/2 resets its stream; here, a 500. */
  unanswered(): void {
    if (!this.sent && !this.res.headersSent && !this.res.destroyed)
      this.res.writeHead(500, { 'content-length': '0' }).end();
  }

  /** The head as node's flat list (without content-length when `lengthless`); `connection: close` while the server closes. */
  private head(headers: Iterable<[string, string]>, lengthless: boolean): string[] {
    if (this.sent) throw new Error('h2wasm: response already sent');
    this.sent = true;
    const raw: string[] = [];
    for (const [name, value] of headers) if (!lengthless || name !== 'content-length') raw.push(name, value);
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

  /** Writes a piece; waits while node's buffer is full. Throws StreamClosedError once the client is gone. */
  private write(chunk: Uint8Array | string): Promise<void> | void {
    const res = this.res;
    if (res.destroyed) throw new StreamClosedError('h2wasm: response: the connection closed');
    if (res.write(chunk)) return;
    return new Promise((resolve, reject) => {
      // A client that takes none of it for writeStallTimeoutMs loses the connection (a peer
      // that never reads must not hold it, and what is queued for it, for ever).
      const stalled = setTimeout(() => res.destroy(), this.server.writeStallMs);
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
