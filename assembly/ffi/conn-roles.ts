// Client and server connections through the ABI: options (every SETTINGS value and
// limit of proto/config.ts), handshakes, sending requests, accepting requests and
// answering them. hyper's client flow (hyper_clientconn_*) and the h2 crate's server
// (server::Builder, handshake, accept, SendResponse) on one engine.
import { ErrorCode } from '../frame/constants';
import { FrameError } from '../frame/errors';
import { checkSetting } from '../frame/settings';
import { Config, Role } from '../proto/config';
import { MAX_TIME_MS } from '../proto/clock';
import { SendResult } from '../proto/connection';
import { Method } from '../proto/message';

import { ByteBuffer } from '../util/bytes';
import { ConnDriver, PingTask } from './conn-driver';
import { Executor } from './executor';
import { Io } from './io';
import { StreamCtx, StreamTask } from './stream-ctx';
import { Request, Response, responseHead } from './messages';
import { Body, SendStream, streamError } from './body';
import { Disposable, ReadyTask, Task, TaskType } from './task';
import { HandleKind, handleGet, handleNew, adopt, handlesAvailable } from './handles';
import { validRange } from './memory';
import {
  H2E_CLOSED,
  H2E_ERROR,
  H2E_INVALID_ARG,
  H2E_LIMIT_EXCEEDED,
  H2E_OK,
  H2E_OUT_OF_MEMORY,
  newError,
  codeOfResult,
} from './errors';
import { Msg, msg } from '../util/messages';

/** Options of a client or server connection (hyper_clientconn_options / h2's Builder). */
export class ConnOptions {
  handle: u32 = 0;
  config: Config;
  executor: Executor | null = null;
  manualRelease: bool = false;

  constructor(role: u8) {
    this.config = new Config(role);
  }
}

/** Settings and limits a host can set, by key (the h2_*conn_options_set keys in the header). */
export namespace OptionKey {
  export const HEADER_TABLE_SIZE: u32 = 1;
  export const ENABLE_PUSH: u32 = 2;
  export const MAX_CONCURRENT_STREAMS: u32 = 3;
  export const INITIAL_WINDOW_SIZE: u32 = 4;
  export const MAX_FRAME_SIZE: u32 = 5;
  export const MAX_HEADER_LIST_SIZE: u32 = 6;
  export const ENABLE_CONNECT_PROTOCOL: u32 = 8;
  export const CONNECTION_WINDOW: u32 = 100;
  export const MANUAL_RELEASE: u32 = 101;
  export const MAX_STREAM_SEND_BUFFER: u32 = 102;
  export const MAX_CONNECTION_SEND_BUFFER: u32 = 103;
  export const MAX_CONTINUATIONS: u32 = 104;
  export const MAX_QUEUED_CONTROL_FRAMES: u32 = 105;
  export const MAX_CLOSED_STREAMS: u32 = 106;
  export const MAX_RESETS_PER_SECOND: u32 = 107;
  export const MAX_PENDING_STREAMS: u32 = 108;
  export const OUTPUT_HIGH_WATER: u32 = 109;
  export const KEEPALIVE_INTERVAL_MS: u32 = 110;
  export const KEEPALIVE_TIMEOUT_MS: u32 = 111;
  export const SETTINGS_TIMEOUT_MS: u32 = 112;
  export const IDLE_TIMEOUT_MS: u32 = 113;
  export const GRACEFUL_TIMEOUT_MS: u32 = 114;
  export const MAX_GLITCHES_PER_SECOND: u32 = 115;
  export const CLOSE_LINGER_MS: u32 = 116;
  export const CAPACITY_HIGH_WATER: u32 = 117;
  export const HANDSHAKE_TIMEOUT_MS: u32 = 118;
  export const HEADER_TIMEOUT_MS: u32 = 119;
  export const SEND_STALL_TIMEOUT_MS: u32 = 120;
  export const WRITE_STALL_TIMEOUT_MS: u32 = 121;
  export const RECV_IDLE_TIMEOUT_MS: u32 = 122;
}

