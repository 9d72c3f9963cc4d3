// The exported ABI functions (the module exports everything here through index.ts).
// Each one is thin: resolve handles (a zero, stale, freed or wrong-kind handle is
// H2E_INVALID_ARG, or 0 where a handle is returned), bounds-check host ranges, then
// delegate. The contract of each is in include/h2wasm.h.
import { HandleKind, handleGet, handleNew, handleRelease } from "./handles";
import { validRange } from "./memory";
import { ErrorObject, H2E_INVALID_ARG, H2E_OK, H2E_ERROR, H2E_LIMIT_EXCEEDED, newError } from "./errors";
import { Executor } from "./executor";
import { Task, TaskType, Disposable } from "./task";
import { Context, Io, Waker, newWaker } from "./io";
import { Headers, Buf } from "./http";
import { Request, Response, Pseudo } from "./messages";
import { Body, BodyDataTask, TrailersTask, SendStream, CapacityTask, ResetTask, bodyRelease } from "./body";
import { ConnDriver } from "./conn";
import {
  ConnOptions, setOption, startConn, clientSend, responseBody, AcceptTask, takeRespond, requestBody, Respond,
  sendResponse, push, CloseTask, ping, lastRespondCode, PushTask, pushedResponse,
} from "./conns";
import { Role } from "../proto/config";
import { MAX_TIME_MS } from "../proto/clock";
import { ByteBuffer } from "../util/bytes";
import { safepoint } from "../util/gc";
import { FIELD_HEADER, validateFieldList, fieldName, fieldNameLen, fieldValue, fieldValueLen, nextField } from "../hpack";
import { hostHeadersForeach } from "./host";

// ---- typed lookups ---------------------------------------------------------------------
@inline function get<T>(h: u32, kind: HandleKind): T | null {
  return changetype<T | null>(handleGet(h, kind));
}
function register(kind: HandleKind, obj: Object): u32 {
  return handleNew(kind, obj);
}
/** Releases a handle and disposes its object; false when the handle was not live. */
function release(h: u32, kind: HandleKind): bool {
  const obj = handleRelease(h, kind);
  if (obj == null) return false;
  if (obj instanceof Disposable) changetype<Disposable>(obj).dispose();
  return true;
}
function taskHandle(t: Task): u32 {
  const h = handleNew(HandleKind.TASK, t);
  t.handle = h;
  return h;
}

// ---- io ----------------------------------------------------------------------------------
export function h2_io_new(): u32 {
  safepoint();
  const io = new Io();
  io.handle = register(HandleKind.IO, io);
  return io.handle;
}
export function h2_io_set_userdata(io: u32, userdata: u32): u32 {
  const o = get<Io>(io, HandleKind.IO);
  if (o == null) return H2E_INVALID_ARG;
  o.userdata = userdata;
  return H2E_OK;
}
export function h2_io_free(io: u32): u32 {
  return release(io, HandleKind.IO) ? H2E_OK : H2E_INVALID_ARG;
}
export function h2_context_waker(ctx: u32): u32 {
  const c = get<Context>(ctx, HandleKind.CONTEXT);
  return c == null ? 0 : newWaker(c);
}
export function h2_waker_wake(waker: u32): u32 {
  const w = changetype<Waker | null>(handleRelease(waker, HandleKind.WAKER));
  if (w == null) return H2E_INVALID_ARG;
  w.context.wake();
  return H2E_OK;
}
export function h2_waker_free(waker: u32): u32 {
  return handleRelease(waker, HandleKind.WAKER) != null ? H2E_OK : H2E_INVALID_ARG;
}

