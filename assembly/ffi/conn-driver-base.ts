// What the rest of the ABI needs of a connection driver (conn-driver.ts), declared apart so
// streams, bodies, tasks and the executor can refer to a connection without a cycle.
import { Connection } from '../proto/connection';
import { Handler } from '../proto/events';
import { TaskScheduler, Waitable } from './task';

/** What a connection needs of its executor: to be driven again (implemented by Executor). */
export abstract class ConnScheduler extends TaskScheduler {
  abstract activate(conn: ConnLike): void;
}

export abstract class ConnLike extends Handler {
  handle: u32 = 0;
  /** Set by the subclass's constructor (it passes itself to the engine as its handler). */
  engine!: Connection;
  /** The connection failed or closed with an error; `errorReason` is the RFC 9113 code. */
  isFailed: bool = false;
  errorCode: u32 = 0;
  errorReason: u32 = 0;
  errorMessage: string = '';
  /** Received bytes go back to the peer only when the host says so (h2_body_release). */
  manualRelease: bool = false;
  readonly closeWait: Waitable = new Waitable();

  // The executor drives only connections that have something to do: one its host woke, one
  // the host called into, one whose deadline came. With thousands of idle connections a
  // poll costs what the active ones cost, not what all of them do.
  scheduler: ConnScheduler | null = null;
  /** In the executor's active list. */
  active: bool = false;
  /** Inside drive(): what it changes, its own loops carry on with. */
  driving: bool = false;
  /** Touched while driving (a host call from inside a callback): drive once more. */
  again: bool = false;
  /** send_data answered H2_DATA_PAUSE: this poll ends; the next one goes on with it. */
  paused: bool = false;
  /** Its position in the executor's list of connections (-1 once detached). */
  slot: i32 = -1;
  /** Its next deadline as of its last drive (-1 for none): its key in the executor's heap. */
  deadline: i64 = -1;
  /** Its position in the executor's deadline heap (-1 when not in it). */
  heapIndex: i32 = -1;
  /** In the executor's list of connections whose stamps wait for the next set_time. */
  stampsQueued: bool = false;

  /** Something outside drive() changed it: the executor drives it at the next poll. */
  touched(): void {
    if (this.driving) {
      this.again = true;
      return;
    }
    const s = this.scheduler;
    if (!this.active && s != null) s.activate(this);
  }

  /** Reads what the transport has, feeds the engine, writes what it produced. */
  abstract drive(): void;
  /** Acts on the time (the host's present). */
  abstract tick(now: i64): void;
  /** The next deadline (-1 for none). */
  abstract nextDeadline(): i64;
  /** True once the connection is over and written out: the executor drops it. */
  abstract get finished(): bool;
}