/** A timeout option in ms, at most MAX_TIME_MS (longer is as good as never). */
@inline function ms(value: u64): i64 {
  return <i64>min<u64>(value, <u64>MAX_TIME_MS);
}

/** The options that are SETTINGS: their keys are the SETTINGS identifiers. */
@inline function isSettingKey(key: u32): bool {
  return (
    (key >= OptionKey.HEADER_TABLE_SIZE && key <= OptionKey.MAX_HEADER_LIST_SIZE) ||
    key == OptionKey.ENABLE_CONNECT_PROTOCOL
  );
}

/** Where checkSetting puts why an option's value is refused (not reported further). */
const optionError = new FrameError();

/**
 * Whether our peer would accept `value` for our SETTINGS `key` (§6.5.2): a value it would
 * have to reject is refused here, by the check the frame decoder makes of the peer's
 * SETTINGS, made as the peer will make it of ours.
 */
function peerAccepts(role: u8, key: u32, value: u32): bool {
  const peer = role == Role.SERVER ? Role.CLIENT : Role.SERVER;
  return checkSetting(optionError, <u16>key, value, peer);
}

/** h2_*conn_submit_setting: announces a new value of one of our SETTINGS. */
export function submitSetting(c: ConnDriver, key: u32, value: u64): u32 {
  const v32 = <u32>min<u64>(value, 0xffffffff);
  if (!isSettingKey(key) || !peerAccepts(c.engine.role, key, v32)) return H2E_INVALID_ARG;
  return codeOfResult(c.engine.submitSetting(<u16>key, v32));
}

/** h2_*conn_local_setting / _remote_setting: a SETTINGS value of ours (as acknowledged) or the peer's; 0 for another key. */
export function settingOf(c: ConnDriver | null, key: u32, remote: bool): u32 {
  if (c == null || !isSettingKey(key)) return 0;
  return c.engine.setting(<u16>key, remote);
}

/** h2_*conn_abrupt_shutdown_with_debug: GOAWAY with `reason` and the host's debug text
 *  (UTF-8, at most 1 KiB), every stream reset. */
export function abruptShutdown(c: ConnDriver, reason: u32, debug: usize, len: u32): u32 {
  if (len > 1024 || !validRange(debug, len)) return H2E_INVALID_ARG;
  c.engine.abort(reason, len == 0 ? '' : String.UTF8.decodeUnsafe(debug, len));
  return H2E_OK;
}

/** h2_*conn_set_target_window_size: the connection's receive window target, 1..2^31-1. */
export function setTargetWindow(c: ConnDriver, size: u32): u32 {
  if (size == 0 || size > 0x7fffffff) return H2E_INVALID_ARG;
  c.engine.setConnectionWindow(size);
  return H2E_OK;
}