// ---- executor and tasks ----------------------------------------------------------------
export function h2_executor_new(): u32 {
  safepoint();
  const e = new Executor();
  e.handle = register(HandleKind.EXECUTOR, e);
  return e.handle;
}
export function h2_executor_push(exec: u32, task: u32): u32 {
  safepoint();
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  const t = get<Task>(task, HandleKind.TASK);
  if (e == null || t == null || t.executor != null) return H2E_INVALID_ARG;
  e.push(t);
  return H2E_OK;
}
export function h2_executor_poll(exec: u32): u32 {
  safepoint();
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  if (e == null) return 0;
  const t = e.poll();
  return t == null ? 0 : t.handle;
}
export function h2_executor_set_time(exec: u32, nowMs: i64): u32 {
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  if (e == null || nowMs < 0 || nowMs > MAX_TIME_MS) return H2E_INVALID_ARG;
  e.setTime(nowMs);
  return H2E_OK;
}
export function h2_executor_next_deadline(exec: u32): i64 {
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  return e == null ? -1 : e.nextDeadline();
}
export function h2_executor_free(exec: u32): u32 {
  const e = changetype<Executor | null>(handleRelease(exec, HandleKind.EXECUTOR));
  if (e == null) return H2E_INVALID_ARG;
  e.shutdown();
  return H2E_OK;
}
export function h2_task_type(task: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  return t == null || !t.done ? TaskType.EMPTY : t.type;
}
export function h2_task_value(task: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  return t == null || !t.done ? 0 : t.takeValue();
}
export function h2_task_set_userdata(task: u32, userdata: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  if (t == null) return H2E_INVALID_ARG;
  t.userdata = userdata;
  return H2E_OK;
}
export function h2_task_userdata(task: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  return t == null ? 0 : t.userdata;
}
export function h2_task_free(task: u32): u32 {
  const t = changetype<Task | null>(handleRelease(task, HandleKind.TASK));
  if (t == null) return H2E_INVALID_ARG;
  if (!t.done) t.cancel();
  const ex = t.executor;
  if (ex != null) changetype<Executor>(ex).forget(t);
  t.dropValue();
  return H2E_OK;
}

// ---- errors ------------------------------------------------------------------------------
export function h2_error_code(err: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  return e == null ? H2E_INVALID_ARG : e.code;
}
export function h2_error_reason(err: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  return e == null ? 0 : e.reason;
}
export function h2_error_is_retryable(err: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  return e != null && e.retryable ? 1 : 0;
}
export function h2_error_print(err: u32, buf: usize, cap: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  if (e == null || !validRange(buf, cap)) return 0;
  const bytes = String.UTF8.encode(e.message);
  const n = min<u32>(cap, <u32>bytes.byteLength);
  memory.copy(buf, changetype<usize>(bytes), n);
  return n;
}
export function h2_error_free(err: u32): u32 {
  return handleRelease(err, HandleKind.ERROR) != null ? H2E_OK : H2E_INVALID_ARG;
}

// ---- options and connections -------------------------------------------------------------
function optionsNew(role: u8, kind: HandleKind): u32 {
  const o = new ConnOptions(role);
  o.handle = register(kind, o);
  return o.handle;
}
function optionsExec(opts: u32, kind: HandleKind, exec: u32): u32 {
  const o = get<ConnOptions>(opts, kind);
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  if (o == null || e == null) return H2E_INVALID_ARG;
  o.executor = e;
  return H2E_OK;
}
function optionsSet(opts: u32, kind: HandleKind, key: u32, value: u64): u32 {
  const o = get<ConnOptions>(opts, kind);
  return o == null ? H2E_INVALID_ARG : setOption(o, key, value);
}
function handshake(io: u32, opts: u32, optionsKind: HandleKind, connKind: HandleKind): u32 {
  // Both are consumed, whatever happens.
  const i = changetype<Io | null>(handleRelease(io, HandleKind.IO));
  const o = changetype<ConnOptions | null>(handleRelease(opts, optionsKind));
  if (i == null || o == null) return 0;
  return taskHandle(startConn(i, o, connKind));
}

