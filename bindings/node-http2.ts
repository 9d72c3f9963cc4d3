// A node:http2-compatible CLIENT on h2wasm (package subpath `h2wasm/node-http2`): the
// part of node's API that @grpc/grpc-js 1.14 uses (connect, the session's events, ping,
// request, streams as Duplex, constants), so that a library written against node:http2
// runs unchanged where the runtime's own http2 is missing or broken (Bun, Deno, workerd),
// aliased in place of `http2` / `node:http2`. The HTTP/2 is h2wasm's: the same bytes on
// every runtime, over a node:net / node:tls socket (or one from `createConnection`).
//
// Not covered: the server side (createServer throws), server push (refused), sending
// trailers (waitForTrailers), a chosen PING payload, priority, session.goaway(). What the
// engine does not report, the session learns from the frames it receives (a read-only
// look at each frame's 9-byte header; SETTINGS, PING and GOAWAY payloads): remote
// settings, SETTINGS acknowledgements, and a server's GOAWAY with its code and data.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { setImmediate } from 'node:timers'; // Deno has no global one outside npm packages
import net from 'node:net';
import tls from 'node:tls';
import { attachSocket, runtime } from './node.js';
import {
  ClientSession,
  ClientStream,
  H2ConnectionError,
  H2StreamError,
  H2_ERROR_NAMES,
  type ClientResponse,
} from './client.js';
import type { ConnectionOptions } from './server-conn.js';
import { socketAddress } from './http-fields.js';
import { H2E } from './abi.js';
import { constants } from './node-http2-constants.js';

export { constants };

const NO_ERROR = 0;
const INTERNAL_ERROR = 2;
const REFUSED_STREAM = 7;
const CANCEL = 8;
const FLAG_END_STREAM = 1;
const FLAG_END_HEADERS = 4;

/** Counts of what went through this module: proof, for a test, that traffic took h2wasm. */
export const h2wasmStats = { sessions: 0, streams: 0, pings: 0, bytesSent: 0, bytesReceived: 0 };

export type OutgoingHttpHeaders = Record<string, string | number | string[] | undefined>;
export type IncomingHttpHeaders = Record<string, string | string[] | number | undefined>;

/** node's Settings object. */
export interface Settings {
  headerTableSize?: number;
  enablePush?: boolean;
  initialWindowSize?: number;
  maxFrameSize?: number;
  maxConcurrentStreams?: number;
  maxHeaderListSize?: number;
  maxHeaderSize?: number;
  enableConnectProtocol?: boolean;
}

export interface ClientSessionOptions extends tls.ConnectionOptions {
  /** The socket to run on (grpc-js passes one it connected, through a proxy or TLS). */
  createConnection?: (authority: URL, options: ClientSessionOptions) => net.Socket;
  settings?: Settings;
  protocol?: 'http:' | 'https:';
  /** h2wasm's own connection options (see connect() in the package's main entry). */
  h2wasm?: ConnectionOptions & { onBytes?: (direction: 'send' | 'recv', bytes: Uint8Array) => void };
  // node's session options h2wasm has no use for (maxSessionMemory, peerMaxConcurrentStreams…).
  [option: string]: unknown;
}

export interface ClientSessionRequestOptions {
  endStream?: boolean;
  signal?: AbortSignal;
  // node's exclusive, parent, weight, waitForTrailers: not supported, ignored.
  [option: string]: unknown;
}

type NodeError = Error & { code: string };
function nodeError(code: string, message: string): NodeError {
  return Object.assign(new Error(message), { code });
}
const codeName = (code: number) => (H2_ERROR_NAMES[code] ? `NGHTTP2_${H2_ERROR_NAMES[code]}` : String(code));

/** Marks fields node would send never-indexed; accepted and ignored here. */
export const sensitiveHeaders = Symbol('nodejs.http2.sensitiveHeaders');

// Fields node keeps once (the first wins), as its toHeaderObject does.
const SINGLE = new Set([
  ':status',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'etag',
  'expires',
  'last-modified',
  'location',
  'retry-after',
  'server',
]);