/** Applies one option; H2E_INVALID_ARG for an unknown key or a value the RFC forbids. */
export function setOption(o: ConnOptions, key: u32, value: u64): u32 {
  const c = o.config;
  const v32 = <u32>min<u64>(value, 0xffffffff);
  if (isSettingKey(key)) {
    if (!peerAccepts(c.role, key, v32)) return H2E_INVALID_ARG;
    c.local.apply(<u16>key, v32);
    return H2E_OK;
  }
  switch (key) {
    case OptionKey.CONNECTION_WINDOW:
      if (value < 65535 || value > 0x7fffffff) return H2E_INVALID_ARG;
      c.connectionWindow = v32;
      break;
    case OptionKey.MANUAL_RELEASE:
      o.manualRelease = value != 0;
      break;
    case OptionKey.MAX_STREAM_SEND_BUFFER:
      c.maxStreamSendBuffer = v32;
      break;
    case OptionKey.MAX_CONNECTION_SEND_BUFFER:
      c.maxConnectionSendBuffer = v32;
      break;
    case OptionKey.MAX_CONTINUATIONS:
      c.maxContinuations = v32;
      break;
    case OptionKey.MAX_QUEUED_CONTROL_FRAMES:
      c.maxQueuedControlFrames = v32;
      break;
    case OptionKey.MAX_CLOSED_STREAMS:
      c.maxClosedStreams = max<u32>(v32, 1);
      break;
    case OptionKey.MAX_RESETS_PER_SECOND:
      c.maxResetsPerSecond = v32;
      break;
    case OptionKey.MAX_PENDING_STREAMS:
      c.maxPendingStreams = v32;
      break;
    case OptionKey.OUTPUT_HIGH_WATER:
      c.outputHighWater = max<u32>(v32, 1024);
      break;
    case OptionKey.KEEPALIVE_INTERVAL_MS:
      c.keepaliveInterval = ms(value);
      break;
    case OptionKey.KEEPALIVE_TIMEOUT_MS:
      c.keepaliveTimeout = ms(value);
      break;
    case OptionKey.SETTINGS_TIMEOUT_MS:
      c.settingsTimeout = ms(value);
      break;
    case OptionKey.IDLE_TIMEOUT_MS:
      c.idleTimeout = ms(value);
      break;
    case OptionKey.GRACEFUL_TIMEOUT_MS:
      c.gracefulTimeout = ms(value);
      break;
    case OptionKey.MAX_GLITCHES_PER_SECOND:
      c.maxGlitchesPerSecond = v32;
      break;
    case OptionKey.CLOSE_LINGER_MS:
      c.closeLinger = ms(value);
      break;
    case OptionKey.CAPACITY_HIGH_WATER:
      c.capacityHighWater = max<u32>(v32, 16384);
      break;
    case OptionKey.HANDSHAKE_TIMEOUT_MS:
      c.handshakeTimeout = ms(value);
      break;
    case OptionKey.HEADER_TIMEOUT_MS:
      c.headerTimeout = ms(value);
      break;
    case OptionKey.SEND_STALL_TIMEOUT_MS:
      c.sendStallTimeout = ms(value);
      break;
    case OptionKey.WRITE_STALL_TIMEOUT_MS:
      c.writeStallTimeout = ms(value);
      break;
    case OptionKey.RECV_IDLE_TIMEOUT_MS:
      c.recvIdleTimeout = ms(value);
      break;
    default:
      return H2E_INVALID_ARG;
  }
  return H2E_OK;
}

/** Starts a connection on `io` with `options` (both consumed by the caller's ABI function). */
export function startConn(io: Io, options: ConnOptions, kind: HandleKind): Task {
  const exec = options.executor;
  if (exec == null)
    return new ReadyTask(
      TaskType.ERROR,
      newError(H2E_INVALID_ARG, 0, msg(Msg.OPTIONS_HAVE_NO_EXECUTOR_H2)),
      HandleKind.ERROR,
    );
  const conn = new ConnDriver(options.config, io, exec);
  conn.manualRelease = options.manualRelease;
  exec.attach(conn);
  return new HandshakeTask(conn, kind);
}

/** Finishes once the peer's SETTINGS arrived: CLIENTCONN / SERVERCONN with the connection's handle. */
export class HandshakeTask extends Task {
  constructor(
    public conn: ConnDriver,
    public kind: HandleKind,
  ) {
    super();
  }
  poll(): bool {
    const conn = this.conn;
    if (conn.handshakeDone) {
      const h = handleNew(this.kind, conn);
      if (h == 0) {
        conn.free();
        return this.fail(newError(H2E_ERROR, 0, msg(Msg.HANDLE_TABLE_FULL)));
      }
      conn.handle = h;
      return this.finish(this.kind == HandleKind.CLIENTCONN ? TaskType.CLIENTCONN : TaskType.SERVERCONN, h, this.kind);
    }
    if (conn.isFailed || conn.finished) {
      const err = conn.errorHandle();
      conn.free();
      return this.fail(err);
    }
    conn.handshakeWait.register(this);
    return false;
  }
  cancel(): void {
    this.conn.handshakeWait.unregister(this);
    if (this.conn.handle == 0) this.conn.free();
  }
}