export function h2_clientconn_options_new(): u32 {
  safepoint();
  return optionsNew(Role.CLIENT, HandleKind.CLIENTCONN_OPTIONS);
}
export function h2_clientconn_options_exec(opts: u32, exec: u32): u32 {
  return optionsExec(opts, HandleKind.CLIENTCONN_OPTIONS, exec);
}
export function h2_clientconn_options_set(opts: u32, key: u32, value: u64): u32 {
  return optionsSet(opts, HandleKind.CLIENTCONN_OPTIONS, key, value);
}
export function h2_clientconn_options_free(opts: u32): u32 {
  return handleRelease(opts, HandleKind.CLIENTCONN_OPTIONS) != null ? H2E_OK : H2E_INVALID_ARG;
}
export function h2_clientconn_handshake(io: u32, opts: u32): u32 {
  return handshake(io, opts, HandleKind.CLIENTCONN_OPTIONS, HandleKind.CLIENTCONN);
}
export function h2_clientconn_send(conn: u32, req: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  const r = changetype<Request | null>(handleRelease(req, HandleKind.REQUEST));
  if (r == null) return 0;
  if (c == null) {
    r.dispose();
    return 0;
  }
  r.headers.releaseHandle();
  const t = clientSend(c, r);
  r.dispose();
  return taskHandle(t);
}
export function h2_clientconn_is_ready(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c != null && !c.isFailed && c.engine.canOpenStreamNow ? 1 : 0;
}
export function h2_clientconn_max_concurrent_streams(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? 0 : c.engine.peerMaxConcurrentStreams;
}
export function h2_clientconn_ping(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? 0 : taskHandle(ping(c));
}
/** Client push: REQUEST with each pushed request (H2_OPT_ENABLE_PUSH), EMPTY once none can come. */
export function h2_clientconn_poll_push(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? 0 : taskHandle(new PushTask(c));
}
/** Client push: the response of a pushed request (RESPONSE task); 0 for anything else. */
export function h2_request_pushed_response(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null) return 0;
  const t = pushedResponse(r);
  return t == null ? 0 : taskHandle(t);
}
export function h2_clientconn_poll_close(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? 0 : taskHandle(new CloseTask(c));
}
export function h2_clientconn_graceful_shutdown(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  if (c == null) return H2E_INVALID_ARG;
  c.engine.gracefulShutdown();
  return H2E_OK;
}
export function h2_clientconn_free(conn: u32): u32 {
  const c = changetype<ConnDriver | null>(handleRelease(conn, HandleKind.CLIENTCONN));
  if (c == null) return H2E_INVALID_ARG;
  c.free();
  return H2E_OK;
}

export function h2_serverconn_options_new(): u32 {
  safepoint();
  return optionsNew(Role.SERVER, HandleKind.SERVERCONN_OPTIONS);
}
export function h2_serverconn_options_exec(opts: u32, exec: u32): u32 {
  return optionsExec(opts, HandleKind.SERVERCONN_OPTIONS, exec);
}
export function h2_serverconn_options_set(opts: u32, key: u32, value: u64): u32 {
  return optionsSet(opts, HandleKind.SERVERCONN_OPTIONS, key, value);
}
export function h2_serverconn_options_free(opts: u32): u32 {
  return handleRelease(opts, HandleKind.SERVERCONN_OPTIONS) != null ? H2E_OK : H2E_INVALID_ARG;
}
export function h2_serverconn_handshake(io: u32, opts: u32): u32 {
  return handshake(io, opts, HandleKind.SERVERCONN_OPTIONS, HandleKind.SERVERCONN);
}
export function h2_serverconn_accept(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(new AcceptTask(c));
}
export function h2_serverconn_ping(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(ping(c));
}
export function h2_serverconn_graceful_shutdown(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  if (c == null) return H2E_INVALID_ARG;
  c.engine.gracefulShutdown();
  return H2E_OK;
}
export function h2_serverconn_abrupt_shutdown(conn: u32, reason: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  if (c == null) return H2E_INVALID_ARG;
  c.engine.abort(reason, "shut down by the server");
  return H2E_OK;
}
export function h2_serverconn_poll_close(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(new CloseTask(c));
}
export function h2_serverconn_free(conn: u32): u32 {
  const c = changetype<ConnDriver | null>(handleRelease(conn, HandleKind.SERVERCONN));
  if (c == null) return H2E_INVALID_ARG;
  c.free();
  return H2E_OK;
}

