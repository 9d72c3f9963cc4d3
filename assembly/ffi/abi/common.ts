// What the ABI's section files share: typed handle lookups, releasing handles, task
// handles, the connection options both roles use, and a data-source body for a message.
import { HandleKind, handleGet, handleRelease, adopt } from '../handles';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Executor } from '../executor';
import { Task, Disposable } from '../task';
import { Io } from '../io';
import { Body } from '../body';
import { ConnOptions, setOption, startConn } from '../conn-roles';
import { safepoint } from '../../util/gc';

@inline export function get<T>(h: u32, kind: HandleKind): T | null {
  return changetype<T | null>(handleGet(h, kind));
}

/**
 * Takes the message behind `handle` to send it (the handle goes whatever happens): the
 * message, its headers' handle released too; or null when the handle is bad or `to`, where
 * it was to go, is null (the message is then freed).
 */
export function takeMessage<M>(handle: u32, kind: HandleKind, to: Object | null): M | null {
  const msg = changetype<M | null>(handleRelease(handle, kind));
  if (msg == null) return null;
  if (to == null) {
    msg.dispose();
    return null;
  }
  msg.releaseHeadersHandle();
  return msg;
}

/** At an export's entry: a handle for a new `T`, 0 when the handle table is full. */
export function newHandle<T>(kind: HandleKind): u32 {
  safepoint();
  return adopt(kind, instantiate<T>());
}

/** Sets the `userdata` the host gets back with the `T` behind `h`. */
export function setUserdata<T>(h: u32, kind: HandleKind, userdata: u32): u32 {
  const o = get<T>(h, kind);
  if (o == null) return H2E_INVALID_ARG;
  o.userdata = userdata;
  return H2E_OK;
}

/** Releases a handle and disposes its object; false when the handle was not live. */
export function release(h: u32, kind: HandleKind): bool {
  const obj = handleRelease(h, kind);
  if (obj == null) return false;
  if (obj instanceof Disposable) changetype<Disposable>(obj).dispose();
  return true;
}

export function taskHandle(t: Task): u32 {
  return adopt(HandleKind.TASK, t);
}

export function optionsNew(role: u8, kind: HandleKind): u32 {
  const o = new ConnOptions(role);
  return adopt(kind, o);
}

export function optionsExec(opts: u32, kind: HandleKind, exec: u32): u32 {
  const o = get<ConnOptions>(opts, kind);
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  if (o == null || e == null) return H2E_INVALID_ARG;
  o.executor = e;
  return H2E_OK;
}

export function optionsSet(opts: u32, kind: HandleKind, key: u32, value: u64): u32 {
  const o = get<ConnOptions>(opts, kind);
  return o == null ? H2E_INVALID_ARG : setOption(o, key, value);
}

export function handshake(io: u32, opts: u32, optionsKind: HandleKind, connKind: HandleKind): u32 {
  // Both are consumed, whatever happens.
  const i = changetype<Io | null>(handleRelease(io, HandleKind.IO));
  const o = changetype<ConnOptions | null>(handleRelease(opts, optionsKind));
  if (i == null || o == null) return 0;
  return taskHandle(startConn(i, o, connKind));
}

/**
 * Gives a request or a response a body read from a data source. The body is taken whatever
 * happens; one already attached to a stream is refused; the message's earlier body goes.
 */
export function setSourceBody<T>(msg: T | null, body: u32): u32 {
  const b = changetype<Body | null>(handleRelease(body, HandleKind.BODY));
  if (b == null) return H2E_INVALID_ARG;
  if (msg == null || b.ctx != null) {
    b.dispose();
    return H2E_INVALID_ARG;
  }
  const old = msg.body;
  if (old != null) old.dispose();
  msg.body = b;
  return H2E_OK;
}