/** Heads are built here as field lists and encoded (or copied) by the engine at once, so
 *  one buffer serves every request, response and promise instead of one each. */
const headScratch = new ByteBuffer();

function doneWithHead(): void {
  // A rare huge head does not pin its memory.
  if (headScratch.cap > HEAD_SCRATCH_KEEP) headScratch.dispose();
  else headScratch.clear();
}
const HEAD_SCRATCH_KEEP: u32 = 64 << 10;

// ---------------------------------------------------------------------------------------
// Client

/** h2_clientconn_send: opens the stream now (or queues it); the task yields the response. */
export function clientSend(conn: ConnDriver, req: Request): Task {
  if (conn.isFailed || conn.freed) return new ReadyTask(TaskType.ERROR, conn.errorHandle(), HandleKind.ERROR);
  const fields = headScratch;
  if (!req.toFields(fields)) {
    doneWithHead();
    return new ReadyTask(
      TaskType.ERROR,
      newError(H2E_LIMIT_EXCEEDED, 0, msg(Msg.REQUEST_HEAD_TOO_LARGE)),
      HandleKind.ERROR,
    );
  }
  const endStream = req.body == null && !req.streaming;
  const engine = conn.engine;
  const stream = engine.newLocalStream();
  const result = engine.openStream(stream, fields.ptr, fields.len, endStream);
  doneWithHead();
  if (result != SendResult.OK) return new ReadyTask(TaskType.ERROR, sendError(result), HandleKind.ERROR);
  const ctx = new StreamCtx(conn, stream);
  ctx.wantsInformational = req.wantsInformational;
  ctx.informationalUserdata = req.informationalUserdata;
  const body = req.body;
  if (body != null) {
    req.body = null;
    attachSource(ctx, body);
  }
  if (req.streaming) attachSendStream(req.streamingHandle, ctx);
  return new ResponseTask(ctx);
}

/** A data-source body becomes what its stream sends: the driver reads it when the stream can send. */
function attachSource(ctx: StreamCtx, body: Body): void {
  ctx.source = body;
  const s = ctx.stream;
  if (s != null) s.padding = body.padding;
  (<ConnDriver>ctx.conn).sources.push(ctx);
}

/** The error a request that could not be sent fails with (its code: codeOfResult). */
function sendError(result: u32): u32 {
  const code = codeOfResult(result);
  switch (result) {
    case SendResult.CLOSED:
      return newError(code, ErrorCode.REFUSED_STREAM, msg(Msg.CONNECTION_IS_GOING_AWAY_GOAWAY), true);
    case SendResult.IDS_EXHAUSTED:
      return newError(code, ErrorCode.REFUSED_STREAM, msg(Msg.STREAM_IDS_EXHAUSTED_RETRY), true);
    case SendResult.LIMIT:
      return newError(code, 0, msg(Msg.TOO_MANY_REQUESTS_QUEUED));
    case SendResult.INVALID:
      return newError(code, ErrorCode.PROTOCOL_ERROR, msg(Msg.MALFORMED_REQUEST_RFC_9113));
    default:
      return newError(code, 0, msg(Msg.REQUEST_COULD_NOT_BE_SENT));
  }
}

function attachSendStream(handle: u32, ctx: StreamCtx): void {
  const obj = handleGetSend(handle);
  if (obj != null) obj.ctx = ctx;
}

function handleGetSend(h: u32): SendStream | null {
  return changetype<SendStream | null>(handleGet(h, HandleKind.SEND_STREAM));
}