// ---- requests --------------------------------------------------------------------------
export function h2_request_new(): u32 {
  safepoint();
  const r = new Request();
  r.handle = register(HandleKind.REQUEST, r);
  return r.handle;
}
export function h2_request_free(req: u32): u32 {
  return release(req, HandleKind.REQUEST) ? H2E_OK : H2E_INVALID_ARG;
}
function setPseudo(req: u32, which: i32, ptr: usize, len: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  return r.setPseudo(which, ptr, len) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}
export function h2_request_set_method(req: u32, ptr: usize, len: u32): u32 {
  return setPseudo(req, Pseudo.METHOD, ptr, len);
}
export function h2_request_set_uri(req: u32, ptr: usize, len: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  return r.setUri(ptr, len) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}
export function h2_request_set_uri_parts(req: u32, scheme: usize, schemeLen: u32, authority: usize, authorityLen: u32, path: usize, pathLen: u32): u32 {
  if (!validRange(scheme, schemeLen) || !validRange(authority, authorityLen) || !validRange(path, pathLen)) return H2E_INVALID_ARG;
  let rc = setPseudo(req, Pseudo.SCHEME, scheme, schemeLen);
  if (rc == H2E_OK) rc = setPseudo(req, Pseudo.AUTHORITY, authority, authorityLen);
  if (rc == H2E_OK) rc = setPseudo(req, Pseudo.PATH, path, pathLen);
  return rc;
}
export function h2_request_set_protocol(req: u32, ptr: usize, len: u32): u32 {
  return setPseudo(req, Pseudo.PROTOCOL, ptr, len);
}
/** Copies a pseudo-header of a request (METHOD 0, SCHEME 1, AUTHORITY 2, PATH 3, PROTOCOL 4). */
export function h2_request_pseudo(req: u32, which: u32, buf: usize, cap: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || which >= <u32>Pseudo.COUNT || !validRange(buf, cap)) return 0xffffffff;
  if (!r.hasPseudo(<i32>which)) return 0xffffffff;
  const n = r.pseudoLen(<i32>which);
  memory.copy(buf, r.pseudoPtr(<i32>which), min(cap, n));
  return n;
}
export function h2_request_headers(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  return r == null ? 0 : r.headers.borrowHandle();
}
export function h2_request_set_body(req: u32, body: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  const b = changetype<Body | null>(handleRelease(body, HandleKind.BODY));
  if (b == null) return H2E_INVALID_ARG;
  if (r == null || b.ctx != null) {
    b.dispose();
    return H2E_INVALID_ARG;
  }
  const old = r.body;
  if (old != null) old.dispose();
  r.body = b;
  return H2E_OK;
}
export function h2_request_send_stream(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || r.streaming || r.body != null || r.ctx != null) return 0;
  const s = new SendStream();
  s.handle = register(HandleKind.SEND_STREAM, s);
  r.streaming = true;
  r.streamingHandle = s.handle;
  return s.handle;
}
export function h2_request_on_informational(req: u32, userdata: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null) return H2E_INVALID_ARG;
  r.wantsInformational = true;
  r.informationalUserdata = userdata;
  return H2E_OK;
}
export function h2_request_body(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  return r == null ? 0 : requestBody(r);
}
export function h2_request_respond(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  return r == null ? 0 : takeRespond(r);
}

// ---- responses and responding ------------------------------------------------------------
export function h2_response_new(): u32 {
  safepoint();
  const r = new Response();
  r.handle = register(HandleKind.RESPONSE, r);
  return r.handle;
}
export function h2_response_free(resp: u32): u32 {
  return release(resp, HandleKind.RESPONSE) ? H2E_OK : H2E_INVALID_ARG;
}
export function h2_response_status(resp: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  return r == null ? 0 : r.status;
}
export function h2_response_set_status(resp: u32, status: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  if (r == null || status < 100 || status > 999) return H2E_INVALID_ARG;
  r.status = status;
  return H2E_OK;
}
/** hyper's HYPER_HTTP_VERSION_2 (20): every h2wasm response is HTTP/2. */
export function h2_response_version(resp: u32): u32 {
  return get<Response>(resp, HandleKind.RESPONSE) == null ? 0 : 20;
}
export function h2_response_headers(resp: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  return r == null ? 0 : r.headers.borrowHandle();
}
export function h2_response_body(resp: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  return r == null ? 0 : responseBody(r);
}
export function h2_response_set_body(resp: u32, body: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  const b = changetype<Body | null>(handleRelease(body, HandleKind.BODY));
  if (b == null) return H2E_INVALID_ARG;
  if (r == null || b.ctx != null) {
    b.dispose();
    return H2E_INVALID_ARG;
  }
  const old = r.body;
  if (old != null) old.dispose();
  r.body = b;
  return H2E_OK;
}
function respondWith(respond: u32, resp: u32, endStream: bool, informational: bool): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  const msg = changetype<Response | null>(handleRelease(resp, HandleKind.RESPONSE));
  lastResult = H2E_INVALID_ARG;
  if (msg == null) return 0;
  if (r == null) {
    msg.dispose();
    return 0;
  }
  msg.headers.releaseHandle();
  const send = sendResponse(r, msg, endStream, informational);
  msg.dispose();
  lastResult = lastRespondCode;
  return send;
}
/** Sends the final response (consumed). Returns a send stream for the body, or 0 (see h2_last_result). */
export function h2_respond_send_response(respond: u32, resp: u32, endStream: u32): u32 {
  return respondWith(respond, resp, endStream != 0, false);
}
export function h2_respond_send_informational(respond: u32, resp: u32): u32 {
  respondWith(respond, resp, false, true);
  return lastResult;
}
export function h2_respond_push(respond: u32, req: u32): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  const q = changetype<Request | null>(handleRelease(req, HandleKind.REQUEST));
  lastResult = H2E_INVALID_ARG;
  if (q == null) return 0;
  if (r == null) {
    q.dispose();
    return 0;
  }
  q.headers.releaseHandle();
  const h = push(r, q);
  q.dispose();
  lastResult = lastRespondCode;
  return h;
}
export function h2_respond_reset(respond: u32, reason: u32): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  if (r == null) return H2E_INVALID_ARG;
  const s = r.ctx.stream;
  if (s == null) return H2E_OK;
  r.responded = true;
  r.ctx.conn.engine.resetStream(s, reason);
  return H2E_OK;
}
export function h2_respond_stream_id(respond: u32): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  return r == null ? 0 : r.ctx.id;
}
export function h2_respond_free(respond: u32): u32 {
  return release(respond, HandleKind.RESPOND) ? H2E_OK : H2E_INVALID_ARG;
}

