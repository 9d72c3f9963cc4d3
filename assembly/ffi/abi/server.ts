// The ABI: Server connections (the h2 crate's server::Builder, handshake, accept, shutdown).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { ConnDriver } from '../conn-driver';
import {
  AcceptTask,
  CloseTask,
  RequestsReadyTask,
  takeRequests,
  ping,
  submitSetting,
  settingOf,
  setTargetWindow,
  abruptShutdown,
} from '../conn-roles';
import { validRange } from '../memory';
import { Role } from '../../proto/config';
import { safepoint } from '../../util/gc';
import { get, taskHandle, optionsNew, optionsExec, optionsSet, handshake } from './common';
import { Msg, msg } from '../../util/messages';

/** New server options; the host owns them until the handshake. */
export function h2_serverconn_options_new(): u32 {
  safepoint();
  return optionsNew(Role.SERVER, HandleKind.SERVERCONN_OPTIONS);
}

/** Binds the executor the connection will run on (required). */
export function h2_serverconn_options_exec(opts: u32, exec: u32): u32 {
  return optionsExec(opts, HandleKind.SERVERCONN_OPTIONS, exec);
}

/** Sets one H2_OPT_* value. */
export function h2_serverconn_options_set(opts: u32, key: u32, value: u64): u32 {
  return optionsSet(opts, HandleKind.SERVERCONN_OPTIONS, key, value);
}

/** Frees options never handed to a handshake. */
export function h2_serverconn_options_free(opts: u32): u32 {
  return handleRelease(opts, HandleKind.SERVERCONN_OPTIONS) != null ? H2E_OK : H2E_INVALID_ARG;
}

/** Starts a server connection on an accepted transport (io and options taken). The task
 *  yields H2_TASK_SERVERCONN once the client preface and SETTINGS arrived. */
export function h2_serverconn_handshake(io: u32, opts: u32): u32 {
  return handshake(io, opts, HandleKind.SERVERCONN_OPTIONS, HandleKind.SERVERCONN);
}

/** The next request: H2_TASK_REQUEST, or H2_TASK_EMPTY once no more will come (GOAWAY, close). */
export function h2_serverconn_accept(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(new AcceptTask(c));
}

/** A task that yields H2_TASK_REQUEST (no value) once requests wait to be taken by
 *  h2_serverconn_take_requests, H2_TASK_EMPTY once no more will come. */
export function h2_serverconn_poll_requests(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(new RequestsReadyTask(c));
}

/** Takes the waiting requests that fit [buf, buf+cap), heads flat (see include/h2wasm.h);
 *  the bytes written, 0 when none waits or the first does not fit. */
export function h2_serverconn_take_requests(conn: u32, buf: usize, cap: u32): u32 {
  safepoint();
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  if (c == null || !validRange(buf, cap)) return 0;
  return takeRequests(c, buf, cap);
}

/** Sends a PING; the task yields H2_TASK_PING with the round-trip time. */
export function h2_serverconn_ping(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(ping(c));
}

/** Graceful shutdown: GOAWAY 2^31-1, one PING round trip, GOAWAY with the last stream;
 *  in-flight streams finish, then the connection closes. */
export function h2_serverconn_graceful_shutdown(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  if (c == null) return H2E_INVALID_ARG;
  c.engine.gracefulShutdown();
  return H2E_OK;
}

/** Abrupt shutdown: GOAWAY with `reason` (RFC 9113 code), every stream reset. */
export function h2_serverconn_abrupt_shutdown(conn: u32, reason: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  if (c == null) return H2E_INVALID_ARG;
  c.engine.abort(reason, msg(Msg.SHUT_DOWN_BY_THE_SERVER));
  return H2E_OK;
}

/** A task that finishes when the connection closes: EMPTY when cleanly, ERROR otherwise.
 *  Close the transport then. */
export function h2_serverconn_poll_close(conn: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? 0 : taskHandle(new CloseTask(c));
}

/** Frees the connection (GOAWAY CANCEL if still open). */
export function h2_serverconn_free(conn: u32): u32 {
  const c = changetype<ConnDriver | null>(handleRelease(conn, HandleKind.SERVERCONN));
  if (c == null) return H2E_INVALID_ARG;
  c.free();
  return H2E_OK;
}

/** Announces a new value of one of our SETTINGS (an H2_OPT_* SETTINGS key); it binds the
 *  client once acknowledged. H2E_INVALID_ARG for another key or a value the RFC forbids;
 *  H2E_CLOSED once closing; H2E_LIMIT_EXCEEDED while four SETTINGS await acknowledgement. */
export function h2_serverconn_submit_setting(conn: u32, key: u32, value: u64): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? H2E_INVALID_ARG : submitSetting(c, key, value);
}

/** Our value of a SETTINGS key as the client acknowledged it (MAX_CONCURRENT_STREAMS: the
 *  most streams the client may open, h2's max_concurrent_recv_streams); 0 for another key. */
export function h2_serverconn_local_setting(conn: u32, key: u32): u32 {
  return settingOf(get<ConnDriver>(conn, HandleKind.SERVERCONN), key, false);
}

/** The client's value of a SETTINGS key (MAX_CONCURRENT_STREAMS: the most streams we may
 *  open, h2's max_concurrent_send_streams); 0 for another key. */
export function h2_serverconn_remote_setting(conn: u32, key: u32): u32 {
  return settingOf(get<ConnDriver>(conn, HandleKind.SERVERCONN), key, true);
}

/** Moves the connection's receive window target (h2's set_target_window_size). */
export function h2_serverconn_set_target_window_size(conn: u32, size: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? H2E_INVALID_ARG : setTargetWindow(c, size);
}

/** Abrupt shutdown with GOAWAY debug data: GOAWAY with `reason` and [debug, debug+len) as
 *  its debug data (UTF-8 text, at most 1 KiB), every stream reset. */
export function h2_serverconn_abrupt_shutdown_with_debug(conn: u32, reason: u32, debug: usize, len: u32): u32 {
  const c = get<ConnDriver>(conn, HandleKind.SERVERCONN);
  return c == null ? H2E_INVALID_ARG : abruptShutdown(c, reason, debug, len);
}