/** Yields the response (RESPONSE with its handle), or the stream's error. */
export class ResponseTask extends StreamTask {
  constructor(public ctx: StreamCtx) {
    super();
  }
  waitsOn(): StreamCtx | null {
    return this.ctx;
  }
  poll(): bool {
    const ctx = this.ctx;
    if (ctx.responseHandle != 0) {
      const h = ctx.responseHandle;
      ctx.responseHandle = 0;
      return this.finish(TaskType.RESPONSE, h, HandleKind.RESPONSE);
    }
    const err = streamError(ctx);
    if (err != 0) return this.fail(err);
    if (ctx.closed) return this.fail(newError(H2E_CLOSED, 0, msg(Msg.STREAM_CLOSED_WITHOUT_A_RESPONSE)));
    return this.waitFor(ctx);
  }
}

/** The body reader of a received request or response (h2_request_body, h2_response_body):
 *  0 when it was taken already or the message was not received. */
export function bodyReader<T>(msg: T): u32 {
  const ctx = msg.ctx;
  if (ctx == null || msg.bodyTaken) return 0;
  msg.bodyTaken = true;
  const body = new Body();
  body.ctx = ctx;
  return adopt(HandleKind.BODY, body);
}

// ---------------------------------------------------------------------------------------
// Server

/** The right to answer one request (the h2 crate's SendResponse). */
export class Respond extends Disposable {
  handle: u32 = 0;
  ctx: StreamCtx;
  responded: bool = false;

  constructor(ctx: StreamCtx) {
    super();
    this.ctx = ctx;
  }

  /** Freed without a final response: the stream is reset (as the h2 crate does). */
  dispose(): void {
    const s = this.ctx.stream;
    if (!this.responded && s != null) this.ctx.conn.engine.resetStream(s, ErrorCode.CANCEL);
  }
}

/** h2_serverconn_accept: REQUEST with the next request, EMPTY once no more will come. */
export class AcceptTask extends Task {
  constructor(public conn: ConnDriver) {
    super();
  }
  poll(): bool {
    const conn = this.conn;
    const queue = conn.incoming;
    if (queue.length > 0) {
      const req = new Request();
      if (!req.receive(queue.frontHead(), queue.frontHeadLen())) {
        return this.fail(newError(H2E_OUT_OF_MEMORY, 0, msg(Msg.NO_MEMORY_FOR_THE_REQUEST))); // it stays queued
      }
      const h = handleNew(HandleKind.REQUEST, req);
      if (h == 0) {
        req.dispose();
        return this.fail(newError(H2E_ERROR, 0, msg(Msg.HANDLE_TABLE_FULL))); // the request stays queued
      }
      req.handle = h;
      req.ctx = queue.frontCtx();
      req.received = true;
      queue.shift();
      return this.finish(TaskType.REQUEST, h, HandleKind.REQUEST);
    }
    const e = conn.engine;
    if (conn.isFailed || conn.freed || e.acceptsNoMoreStreams) {
      return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    }
    conn.incomingWait.register(this);
    return false;
  }
  cancel(): void {
    this.conn.incomingWait.unregister(this);
  }
}

/** h2_serverconn_poll_requests: REQUEST (no value) once a request waits to be taken by
 *  h2_serverconn_take_requests, EMPTY once no more will come. Takes nothing itself. */
export class RequestsReadyTask extends Task {
  constructor(public conn: ConnDriver) {
    super();
  }
  poll(): bool {
    const conn = this.conn;
    if (conn.incoming.length > 0) return this.finish(TaskType.REQUEST, 0, HandleKind.NONE);
    if (conn.isFailed || conn.freed || conn.engine.acceptsNoMoreStreams) {
      return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    }
    conn.incomingWait.register(this);
    return false;
  }
  cancel(): void {
    this.conn.incomingWait.unregister(this);
  }
}

/** Bytes before each request's head in h2_serverconn_take_requests' output. */
export const TAKEN_REQUEST_HEADER: u32 = 16;

/**
 * h2_serverconn_take_requests: as many waiting requests as fit [buf, buf+cap), each as
 * u32 respond handle, u32 body handle (0 when nothing more will arrive on it), u32 stream
 * id, u32 head length, then the head as a flat field list (pseudo-headers first). No
 * request object, no handle but those two, no task. Returns the bytes written; a request
 * that does not fit (or finds no room for its handles) stays queued for the next call or
 * for h2_serverconn_accept.
 */