/** The H2E code behind the last call that answered a 0 handle (send_response, push). */
let lastResult: u32 = H2E_OK;
export function h2_last_result(): u32 {
  return lastResult;
}

// ---- headers ------------------------------------------------------------------------------
function headersAdd(headers: u32, name: usize, nameLen: u32, value: usize, valueLen: u32, replace: bool): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || nameLen == 0 || !validRange(name, nameLen) || !validRange(value, valueLen)) return H2E_INVALID_ARG;
  if (replace) h.remove(name, nameLen);
  return h.add(name, nameLen, value, valueLen, 0) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}
export function h2_headers_set(headers: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32 {
  return headersAdd(headers, name, nameLen, value, valueLen, true);
}
export function h2_headers_add(headers: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32 {
  return headersAdd(headers, name, nameLen, value, valueLen, false);
}
/** Copies the index-th value named `name` into [buf, buf+cap); returns its length, 0xFFFFFFFF when absent. */
export function h2_headers_get(headers: u32, name: usize, nameLen: u32, index: u32, buf: usize, cap: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || !validRange(name, nameLen) || !validRange(buf, cap)) return 0xffffffff;
  const at = h.find(name, nameLen, index);
  if (at < 0) return 0xffffffff;
  const p = h.list.ptr + <usize>at;
  const vl = fieldValueLen(p);
  memory.copy(buf, fieldValue(p), min(cap, vl));
  return vl;
}
export function h2_headers_remove(headers: u32, name: usize, nameLen: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || !validRange(name, nameLen)) return 0;
  return h.remove(name, nameLen);
}
export function h2_headers_count(headers: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  return h == null ? 0 : h.count();
}
export function h2_headers_foreach(headers: u32, userdata: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null) return H2E_INVALID_ARG;
  const l = h.list;
  const end = l.ptr + <usize>l.len;
  for (let p = l.ptr; p < end; p = nextField(p)) {
    if (hostHeadersForeach(userdata, fieldName(p), fieldNameLen(p), fieldValue(p), fieldValueLen(p)) != 0) break;
  }
  return H2E_OK;
}
/** Replaces every field with a flat field list (copied; names lowercased). */
export function h2_headers_set_all(headers: u32, fields: usize, len: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || !validRange(fields, len) || validateFieldList(fields, len) < 0) return H2E_INVALID_ARG;
  return h.setAll(fields, len) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}
