// The executor (hyper's hyper_executor): the host pushes tasks, then polls until it gets
// 0. Each poll drives the connections bound to this executor (reads, frames, writes),
// then returns one finished task. Only tasks the host pushed ever come back: the
// connections' own work runs inside poll and never surfaces as an anonymous task.
// Time is an input: the host sets it and asks for the next deadline.
//
// Work follows activity, not the number of connections: a poll drives only the connections
// in the active list (woken by the host, called into, or due); set_time ticks only those
// whose deadline came (a heap of deadlines, each kept from the connection's last drive) or
// whose stamps wait for it; the time itself is one TimeSource that every connection's clock
// reads. A turn with thousands of idle connections costs what its active ones cost.
import { Task } from './task';
import { ConnLike, ConnScheduler } from './conn-driver-base';
import { DeadlineHeap } from './deadline-heap';
import { ErrorCode } from '../frame/constants';
import { TimeSource } from '../proto/clock';
import { instanceBudget } from '../proto/budget';
import { SHED_STALL_MS } from '../proto/connection';
import { Msg, msg } from '../util/messages';

/** Rounds of drive-then-tasks in one poll: only tasks and connections that touch each other
 *  without end reach it (the host polls again at its next event). */
const POLL_ROUNDS: i32 = 16;

export class Executor extends ConnScheduler {
  handle: u32 = 0;
  // FIFO of tasks to poll: an array read from `readyHead`, compacted when drained.
  private ready: Task[] = [];
  private readyHead: i32 = 0;
  private pending: Set<Task> = new Set();
  private conns: ConnLike[] = [];
  /** Connections to drive at the next poll, each once (ConnLike.active), first come first
   *  driven: a FIFO read from `activeHead`, compacted when drained. */
  private activeList: ConnLike[] = [];
  private activeHead: i32 = 0;
  /** Connections whose host paused a zero-copy write: driven again at the next poll. */
  private pausedList: ConnLike[] = [];
  /** Connections with a stamp taken while the time was stale: the next set_time ticks them. */
  private stamped: ConnLike[] = [];
  private readonly deadlines: DeadlineHeap = new DeadlineHeap();
  /** The time as the host told it; every connection's clock reads it. `current` holds from
   *  set_time until a poll finds nothing (the host's turn). */
  readonly time: TimeSource = new TimeSource();
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
    conn.scheduler = this;
    conn.slot = this.conns.length;
    this.conns.push(conn);
    this.activate(conn);
  }

  activate(conn: ConnLike): void {
    if (conn.active || conn.slot < 0) return;
    conn.active = true;
    this.activeList.push(conn);
  }

  /** Drives the active connections, then returns a finished task, or null when none is. */
  poll(): Task | null {
    this.resumePaused();
    // Tasks polled may call into connections, and connections driven may finish tasks:
    // go round until neither has anything left, so the host never sleeps on work.
    for (let round = 0; round < POLL_ROUNDS; round++) {
      this.driveActive();
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
      // A connection whose host paused (send_data answered H2_DATA_PAUSE) ends this poll.
      if (this.activeHead == this.activeList.length || this.pausedList.length > 0) break;
    }
    // The host's turn is over and it will sleep until a waker or a deadline. The time told
    // is stale from here: what happens before the next set_time (a handshake, a send, a
    // PING) takes that set_time's time (proto/clock.ts).
    this.time.current = false;
    return null;
  }

  /** Drives each active connection until none is left active (each drive is bounded by
   *  its own progress; a connection touched while driving goes round again). */
  private driveActive(): void {
    const list = this.activeList;
    // A bound only a connection that is touched on every drive without end would reach.
    const guard = (this.conns.length + 1) * 8;
    for (let n = 0; n < guard && this.activeHead < list.length; n++) {
      const c = unchecked(list[this.activeHead++]);
      if (this.activeHead == list.length) {
        list.length = 0;
        this.activeHead = 0;
      }
      c.active = false;
      c.driving = true;
      c.again = false;
      c.drive();
      c.driving = false;
      if (c.finished) {
        this.detach(c);
        continue;
      }
      this.deadlines.set(c, c.nextDeadline());
      if (c.engine.stampsPending && !c.stampsQueued) {
        c.stampsQueued = true;
        this.stamped.push(c);
      }
      if (c.paused) this.pausedList.push(c);
      else if (c.again) this.activate(c);
    }
  }

  /** Connections paused in the last poll go on in this one. */
  private resumePaused(): void {
    const paused = this.pausedList;
    if (paused.length == 0) return;
    for (let i = 0; i < paused.length; i++) {
      const c = unchecked(paused[i]);
      c.paused = false;
      this.activate(c);
    }
    paused.length = 0;
  }

  /** Lets go of a finished connection (the ready queue already holds its last news). */
  private detach(c: ConnLike): void {
    const conns = this.conns;
    const i = c.slot;
    if (i < 0) return;
    const last = conns.pop();
    if (last !== c) {
      unchecked((conns[i] = last));
      last.slot = i;
    }
    c.slot = -1;
    this.deadlines.set(c, -1);
    if (c.stampsQueued) {
      // Rare (a host that told no time since the stamp): let go of it here too.
      c.stampsQueued = false;
      const stamped = this.stamped;
      const at = stamped.lastIndexOf(c);
      if (at >= 0) {
        unchecked((stamped[at] = stamped[stamped.length - 1]));
        stamped.pop();
      }
    }
  }

  /** Sets the time (ms, host's clock; a time earlier than the last is kept at the last)
   *  and lets every connection whose deadline came, or whose stamps wait for it, act on it. */
  setTime(now: i64): void {
    const time = this.time;
    if (now > time.now) time.now = now;
    time.current = true;
    now = time.now;
    instanceBudget.shedIfPressed(now, SHED_STALL_MS);
    // Stamps taken while the time was stale become this time: on connections driven since
    // the last set_time, and on ones the host called into and no poll drove yet.
    const stamped = this.stamped;
    for (let i = 0; i < stamped.length; i++) this.tickNow(unchecked(stamped[i]), now);
    stamped.length = 0;
    const active = this.activeList;
    for (let i = this.activeHead; i < active.length; i++) {
      const c = unchecked(active[i]);
      if (c.engine.stampsPending) this.tickNow(c, now);
    }
    // Then whatever is due, earliest first.
    const heap = this.deadlines;
    for (;;) {
      const c = heap.top;
      if (c == null || c.deadline > now) break;
      heap.set(c, -1);
      this.tickNow(c, now);
    }
  }

  /** Ticks `c` at `now`; what the tick did is written, and its deadline taken again, at the next poll. */
  private tickNow(c: ConnLike, now: i64): void {
    c.stampsQueued = false;
    if (c.slot < 0) return;
    c.tick(now);
    this.activate(c);
  }

  /** The earliest deadline of any connection, -1 when none; now while a connection is
   *  paused (the host polls again at once). Acts on nothing. */
  nextDeadline(): i64 {
    if (this.pausedList.length > 0) return this.time.now;
    // Connections called into since the last poll: their deadlines as they stand now.
    const active = this.activeList;
    for (let i = this.activeHead; i < active.length; i++) {
      const c = unchecked(active[i]);
      this.deadlines.set(c, c.nextDeadline());
    }
    const top = this.deadlines.top;
    return top == null ? -1 : top.deadline;
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
      e.abort(ErrorCode.CANCEL, msg(Msg.EXECUTOR_FREED));
      // Its GOAWAY will never be written: nothing drives the connection any more. Dropping
      // it lets the connection count as finished, so its poll_close tasks finish too.
      e.consumeOutput(e.outputLen);
      c.closeWait.notify();
    }
    for (let i = 0; i < conns.length; i++) unchecked(conns[i]).slot = -1;
    this.conns = [];
    this.activeList = [];
    this.activeHead = 0;
    this.pausedList = [];
    this.stamped = [];
    this.deadlines.clear();
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