export function takeRequests(conn: ConnDriver, buf: usize, cap: u32): u32 {
  const queue = conn.incoming;
  let at: u32 = 0;
  while (queue.length > 0) {
    const headLen = queue.frontHeadLen();
    const need = TAKEN_REQUEST_HEADER + headLen;
    if (<u64>at + <u64>need > <u64>cap || handlesAvailable() < 2) break;
    const ctx = queue.frontCtx();
    const p = buf + <usize>at;
    store<u32>(p, adopt(HandleKind.RESPOND, new Respond(ctx)));
    let body: u32 = 0;
    if (ctx.recvEnded && ctx.recvLen == 0 && ctx.trailers == null) {
      ctx.dropReceived(); // nothing more will arrive: no reader
    } else {
      const b = new Body();
      b.ctx = ctx;
      body = adopt(HandleKind.BODY, b);
    }
    store<u32>(p, body, 4);
    store<u32>(p, ctx.id, 8);
    store<u32>(p, headLen, 12);
    memory.copy(p + TAKEN_REQUEST_HEADER, queue.frontHead(), headLen);
    at += need;
    queue.shift();
  }
  return at;
}

/** h2_request_respond: takes the respond handle of a received request (once). */
export function takeRespond(req: Request): u32 {
  const ctx = req.ctx;
  if (ctx == null || req.respondTaken) return 0;
  req.respondTaken = true;
  const r = new Respond(ctx);
  return adopt(HandleKind.RESPOND, r);
}

/** What sendResponse and push give back, as one value: the H2E code and a handle (0 when
 *  there is none). */
@inline function sent(code: u32, handle: u32): u64 {
  return ((<u64>code) << 32) | (<u64>handle);
}
/** The handle of a sendResponse / push outcome. */
@inline export function sentHandle(outcome: u64): u32 {
  return <u32>outcome;
}
/** The H2E code of a sendResponse / push outcome. */
@inline export function sentCode(outcome: u64): u32 {
  return <u32>(outcome >> 32);
}

/**
 * Sends `resp` on the stream (1xx when informational, else the final head). The outcome
 * holds the code and a send stream for the body (0 when END_STREAM went with the head, the
 * body is a data source, or it failed).
 */
export function sendResponse(r: Respond, resp: Response, endStream: bool, informational: bool): u64 {
  const ctx = r.ctx;
  const s = ctx.stream;
  if (s == null || r.responded) {
    return sent(H2E_CLOSED, 0);
  }
  const fields = headScratch;
  if (!resp.toFields(fields)) {
    doneWithHead();
    return sent(H2E_LIMIT_EXCEEDED, 0);
  }
  const body = resp.body;
  const end = endStream && body == null;
  const result = ctx.conn.engine.sendResponse(s, fields.ptr, fields.len, end, informational);
  doneWithHead();
  if (result != SendResult.OK) {
    return sent(codeOfResult(result), 0);
  }
  if (informational) return sent(H2E_OK, 0);
  r.responded = true;
  if (body != null) {
    resp.body = null;
    attachSource(ctx, body);
    return sent(H2E_OK, 0);
  }
  if (end) return sent(H2E_OK, 0);
  const send = new SendStream();
  send.ctx = ctx;
  const h = adopt(HandleKind.SEND_STREAM, send);
  return sent(H2E_OK, h);
}

/**
 * h2_respond_send_whole: the final response from a flat head and a body in wasm memory,
 * END_STREAM included (the engine's respondWhole). An H2E code; on LIMIT nothing was sent.
 */
