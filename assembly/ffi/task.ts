// Tasks (hyper's hyper_task): futures the host pushes on an executor and gets back from
// h2_executor_poll once they finished. A task finishes with a type and a value (a handle
// or a number the type defines); the host takes the value with h2_task_value.
import { HandleKind, handleRelease } from './handles';
import { ErrorObject } from './errors';

export namespace TaskType {
  export const EMPTY: u32 = 0;
  export const ERROR: u32 = 1;
  export const CLIENTCONN: u32 = 2;
  export const RESPONSE: u32 = 3;
  export const BUF: u32 = 4;
  export const SERVERCONN: u32 = 5;
  /** A request arrived (server): the value is a request handle (h2_request_respond gives its respond handle). */
  export const REQUEST: u32 = 6;
  /** Trailers arrived: the value is a headers handle. */
  export const TRAILERS: u32 = 7;
  /** Send capacity: the value is the number of bytes assigned. */
  export const CAPACITY: u32 = 8;
  /** The peer reset the stream: the value is the RFC 9113 error code. */
  export const RESET: u32 = 9;
  /** A PING round trip finished: the value is its round-trip time in ms. */
  export const PING: u32 = 10;
}

/** Which value kind a finished task holds, so an untaken value is freed with the task. */
export abstract class Task {
  handle: u32 = 0;
  userdata: u32 = 0;
  type: u32 = TaskType.EMPTY;
  /** A handle (for handle-valued types) or a number (CAPACITY, RESET, PING). */
  value: u32 = 0;
  valueKind: HandleKind = HandleKind.NONE;
  done: bool = false;
  /** The executor it was pushed on (at most one). */
  executor: TaskScheduler | null = null;

  /** Tries to finish; true once type and value are set. Called again when woken. */
  abstract poll(): bool;

  /** Called when the task is freed unfinished or unpolled: detach from what it waits on. */
  cancel(): void {}

  finish(type: u32, value: u32, kind: HandleKind): bool {
    this.type = type;
    this.value = value;
    this.valueKind = kind;
    this.done = true;
    return true;
  }

  /** Finish as an error task carrying `errorHandle`. */
  fail(errorHandle: u32): bool {
    return this.finish(TaskType.ERROR, errorHandle, HandleKind.ERROR);
  }

  /** The host took the value: it owns it now. Returns it. */
  takeValue(): u32 {
    const v = this.value;
    if (this.valueKind != HandleKind.NONE) {
      this.value = 0;
      this.valueKind = HandleKind.NONE;
    }
    return v;
  }

  /** Frees a value the host never took. */
  dropValue(): void {
    if (this.valueKind != HandleKind.NONE && this.value != 0) {
      const obj = handleRelease(this.value, this.valueKind);
      if (obj != null) disposeValue(obj);
    }
    this.value = 0;
    this.valueKind = HandleKind.NONE;
  }
}

/** Objects that hold unmanaged memory implement this, so dropped values give it back. */
export abstract class Disposable {
  abstract dispose(): void;
}

function disposeValue(obj: Object): void {
  if (obj instanceof Disposable) changetype<Disposable>(obj).dispose();
  else if (obj instanceof ErrorObject) return;
}

/** A task that is finished from the moment it exists (errors found at call time). */
export class ReadyTask extends Task {
  constructor(type: u32, value: u32, kind: HandleKind) {
    super();
    this.finish(type, value, kind);
  }
  poll(): bool {
    return true;
  }
}

/**
 * Something tasks wait on (a stream's body, a connection's incoming queue…). When it
 * changes, notify() hands its waiting tasks back to their executor to be polled again.
 */
export class Waitable {
  // Nearly always one waiter: it lives in a field, and the list exists only for a second
  // one, so a stream's four waitables cost four small objects rather than twelve.
  private first: Task | null = null;
  private rest: Task[] | null = null;

  register(task: Task): void {
    if (this.first === task) return;
    if (this.first == null) {
      this.first = task;
      return;
    }
    let rest = this.rest;
    if (rest == null) this.rest = rest = [];
    if (!rest.includes(task)) rest.push(task);
  }

  unregister(task: Task): void {
    if (this.first === task) {
      const rest = this.rest;
      this.first = rest != null && rest.length > 0 ? rest.shift() : null;
      return;
    }
    const rest = this.rest;
    if (rest == null) return;
    const i = rest.indexOf(task);
    if (i >= 0) rest.splice(i, 1);
  }

  /** Called on every DATA frame a body task waits for: allocates nothing. wake() only
   *  queues the task, so nothing registers while the waiters are walked. */
  notify(): void {
    const first = this.first;
    if (first == null) return;
    this.first = null;
    wakeOne(first);
    const rest = this.rest;
    if (rest == null) return;
    const n = rest.length;
    for (let i = 0; i < n; i++) wakeOne(unchecked(rest[i]));
    rest.length = 0;
  }
}

function wakeOne(t: Task): void {
  const ex = t.executor;
  if (ex != null) ex.wake(t);
}

/** What a task needs of its executor; implemented by Executor (executor.ts). */
export abstract class TaskScheduler {
  abstract wake(task: Task): void;
}