/** Field pairs as node's headers object (null prototype; :status a number; repeats joined). */
function headersObject(status: number, fields: [string, string][]): { headers: IncomingHttpHeaders; raw: string[] } {
  const headers: IncomingHttpHeaders = Object.create(null);
  (headers as Record<symbol, unknown>)[sensitiveHeaders] = [];
  const raw: string[] = [':status', String(status)];
  headers[':status'] = status;
  for (const [name, value] of fields) {
    raw.push(name, value);
    const had = headers[name];
    if (had === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (SINGLE.has(name)) continue;
    else if (Array.isArray(had)) had.push(value);
    else headers[name] = `${had}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return { headers, raw };
}

function settingsOptions(s: Settings | undefined): ConnectionOptions {
  if (!s) return {};
  return {
    headerTableSize: s.headerTableSize,
    maxConcurrentStreams: s.maxConcurrentStreams,
    initialWindowSize: s.initialWindowSize,
    maxFrameSize: s.maxFrameSize,
    maxHeaderListSize: s.maxHeaderListSize ?? s.maxHeaderSize,
  };
}

/** RFC 9113 §6.5.2 initial values, as node reports a peer's settings before they arrive. */
const DEFAULT_REMOTE: Required<Omit<Settings, 'maxHeaderSize'>> = {
  headerTableSize: 4096,
  enablePush: true,
  initialWindowSize: 65535,
  maxFrameSize: 16384,
  maxConcurrentStreams: 0xffffffff,
  maxHeaderListSize: 0xffffffff,
  enableConnectProtocol: false,
};
const SETTING_NAMES: Record<number, keyof typeof DEFAULT_REMOTE> = {
  1: 'headerTableSize',
  2: 'enablePush',
  3: 'maxConcurrentStreams',
  4: 'initialWindowSize',
  5: 'maxFrameSize',
  6: 'maxHeaderListSize',
  8: 'enableConnectProtocol',
};

/** node's default settings (grpc-js reads initialWindowSize from them). */
export function getDefaultSettings(): Settings {
  return {
    headerTableSize: 4096,
    enablePush: true,
    initialWindowSize: 65535,
    maxFrameSize: 16384,
    maxConcurrentStreams: 0xffffffff,
    maxHeaderListSize: 65535,
    maxHeaderSize: 65535,
    enableConnectProtocol: false,
  };
}

// ---- the frames the server sends, watched --------------------------------------------

const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const FLAG_ACK = 1;
/** Payload bytes kept of a watched frame (enough for every setting, a PING, GOAWAY with 1 KiB of debug data). */
const KEEP = { [SETTINGS]: 6 * 64, [PING]: 8, [GOAWAY]: 8 + 1024 } as Record<number, number>;

/**
 * Follows the server's frames through the bytes it sends (the 9-byte headers, payloads
 * skipped), keeping SETTINGS, PING and GOAWAY payloads for `onFrame`. Read-only: the
 * engine validates and acts on every frame; this only tells node's events.
 */
class FrameWatch {
  private readonly head = new Uint8Array(9);
  private headLen = 0;
  private type = 0;
  private flags = 0;
  private left = 0;
  private keep: Uint8Array | null = null;
  private kept = 0;
  constructor(private readonly onFrame: (type: number, flags: number, payload: Uint8Array) => void) {}

  push(b: Uint8Array): void {
    let i = 0;
    while (i < b.length) {
      if (this.headLen < 9) {
        const n = Math.min(9 - this.headLen, b.length - i);
        this.head.set(b.subarray(i, i + n), this.headLen);
        this.headLen += n;
        i += n;
        if (this.headLen < 9) return;
        const h = this.head;
        const stream = ((h[5] & 0x7f) << 24) | (h[6] << 16) | (h[7] << 8) | h[8];
        this.left = (h[0] << 16) | (h[1] << 8) | h[2];
        this.type = h[3];
        this.flags = h[4];
        const keep = stream === 0 ? KEEP[this.type] : undefined;
        this.keep = keep === undefined ? null : new Uint8Array(Math.min(keep, this.left));
        this.kept = 0;
        if (this.left === 0) this.done();
        continue;
      }
      const n = Math.min(this.left, b.length - i);
      if (this.keep && this.kept < this.keep.length) {
        const m = Math.min(n, this.keep.length - this.kept);
        this.keep.set(b.subarray(i, i + m), this.kept);
        this.kept += m;
      }
      i += n;
      this.left -= n;
      if (this.left === 0) this.done();
    }
  }

  private done(): void {
    const keep = this.keep;
    this.headLen = 0;
    this.keep = null;
    if (keep) this.onFrame(this.type, this.flags, keep);
  }
}

// ---- the session -----------------------------------------------------------------------

/** A client session as node:http2's ClientHttp2Session, on an h2wasm ClientSession. */
export class ClientHttp2Session extends EventEmitter {
  readonly type = constants.NGHTTP2_SESSION_CLIENT;
  readonly socket: net.Socket;
  readonly encrypted: boolean;
  alpnProtocol: string | undefined;
  connecting = true;
  closed = false;
  destroyed = false;
  readonly remoteSettings: Settings = { ...DEFAULT_REMOTE };
  readonly localSettings: Settings;
  /** SETTINGS we sent that the server has not acknowledged yet. */
  pendingSettingsAck = true;
  /** The h2wasm session underneath (its API: bindings/client.ts). */
  readonly h2wasm: ClientSession;
  private readonly streams = new Set<ClientHttp2Stream>();
  // Our SETTINGS frames awaiting their ACK, in order: the handshake's first (no callback).
  // A settings() call of several keys sends a frame per key: only its last ACK calls back
  // (the others are `undefined` here).
  private readonly settingsCallbacks: (
    ((err: Error | null, settings: Settings, duration: number) => void) | undefined
  )[] = [() => {}];
  private readonly settingsSent: number[] = [Date.now()];
  private isReady = false;
  private goawayCode: number | undefined;
  private socketError: Error | undefined;

  constructor(authority: URL, options: ClientSessionOptions) {
    super();
    h2wasmStats.sessions++;
    const secure = (options.protocol ?? authority.protocol) === 'https:';
    const { host } = socketAddress(authority);
    const port = Number(authority.port) || (secure ? 443 : 80);
    const { createConnection, settings, h2wasm = {} } = options;
    // node passes its options on to tls.connect, which ignores the ones that are not its own.
    const socket = createConnection
      ? createConnection(authority, options)
      : secure
        ? tls.connect({
            ...options,
            host,
            port,
            servername: options.servername ?? (net.isIP(host) ? undefined : host),
            ALPNProtocols: ['h2'],
          })
        : net.connect({ host, port });
    this.socket = socket;
    this.encrypted = socket instanceof tls.TLSSocket;
    this.alpnProtocol = this.encrypted ? undefined : 'h2c';
    const { onBytes, ...h2Options } = h2wasm;
    const local = settingsOptions(settings);
    this.localSettings = {
      headerTableSize: local.headerTableSize ?? 4096,
      enablePush: false,
      initialWindowSize: local.initialWindowSize ?? 65535,
      maxFrameSize: local.maxFrameSize ?? 16384,
      maxConcurrentStreams: local.maxConcurrentStreams ?? 0xffffffff,
      maxHeaderListSize: local.maxHeaderListSize ?? 65536,
      enableConnectProtocol: false,
    };
    const watch = new FrameWatch((type, flags, payload) => this.frame(type, flags, payload));
    const rt = runtime();
    const { transport, io } = attachSocket(rt, socket, (direction, bytes) => {
      if (direction === 'recv') {
        h2wasmStats.bytesReceived += bytes.length;
        watch.push(bytes);
      } else h2wasmStats.bytesSent += bytes.length;
      onBytes?.(direction, bytes);
    });
    // Push is not offered: the engine resets pushed streams without an onPush.
    this.h2wasm = new ClientSession(rt, transport, io, {
      ...h2Options,
      ...local,
      enablePush: false,
      scheme: secure ? 'https' : 'http',
      authority: authority.host,
    });
    socket.on('error', (e) => {
      this.socketError ??= e;
      this.h2wasm.failWith(e);
    });
    const connected = () => {
      this.connecting = false;
      if (this.encrypted) {
        this.alpnProtocol = (socket as tls.TLSSocket).alpnProtocol || undefined;
        if (this.alpnProtocol !== 'h2') {
          const e = nodeError('ERR_HTTP2_ERROR', `${authority.host} did not negotiate h2 (ALPN: ${this.alpnProtocol})`);
          this.socketError ??= e;
          this.h2wasm.failWith(e);
          return;
        }
      }
      if (!this.destroyed) this.emit('connect', this, socket);
    };
    const pending =
      socket.connecting || (this.encrypted && (socket as { secureConnecting?: boolean }).secureConnecting);
    if (!pending) process.nextTick(connected);
    else socket.once(this.encrypted ? 'secureConnect' : 'connect', connected);
    this.h2wasm.ready.then(
      () => {
        this.isReady = true;
        if (!this.destroyed) this.emit('remoteSettings', { ...this.remoteSettings });
      },
      () => {},
    );
    this.h2wasm.closed.then(() => this.lost());
  }

  /** A frame from the server (SETTINGS, PING or GOAWAY on stream 0), seen before the engine acts on it. */
  private frame(type: number, flags: number, payload: Uint8Array): void {
    if (this.destroyed) return;
    if (type === SETTINGS && flags & FLAG_ACK) {
      const sent = this.settingsSent.shift();
      const cb = this.settingsCallbacks.shift();
      this.pendingSettingsAck = this.settingsCallbacks.length > 0;
      if (cb) {
        this.emit('localSettings', { ...this.localSettings });
        cb(null, { ...this.localSettings }, sent === undefined ? 0 : Date.now() - sent);
      }
    } else if (type === SETTINGS) {
      for (let at = 0; at + 6 <= payload.length; at += 6) {
        const id = (payload[at] << 8) | payload[at + 1];
        const value =
          ((payload[at + 2] << 24) | (payload[at + 3] << 16) | (payload[at + 4] << 8) | payload[at + 5]) >>> 0;
        const name = SETTING_NAMES[id];
        if (name === 'enablePush' || name === 'enableConnectProtocol') this.remoteSettings[name] = value === 1;
        else if (name) this.remoteSettings[name] = value;
      }
      // The first SETTINGS is told once the handshake is through (h2wasm.ready).
      if (this.isReady) this.emit('remoteSettings', { ...this.remoteSettings });
    } else if (type === PING && !(flags & FLAG_ACK)) {
      this.emit('ping', Buffer.from(payload));
    } else if (type === GOAWAY && payload.length >= 8) {
      const last = ((payload[0] & 0x7f) << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3];
      const code = ((payload[4] << 24) | (payload[5] << 16) | (payload[6] << 8) | payload[7]) >>> 0;
      this.goawayCode = code;
      this.emit('goaway', code, last, Buffer.from(payload.subarray(8)));
      // As node: no new streams after a GOAWAY; one with an error ends the session. After
      // this turn, once the engine has acted on the frame itself.
      setImmediate(() => {
        if (code === NO_ERROR) this.close();
        else this.destroy(nodeError('ERR_HTTP2_SESSION_ERROR', `Session closed with error code ${code}`), NO_ERROR);
      });
    }
  }

  get state(): Record<string, number | undefined> {
    // The engine keeps its windows and queues to itself: node's fields are left undefined.
    return {};
  }

  get originSet(): string[] | undefined {
    return undefined;
  }

  request(headers: OutgoingHttpHeaders = {}, options: ClientSessionRequestOptions = {}): ClientHttp2Stream {
    if (this.destroyed) throw nodeError('ERR_HTTP2_INVALID_SESSION', 'The session has been destroyed');
    if (this.closed)
      throw nodeError('ERR_HTTP2_GOAWAY_SESSION', 'New streams cannot be created after receiving a GOAWAY');
    h2wasmStats.streams++;
    const stream = new ClientHttp2Stream(this, headers, options);
    this.streams.add(stream);
    return stream;
  }

  /** @internal */
  streamClosed(stream: ClientHttp2Stream): void {
    this.streams.delete(stream);
  }

  /** @internal A stream saw the connection fail: the session closes before the stream reports it. */
  connectionFailed(): void {
    this.lost();
  }

  /** PING round trip; the callback gets (err, duration ms, payload). The payload sent is
   *  the engine's own: the one given is handed back as node would after its echo. */
  ping(payload?: Buffer | PingCallback, callback?: PingCallback): boolean {
    if (typeof payload === 'function') {
      callback = payload;
      payload = undefined;
    }
    if (this.destroyed) throw nodeError('ERR_HTTP2_INVALID_SESSION', 'The session has been destroyed');
    if (typeof callback !== 'function')
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "callback" argument must be a function');
    if (payload !== undefined && payload.length !== 8)
      throw nodeError('ERR_HTTP2_PING_LENGTH', 'HTTP2 ping payload must be 8 bytes');
    const echo = payload ?? Buffer.alloc(8);
    const cb = callback;
    h2wasmStats.pings++;
    this.h2wasm.ping().then(
      (ms) => cb(null, ms, echo),
      () => cb(nodeError('ERR_HTTP2_PING_CANCEL', 'HTTP2 ping cancelled'), 0, echo),
    );
    return true;
  }

  /** Announces new SETTINGS; the callback runs once the server acknowledged them. */
  settings(settings: Settings, callback?: (err: Error | null, settings: Settings, duration: number) => void): void {
    if (this.destroyed) throw nodeError('ERR_HTTP2_INVALID_SESSION', 'The session has been destroyed');
    const options = settingsOptions(settings);
    const frames = this.h2wasm.updateSettings(options);
    for (const [k, v] of Object.entries(options))
      if (v !== undefined) (this.localSettings as Record<string, unknown>)[k] = v;
    const cb = callback ?? (() => {});
    if (frames === 0) {
      process.nextTick(() => cb(null, { ...this.localSettings }, 0)); // nothing to acknowledge
      return;
    }
    this.pendingSettingsAck = true;
    for (let i = 0; i < frames; i++) {
      this.settingsSent.push(Date.now());
      this.settingsCallbacks.push(i === frames - 1 ? cb : undefined);
    }
  }

  /** Moves the connection's receive window (grpc-js's `grpc-node.flow_control_window`). */
  setLocalWindowSize(size: number): void {
    this.h2wasm.setConnectionWindow(size);
  }

  setTimeout(ms: number, callback?: () => void): void {
    if (callback) this.once('timeout', callback);
    this.socket.setTimeout(ms, () => this.emit('timeout'));
  }

  ref(): void {
    this.socket.ref?.();
  }

  unref(): void {
    this.socket.unref?.();
  }

  /** Graceful close: GOAWAY, the open streams finish, then the session closes. */
  close(callback?: () => void): void {
    if (callback) this.once('close', callback);
    if (this.closed || this.destroyed) return;
    this.closed = true;
    void this.h2wasm.close();
  }

  /** Abrupt close: open streams end with the code of a GOAWAY received, else `code` (node's
   *  rule: INTERNAL_ERROR with an error, else NO_ERROR). */
  destroy(error?: Error, code?: number): void {
    if (this.destroyed) return;
    this.finish(error, this.goawayCode || (code ?? (error ? INTERNAL_ERROR : NO_ERROR)));
    this.h2wasm.destroy();
  }

  /** The connection ended under us: streams still open end as their connection dropped. */
  private lost(): void {
    if (this.destroyed) return;
    const core = this.h2wasm.error;
    // A connection that merely ended (EOF) is no error, as node sees a socket that closed.
    const error =
      this.socketError ??
      (core && core.h2Code !== H2E.UNEXPECTED_EOF && core.errorCode !== NO_ERROR ? core : undefined);
    // CANCEL (grpc-js: UNAVAILABLE "Connection dropped"), or the code of the server's GOAWAY.
    this.finish(error, this.goawayCode || CANCEL);
  }

  private finish(error: Error | undefined, streamCode: number): void {
    this.destroyed = true;
    this.closed = true;
    for (const s of [...this.streams]) s.sessionEnded(streamCode, error);
    this.streams.clear();
    for (const cb of this.settingsCallbacks.splice(0))
      cb?.(nodeError('ERR_HTTP2_SESSION_ERROR', 'the session closed'), {}, 0);
    // After the streams' own 'close' (each on the next tick), as node orders them.
    process.nextTick(() => {
      if (error) this.emit('error', error);
      this.emit('close');
    });
  }

  goaway(): void {
    throw nodeError('ERR_METHOD_NOT_IMPLEMENTED', 'h2wasm/node-http2: session.goaway() is not supported');
  }
}

type PingCallback = (err: Error | null, duration: number, payload: Buffer) => void;

// ---- streams ---------------------------------------------------------------------------

/** A request as node:http2's ClientHttp2Stream: write the body, read the response. */
export class ClientHttp2Stream extends Duplex {
  rstCode = NO_ERROR;
  id: number | undefined;
  readonly sentHeaders: OutgoingHttpHeaders;
  session: ClientHttp2Session | undefined;
  endAfterHeaders = false;
  aborted = false;
  // The RST_STREAM was sent or received, or the stream ended both ways (the Duplex's own
  // `closed` says so once 'close' was emitted).
  private isClosed = false;
  private res: ClientStream | undefined;
  private bodyIt: AsyncIterator<Uint8Array> | undefined;
  private pumping = false;
  private readonly controller = new AbortController();
  // The request body, handed to the engine one chunk per pull (its pace is the backpressure).
  private readonly outQueue: { chunk: Uint8Array; cb: (e?: Error | null) => void }[] = [];
  private handedCb: ((e?: Error | null) => void) | undefined;
  private finalCb: ((e?: Error | null) => void) | undefined;
  private outWaiter: (() => void) | undefined;
  private outDone = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dropAbortListener: (() => void) | undefined;
  private timeoutMs = 0;

  constructor(session: ClientHttp2Session, headers: OutgoingHttpHeaders, options: ClientSessionRequestOptions) {
    super({ allowHalfOpen: true, autoDestroy: true, emitClose: true });
    this.session = session;
    let method = 'GET';
    let path = '/';
    let authority: string | undefined;
    let protocol: string | undefined;
    const fields: [string, string][] = [];
    const sent: OutgoingHttpHeaders = Object.create(null);
    for (const [key, value] of Object.entries(headers)) {
      if (value === undefined || value === null) continue;
      const name = key.toLowerCase();
      sent[name] = value;
      if (name === ':method') method = String(value).toUpperCase();
      else if (name === ':path') path = String(value);
      else if (name === ':authority') authority = String(value);
      else if (name === ':protocol') protocol = String(value);
      else if (name === ':scheme')
        continue; // the session's
      else if (Array.isArray(value)) for (const v of value) fields.push([name, String(v)]);
      else fields.push([name, String(value)]);
    }
    sent[':method'] = method;
    sent[':scheme'] = session.h2wasm.scheme;
    sent[':authority'] = authority ?? session.h2wasm.authority;
    sent[':path'] = path;
    this.sentHeaders = sent;
    const endStream = options.endStream ?? (method === 'GET' || method === 'HEAD' || method === 'DELETE');
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) process.nextTick(() => this.destroy(abortError()));
      else {
        // Removed when the stream closes: a long-lived signal must not hold every stream.
        const onAbort = () => this.destroy(abortError());
        signal.addEventListener('abort', onAbort, { once: true });
        this.dropAbortListener = () => signal.removeEventListener('abort', onAbort);
      }
    }
    const body: AsyncIterable<Uint8Array> | undefined = endStream
      ? undefined
      : { [Symbol.asyncIterator]: () => ({ next: () => this.nextOut(), return: async () => this.outEnded() }) };
    session.h2wasm
      .request({
        method,
        path,
        authority,
        protocol,
        headers: fields,
        body,
        signal: this.controller.signal,
        onInformational: (status, h) => {
          const { headers: obj } = headersObject(status, h);
          if (status === 100) this.emit('continue');
          this.emit('headers', obj, 0);
        },
      })
      .then(
        (res) => this.head(res as ClientStream),
        (e) => this.failed(e),
      );
    if (endStream) {
      this.outDone = true; // END_STREAM went with the headers
      this.end();
    }
  }

  get pending(): boolean {
    return this.id === undefined;
  }

  get state(): Record<string, number> {
    return {};
  }

  get bufferSize(): number {
    return this.writableLength;
  }

  private head(res: ClientStream): void {
    if (this.destroyed) {
      res.reset(this.rstCode || CANCEL);
      return;
    }
    this.res = res;
    this.id = res.streamId || undefined;
    this.endAfterHeaders = res.endedWithHead;
    this.touch();
    const { headers, raw } = headersObject(res.status, res.headers);
    this.emit('response', headers, FLAG_END_HEADERS | (res.endedWithHead ? FLAG_END_STREAM : 0), raw);
    this.bodyIt = (res as ClientResponse).body[Symbol.asyncIterator]();
    void this.pump();
  }

  // ---- the response body: read when the consumer asks (flow control is the engine's) ---

  override _read(): void {
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.bodyIt || this.destroyed) return;
    this.pumping = true;
    try {
      for (;;) {
        const { value, done } = await this.bodyIt.next();
        if (this.destroyed) return;
        this.touch();
        if (done) {
          const trailers = this.res && !this.res.endedWithHead ? await this.res.trailers() : [];
          if (this.destroyed) return;
          if (trailers.length) {
            const { headers, raw } = headersObject(0, trailers);
            delete headers[':status'];
            this.emit('trailers', headers, FLAG_END_HEADERS | FLAG_END_STREAM, raw.slice(2));
          }
          this.bodyIt = undefined;
          this.push(null);
          // As node's: 'end' comes even while paused once nothing is left unread (grpc-js
          // pauses after a unary call's message and waits for 'end').
          this.read(0);
          return;
        }
        if (!this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) return;
      }
    } catch (e) {
      this.failed(e);
    } finally {
      this.pumping = false;
    }
  }

  // ---- the request body -------------------------------------------------------------------

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.touch();
    if (this.outDone) return cb(); // the stream can send no more: what is written goes nowhere
    this.outQueue.push({ chunk, cb });
    this.wakeOut();
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (this.outDone) return cb();
    this.finalCb = cb;
    this.wakeOut();
  }

  private wakeOut(): void {
    const w = this.outWaiter;
    this.outWaiter = undefined;
    w?.();
  }

  /** The engine pulls the next chunk: the one before is on its way (its write completes). */
  private async nextOut(): Promise<IteratorResult<Uint8Array>> {
    this.handedCb?.();
    this.handedCb = undefined;
    for (;;) {
      if (this.outDone) return { value: undefined, done: true };
      const item = this.outQueue.shift();
      if (item) {
        this.handedCb = item.cb;
        return { value: item.chunk, done: false };
      }
      if (this.finalCb) {
        const cb = this.finalCb;
        this.finalCb = undefined;
        this.outDone = true;
        cb();
        return { value: undefined, done: true };
      }
      await new Promise<void>((r) => (this.outWaiter = r));
    }
  }

  /** The engine stopped taking the body (the stream ended): writes left complete unsent. */
  private outEnded(): IteratorResult<Uint8Array> {
    this.outDone = true;
    const cbs = [this.handedCb, ...this.outQueue.splice(0).map((i) => i.cb), this.finalCb];
    this.handedCb = undefined;
    this.finalCb = undefined;
    for (const cb of cbs) cb?.();
    this.wakeOut();
    return { value: undefined, done: true };
  }

  // ---- ending -----------------------------------------------------------------------------

  /** RST_STREAM with `code` (NO_ERROR by default); 'close' follows. */
  close(code: number = NO_ERROR, callback?: () => void): void {
    if (callback) this.once('close', callback);
    if (this.isClosed || this.destroyed) return;
    this.isClosed = true;
    this.rstCode = code;
    this.sendReset(code);
    this.destroy();
  }

  private sendReset(code: number): void {
    if (this.res) this.res.reset(code);
    else this.controller.abort(); // before the response head: CANCEL
  }

  /** The request failed, or the body did: the peer's RST_STREAM, a refusal, the connection. */
  private failed(e: unknown): void {
    if (this.destroyed) return;
    if (e instanceof H2StreamError) {
      // Not processed by the server (refused, above a GOAWAY's last stream): retryable, as REFUSED_STREAM.
      const code = e.errorCode || (e.retryable ? REFUSED_STREAM : NO_ERROR);
      this.isClosed = true;
      this.rstCode = code;
      if (!this.readableEnded) {
        this.aborted = true;
        this.emit('aborted');
      }
      this.destroy();
    } else if (e instanceof H2ConnectionError || this.session?.h2wasm.connectionFailed) {
      this.session?.connectionFailed();
      if (!this.destroyed) this.sessionEnded(CANCEL, e instanceof Error ? e : undefined);
    } else {
      this.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** @internal The session ended while this stream was open. */
  sessionEnded(code: number, error: Error | undefined): void {
    if (this.destroyed) return;
    this.isClosed = true;
    this.rstCode = code;
    this.sendReset(code);
    if (!this.readableEnded) {
      this.aborted = true;
      this.emit('aborted');
    }
    this.destroy(error);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.dropAbortListener?.();
    const finishedBothWays = this.readableEnded && this.writableFinished;
    if (!this.isClosed) {
      this.isClosed = true;
      // node: an error destroys with INTERNAL_ERROR (CANCEL for an abort); a stream over both ways needs no reset.
      const code = err ? (err.name === 'AbortError' ? CANCEL : INTERNAL_ERROR) : finishedBothWays ? NO_ERROR : CANCEL;
      this.rstCode = code;
      if (!finishedBothWays) this.sendReset(code);
    }
    this.outEnded();
    this.session?.streamClosed(this);
    this.session = undefined;
    const code = this.rstCode;
    if (!err && code !== NO_ERROR && code !== CANCEL)
      err = nodeError('ERR_HTTP2_STREAM_ERROR', `Stream closed with error code ${codeName(code)}`);
    cb(err);
  }

  setTimeout(ms: number, callback?: () => void): void {
    if (callback) this.once('timeout', callback);
    this.timeoutMs = ms;
    this.touch();
  }

  private touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.timeoutMs > 0 && !this.destroyed) {
      this.timer = setTimeout(() => this.emit('timeout'), this.timeoutMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  priority(): void {
    // PRIORITY is deprecated (RFC 9113 §5.3.2): nothing to send.
  }

  sendTrailers(): void {
    throw nodeError('ERR_METHOD_NOT_IMPLEMENTED', 'h2wasm/node-http2: sending trailers is not supported');
  }
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

// ---- module functions ---------------------------------------------------------------------

/** node's http2.connect(): a client session to `authority` ('http://host:port' is h2c). */
export function connect(
  authority: string | URL,
  options?: ClientSessionOptions | ((session: ClientHttp2Session, socket: net.Socket) => void),
  listener?: (session: ClientHttp2Session, socket: net.Socket) => void,
): ClientHttp2Session {
  if (typeof options === 'function') {
    listener = options;
    options = undefined;
  }
  const url = typeof authority === 'string' ? new URL(authority) : authority;
  const protocol = options?.protocol ?? url.protocol;
  if (protocol !== 'http:' && protocol !== 'https:')
    throw nodeError('ERR_HTTP2_UNSUPPORTED_PROTOCOL', `protocol "${protocol}" is unsupported.`);
  const session = new ClientHttp2Session(url, options ?? {});
  if (listener) session.once('connect', listener);
  return session;
}

function serverSide(): never {
  throw nodeError('ERR_METHOD_NOT_IMPLEMENTED', 'h2wasm/node-http2 is a client only: no http2 server here');
}

/** Not provided: h2wasm's server is `serve()` in the package's main entry. */
export function createServer(): never {
  return serverSide();
}

/** Not provided: h2wasm's server is `serve()` in the package's main entry. */
export function createSecureServer(): never {
  return serverSide();
}

export default {
  connect,
  constants,
  createServer,
  createSecureServer,
  getDefaultSettings,
  sensitiveHeaders,
  ClientHttp2Session,
  ClientHttp2Stream,
  h2wasmStats,
};
