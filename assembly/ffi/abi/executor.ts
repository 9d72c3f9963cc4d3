// The ABI: The executor and its tasks (hyper_executor, hyper_task).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Executor } from '../executor';
import { Task, TaskType } from '../task';
import { MAX_TIME_MS } from '../../proto/clock';
import { safepoint } from '../../util/gc';
import { get, newHandle, setUserdata } from './common';

/** A new executor; the host owns it. */
export function h2_executor_new(): u32 {
  return newHandle<Executor>(HandleKind.EXECUTOR);
}

/** Pushes a task; the executor runs it, the host keeps the handle (free it after poll returns it). */
export function h2_executor_push(exec: u32, task: u32): u32 {
  safepoint();
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  const t = get<Task>(task, HandleKind.TASK);
  if (e == null || t == null || t.executor != null) return H2E_INVALID_ARG;
  e.push(t);
  return H2E_OK;
}

/** Drives the executor's connections that have something to do (a waker woken, a call
 *  made on them, a deadline passed) and returns one finished task, or 0 when none is ready
 *  (then wait for a waker or the next deadline). Only tasks the host pushed return. Idle
 *  connections cost a turn nothing: set_time, poll and next_deadline do not visit them. */
export function h2_executor_poll(exec: u32): u32 {
  safepoint();
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  if (e == null) return 0;
  const t = e.poll();
  return t == null ? 0 : t.handle;
}

/** Tells the executor the time (ms on one monotonic clock, 0 .. 2^53-1) and acts on every
 *  deadline that passed (see "Time" above). H2E_INVALID_ARG for a bad handle or a time
 *  out of that range. */
export function h2_executor_set_time(exec: u32, nowMs: i64): u32 {
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  if (e == null || nowMs < 0 || nowMs > MAX_TIME_MS) return H2E_INVALID_ARG;
  e.setTime(nowMs);
  return H2E_OK;
}

/** The next time (ms) something is due (keepalive, SETTINGS and PING timeouts, idle
 *  timeout, graceful-shutdown wait, close linger), or -1 for none. Acts on nothing. */
export function h2_executor_next_deadline(exec: u32): i64 {
  const e = get<Executor>(exec, HandleKind.EXECUTOR);
  return e == null ? -1 : e.nextDeadline();
}

/** Frees the executor. Its connections are aborted (CANCEL) and tasks waiting on them
 *  finish with an error, wherever they were pushed. */
export function h2_executor_free(exec: u32): u32 {
  const e = changetype<Executor | null>(handleRelease(exec, HandleKind.EXECUTOR));
  if (e == null) return H2E_INVALID_ARG;
  e.shutdown();
  return H2E_OK;
}

/** The type of a finished task (H2_TASK_*); H2_TASK_EMPTY while unfinished or for a bad handle. */
export function h2_task_type(task: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  return t == null || !t.done ? TaskType.EMPTY : t.type;
}

/** Takes the value of a finished task: a handle the host then owns, or a number
 *  (CAPACITY, RESET, PING). Later calls return 0 for handle values. */
export function h2_task_value(task: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  return t == null || !t.done ? 0 : t.takeValue();
}

/** Sets the task's userdata, to tell tasks apart when they come back. */
export function h2_task_set_userdata(task: u32, userdata: u32): u32 {
  return setUserdata<Task>(task, HandleKind.TASK, userdata);
}

/** The task's userdata. */
export function h2_task_userdata(task: u32): u32 {
  const t = get<Task>(task, HandleKind.TASK);
  return t == null ? 0 : t.userdata;
}

/** Frees a task (and a value not taken). Freeing an unfinished task cancels it. */
export function h2_task_free(task: u32): u32 {
  const t = changetype<Task | null>(handleRelease(task, HandleKind.TASK));
  if (t == null) return H2E_INVALID_ARG;
  if (!t.done) t.cancel();
  const ex = t.executor;
  if (ex != null) changetype<Executor>(ex).forget(t);
  t.dropValue();
  return H2E_OK;
}