export function respondWhole(r: Respond, status: u32, fields: usize, fieldsLen: u32, body: usize, bodyLen: u32): u32 {
  const ctx = r.ctx;
  const s = ctx.stream;
  if (s == null || r.responded) return H2E_CLOSED;
  const head = headScratch;
  if (!responseHead(head, status, fields, fieldsLen)) {
    doneWithHead();
    return H2E_LIMIT_EXCEEDED;
  }
  // No content in answer to HEAD, or with 204 or 304 (RFC 9110 §9.3.2, §15.3.5, §15.4.5):
  // the head goes, with END_STREAM, and the body is not sent.
  const noContent = status == 204 || status == 304 || s.requestMethod == Method.HEAD;
  const result = ctx.conn.engine.respondWhole(s, head.ptr, head.len, body, noContent ? 0 : bodyLen);
  doneWithHead();
  if (result == SendResult.OK) r.responded = true;
  return codeOfResult(result);
}

/** Server push (§8.4): promises `req` on the respond's stream; the outcome holds the code
 *  and a respond handle for the pushed stream. */
export function push(r: Respond, req: Request): u64 {
  const ctx = r.ctx;
  const s = ctx.stream;
  if (s == null) {
    return sent(H2E_CLOSED, 0);
  }
  const fields = headScratch;
  if (!req.toFields(fields)) {
    doneWithHead();
    return sent(H2E_LIMIT_EXCEEDED, 0);
  }
  const engine = ctx.conn.engine;
  const promised = engine.newLocalStream();
  const result = engine.pushPromise(s, promised, fields.ptr, fields.len);
  doneWithHead();
  if (result != SendResult.OK) return sent(codeOfResult(result), 0);
  const pctx = new StreamCtx(ctx.conn, promised);
  pctx.recvEnded = true; // a pushed request has no body
  const pr = new Respond(pctx);
  const h = adopt(HandleKind.RESPOND, pr);
  return sent(H2E_OK, h);
}

/** h2_serverconn_poll_close / h2_clientconn_poll_close: EMPTY once closed cleanly, ERROR otherwise. */
export class CloseTask extends Task {
  constructor(public conn: ConnDriver) {
    super();
  }
  poll(): bool {
    const conn = this.conn;
    // Not before the last bytes (a GOAWAY) are written: the host closes the transport on it.
    if (!conn.finished) {
      conn.closeWait.register(this);
      return false;
    }
    const clean = !conn.isFailed && conn.engine.errorCode == ErrorCode.NO_ERROR;
    return clean ? this.finish(TaskType.EMPTY, 0, HandleKind.NONE) : this.fail(conn.errorHandle());
  }
  cancel(): void {
    this.conn.closeWait.unregister(this);
  }
}

export function ping(conn: ConnDriver): Task {
  const d = conn.engine.ping();
  if (d == 0)
    return new ReadyTask(
      TaskType.ERROR,
      newError(H2E_LIMIT_EXCEEDED, 0, msg(Msg.TOO_MANY_PINGS_IN_FLIGHT)),
      HandleKind.ERROR,
    );
  const t = new PingTask(conn, d);
  conn.pingTasks.set(d, t);
  return t;
}

/** h2_clientconn_poll_push: REQUEST with the next pushed request, EMPTY once none can come. */
export class PushTask extends Task {
  constructor(public conn: ConnDriver) {
    super();
  }
  poll(): bool {
    const conn = this.conn;
    if (conn.pushes.length > 0) {
      const req = conn.pushes.shift();
      const h = adopt(HandleKind.REQUEST, req);
      return this.finish(TaskType.REQUEST, h, HandleKind.REQUEST);
    }
    const e = conn.engine;
    if (conn.isFailed || conn.freed || !e.pushesMayArrive) {
      return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    }
    conn.pushWait.register(this);
    return false;
  }
  cancel(): void {
    this.conn.pushWait.unregister(this);
  }
}

/** h2_request_pushed_response: the response task of a pushed request (client side). */
export function pushedResponse(req: Request): Task | null {
  const ctx = req.ctx;
  if (ctx == null || req.respondTaken) return null;
  req.respondTaken = true;
  return new ResponseTask(ctx);
}