/** The fields as a flat list, owned by the headers, valid until they change. */
export function h2_headers_fields(headers: u32): usize {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  return h == null ? 0 : h.list.ptr;
}
export function h2_headers_fields_len(headers: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  return h == null ? 0 : h.list.len;
}
/** New standalone headers (for trailers); the host owns them until passed on. */
export function h2_headers_new(): u32 {
  safepoint();
  const h = new Headers();
  return h.borrowHandle();
}
export function h2_headers_free(headers: u32): u32 {
  const h = changetype<Headers | null>(handleRelease(headers, HandleKind.HEADERS));
  if (h == null) return H2E_INVALID_ARG;
  h.handle = 0;
  h.dispose();
  return H2E_OK;
}

// ---- bodies and bufs ---------------------------------------------------------------------
export function h2_body_new(): u32 {
  safepoint();
  const b = new Body();
  b.handle = register(HandleKind.BODY, b);
  return b.handle;
}
export function h2_body_set_userdata(body: u32, userdata: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  if (b == null) return H2E_INVALID_ARG;
  b.userdata = userdata;
  return H2E_OK;
}
export function h2_body_data(body: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null ? 0 : taskHandle(new BodyDataTask(b));
}
export function h2_body_trailers(body: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null ? 0 : taskHandle(new TrailersTask(b));
}
export function h2_body_is_end(body: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  if (b == null) return 0;
  const ctx = b.ctx;
  return ctx != null && ctx.recvEnded && ctx.recv.len == 0 && ctx.trailers == null ? 1 : 0;
}
export function h2_body_release(body: u32, n: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null ? H2E_INVALID_ARG : bodyRelease(b, n);
}
export function h2_body_free(body: u32): u32 {
  return release(body, HandleKind.BODY) ? H2E_OK : H2E_INVALID_ARG;
}
export function h2_buf_copy(ptr: usize, len: u32): u32 {
  safepoint();
  if (!validRange(ptr, len)) return 0;
  const bytes = new ByteBuffer();
  if (!bytes.reserve(len)) return 0;
  bytes.pushBytes(ptr, len);
  const h = register(HandleKind.BUF, new Buf(bytes));
  if (h == 0) bytes.dispose(); // the handle table is full: the copy would be lost
  return h;
}
export function h2_buf_bytes(buf: u32): usize {
  const b = get<Buf>(buf, HandleKind.BUF);
  return b == null ? 0 : b.bytes.ptr;
}
export function h2_buf_len(buf: u32): u32 {
  const b = get<Buf>(buf, HandleKind.BUF);
  return b == null ? 0 : b.bytes.len;
}
export function h2_buf_free(buf: u32): u32 {
  return release(buf, HandleKind.BUF) ? H2E_OK : H2E_INVALID_ARG;
}

// ---- send streams (the h2 crate's SendStream) ----------------------------------------------
export function h2_send_stream_reserve_capacity(stream: u32, n: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? H2E_INVALID_ARG : s.reserveCapacity(n);
}
export function h2_send_stream_capacity(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : s.capacity();
}
export function h2_send_stream_poll_capacity(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : taskHandle(new CapacityTask(s));
}
export function h2_send_stream_send_data(stream: u32, ptr: usize, len: u32, endStream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  if (s == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  return s.sendData(ptr, len, endStream != 0);
}
/** Sends trailers (END_STREAM); the headers handle is consumed. */
export function h2_send_stream_send_trailers(stream: u32, headers: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  const h = changetype<Headers | null>(handleRelease(headers, HandleKind.HEADERS));
  if (h == null) return H2E_INVALID_ARG;
  h.handle = 0;
  const rc = s == null ? H2E_INVALID_ARG : s.sendTrailers(h);
  h.dispose();
  return rc;
}
export function h2_send_stream_send_reset(stream: u32, reason: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? H2E_INVALID_ARG : s.sendReset(reason);
}
export function h2_send_stream_poll_reset(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : taskHandle(new ResetTask(s));
}
export function h2_send_stream_stream_id(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : s.streamId();
}
/** Pads every following DATA frame of the stream with `pad` bytes (0..255); 0xFFFFFFFF turns padding off. */
export function h2_send_stream_set_padding(stream: u32, pad: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  if (s == null || (pad > 255 && pad != 0xffffffff)) return H2E_INVALID_ARG;
  return s.setPadding(pad == 0xffffffff ? -1 : <i32>pad);
}
export function h2_send_stream_free(stream: u32): u32 {
  return release(stream, HandleKind.SEND_STREAM) ? H2E_OK : H2E_INVALID_ARG;
}

