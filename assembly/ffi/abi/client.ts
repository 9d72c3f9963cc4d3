// The ABI: Client connections: options, handshake, requests, push, shutdown.
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Request } from '../messages';
import { ConnDriver } from '../conn-driver';
import {
  clientSend,
  CloseTask,
  ping,
  PushTask,
  pushedResponse,
  submitSetting,
  settingOf,
  setTargetWindow,
  abruptShutdown,
} from '../conn-roles';
import { Role } from '../../proto/config';
import { safepoint } from '../../util/gc';
import { get, taskHandle, optionsNew, optionsExec, optionsSet, handshake, takeMessage } from './common';

/** New client options (defaults in the README); the host owns them until the handshake. */
export function h2_clientconn_options_new(): u32 {
  safepoint();
  return optionsNew(Role.CLIENT, HandleKind.CLIENTCONN_OPTIONS);
}

/** Binds the executor the connection will run on (required). */
export function h2_clientconn_options_exec(opts: u32, exec: u32): u32 {
  return optionsExec(opts, HandleKind.CLIENTCONN_OPTIONS, exec);
}

/** Sets one H2_OPT_* value; H2E_INVALID_ARG for an unknown key or a value the RFC forbids. */
export function h2_clientconn_options_set(opts: u32, key: u32, value: u64): u32 {
  return optionsSet(opts, HandleKind.CLIENTCONN_OPTIONS, key, value);
}

/** Frees options never handed to a handshake. */
export function h2_clientconn_options_free(opts: u32): u32 {
  return handleRelease(opts, HandleKind.CLIENTCONN_OPTIONS) != null ? H2E_OK : H2E_INVALID_ARG;
}

/** Starts a client connection: sends the preface and SETTINGS. Takes the io and the
 *  options (whatever happens). The task yields H2_TASK_CLIENTCONN once the server's
 *  SETTINGS arrived, or an error. 0 for bad handles. */
export function h2_clientconn_handshake(io: u32, opts: u32): u32 {
  return handshake(io, opts, HandleKind.CLIENTCONN_OPTIONS, HandleKind.CLIENTCONN);
}

/** Sends a request (taken, whatever happens). The stream opens now, or waits for a
 *  MAX_CONCURRENT_STREAMS slot. The task yields H2_TASK_RESPONSE, or an error (its
 *  reason says REFUSED_STREAM and h2_error_is_retryable when it is safe to retry). */
export function h2_clientconn_send(conn: u32, req: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  const r = takeMessage<Request>(req, HandleKind.REQUEST, c);
  if (r == null) return 0;
  const t = clientSend(c!, r);
  r.dispose();
  return taskHandle(t);
}

/** 1 when a request sent now would open at once (no GOAWAY, a concurrency slot free). */
export function h2_clientconn_is_ready(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c != null && !c.isFailed && c.engine.canOpenStreamNow ? 1 : 0;
}

/** The server's SETTINGS_MAX_CONCURRENT_STREAMS (0xFFFFFFFF when unlimited). */
export function h2_clientconn_max_concurrent_streams(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? 0 : c.engine.peerMaxConcurrentStreams;
}

/** Sends a PING; the task yields H2_TASK_PING with the round-trip time. */
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

/** A task that finishes when the connection closes: EMPTY when cleanly, ERROR otherwise. */
export function h2_clientconn_poll_close(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? 0 : taskHandle(new CloseTask(c));
}

/** GOAWAY: no new requests; in-flight ones finish, then the connection closes. */
export function h2_clientconn_graceful_shutdown(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  if (c == null) return H2E_INVALID_ARG;
  c.engine.gracefulShutdown();
  return H2E_OK;
}

/** Frees the connection (GOAWAY CANCEL if still open); its streams fail. */
export function h2_clientconn_free(conn: u32): u32 {
  const c = changetype<ConnDriver | null>(handleRelease(conn, HandleKind.CLIENTCONN));
  if (c == null) return H2E_INVALID_ARG;
  c.free();
  return H2E_OK;
}

/** Announces a new value of one of our SETTINGS (an H2_OPT_* SETTINGS key); it binds the
 *  server once acknowledged. H2E_INVALID_ARG for another key or a value the RFC forbids;
 *  H2E_CLOSED once closing; H2E_LIMIT_EXCEEDED while four SETTINGS await acknowledgement. */
export function h2_clientconn_submit_setting(conn: u32, key: u32, value: u64): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? H2E_INVALID_ARG : submitSetting(c, key, value);
}

/** Our value of a SETTINGS key as the server acknowledged it (MAX_CONCURRENT_STREAMS: the
 *  most streams the server may open, h2's max_concurrent_recv_streams); 0 for another key. */
export function h2_clientconn_local_setting(conn: u32, key: u32): u32 {
  return settingOf(get<ConnDriver>(conn, HandleKind.CLIENTCONN), key, false);
}

/** The server's value of a SETTINGS key (MAX_CONCURRENT_STREAMS: the most streams we may
 *  open, h2's max_concurrent_send_streams); 0 for another key. */
export function h2_clientconn_remote_setting(conn: u32, key: u32): u32 {
  return settingOf(get<ConnDriver>(conn, HandleKind.CLIENTCONN), key, true);
}

/** Moves the connection's receive window target (h2's set_target_window_size). */
export function h2_clientconn_set_target_window_size(conn: u32, size: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? H2E_INVALID_ARG : setTargetWindow(c, size);
}

/** Abrupt shutdown with GOAWAY debug data: GOAWAY with `reason` and [debug, debug+len) as
 *  its debug data (UTF-8 text, at most 1 KiB), every stream reset. */
export function h2_clientconn_abrupt_shutdown_with_debug(conn: u32, reason: u32, debug: usize, len: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.CLIENTCONN);
  return c == null ? H2E_INVALID_ARG : abruptShutdown(c, reason, debug, len);
}
