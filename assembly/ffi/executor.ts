// The executor (hyper's hyper_executor): the host pushes tasks, then polls until it gets
// 0. Each poll drives the connections bound to this executor (reads, frames, writes),
// then returns one finished task. Only tasks the host pushed ever come back: the
// connections' own work runs inside poll and never surfaces as an anonymous task.
// Time is an input: the host sets it and asks for the next deadline.
import { Task, TaskScheduler } from "./task";
import { ConnLike } from "./conn-like";
import { ErrorCode } from "../frame/constants";

export class Executor extends TaskScheduler {
  handle: u32 = 0;
  // FIFO of tasks to poll: an array read from `readyHead`, compacted when drained.
  private ready: Task[] = [];
  private readyHead: i32 = 0;
  private pending: Set<Task> = new Set();
  private conns: ConnLike[] = [];
  /** The last time the host told (ms); never goes back. */
  now: i64 = 0;
  /** `now` was told in the host's current turn (from set_time until a poll finds nothing). */
  timeCurrent: bool = false;
  freed: bool = false;

  /** Takes `task` (the host keeps its handle, to free it after it comes back). */
  push(task: Task): void {
    task.executor = this;
    this.pending.add(task);
    this.ready.push(task);
  }

  wake(task: Task): void {
    if (this.pending.has(task)) this.ready.push(task);
  }

  attach(conn: ConnLike): void {
    this.conns.push(conn);
  }

  /** Drives every connection, then returns a finished task, or null when none is. */
  poll(): Task | null {
    for (let round = 0; round < 2; round++) {
      this.driveAll();
      while (this.readyHead < this.ready.length) {
        const t = unchecked(this.ready[this.readyHead++]);
        if (this.readyHead == this.ready.length) {
          this.ready.length = 0;
          this.readyHead = 0;
        }
        if (!this.pending.has(t)) continue;
        if (t.done || t.poll()) {
          this.pending.delete(t);
          return t;
        }
      }
    }
    this.endTurn();
    return null;
  }

  /**
   * A poll found nothing: the host's turn is over and it will sleep until a waker or a
   * deadline. The time told is stale from here: what happens before the next set_time
   * (a handshake, a send, a PING) takes that set_time's time (proto/clock.ts).
   */
  private endTurn(): void {
    this.timeCurrent = false;
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) unchecked(conns[i]).engine.timeLapsed();
  }

  private driveAll(): void {
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) unchecked(conns[i]).drive();
    // Drop connections that are finished; the ready queue already holds their last news.
    let j = 0;
    for (let i = 0; i < conns.length; i++) {
      const c = unchecked(conns[i]);
      if (!c.finished) unchecked(conns[j++] = c);
    }
    conns.length = j;
  }

  /** Sets the time (ms, host's clock; a time earlier than the last is kept at the last)
   *  and lets every connection act on it. */
  setTime(now: i64): void {
    if (now > this.now) this.now = now;
    this.timeCurrent = true;
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) unchecked(conns[i]).tick(this.now);
  }

  /** The earliest deadline of any connection, -1 when none. Acts on nothing. */
  nextDeadline(): i64 {
    let t: i64 = -1;
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) {
      const d = unchecked(conns[i]).nextDeadline();
      if (d >= 0 && (t < 0 || d < t)) t = d;
    }
    return t;
  }

  /**
   * The host freed the executor: nothing will drive its connections again, so they fail
   * now (as hyper drops a freed executor's connection futures). Tasks waiting on them,
   * pushed on another executor, finish with the error instead of waiting forever; tasks
   * still pending here are dropped (the host frees their handles).
   */
  shutdown(): void {
    this.freed = true;
    const conns = this.conns;
    for (let i = 0; i < conns.length; i++) {
      const c = unchecked(conns[i]);
      if (c.finished) continue;
      const e = c.engine;
      e.abort(ErrorCode.CANCEL, "executor freed");
      // Its GOAWAY will never be written: nothing drives the connection any more. Dropping
      // it lets the connection count as finished, so its poll_close tasks finish too.
      e.consumeOutput(e.outputLen);
      c.closeWait.notify();
    }
    this.conns = [];
    this.ready = [];
    this.readyHead = 0;
    this.pending.clear();
  }

  /** A task freed by the host before it came back: forget it. */
  forget(task: Task): void {
    this.pending.delete(task);
  }

  get pendingCount(): i32 {
    return this.pending.size;
  }
}
