// What the rest of the ABI needs of a connection driver (conn.ts), declared apart so
// streams, bodies, tasks and the executor can refer to a connection without a cycle.
import { Connection } from "../proto/connection";
import { Handler } from "../proto/events";
import { Waitable } from "./task";

export abstract class ConnLike extends Handler {
  handle: u32 = 0;
  /** Set by the subclass's constructor (it passes itself to the engine as its handler). */
  engine!: Connection;
  /** The connection failed or closed with an error; `errorReason` is the RFC 9113 code. */
  isFailed: bool = false;
  errorCode: u32 = 0;
  errorReason: u32 = 0;
  errorMessage: string = "";
  /** Received bytes go back to the peer only when the host says so (h2_body_release). */
  manualRelease: bool = false;
  readonly closeWait: Waitable = new Waitable();


  /** Reads what the transport has, feeds the engine, writes what it produced. */
  abstract drive(): void;
  /** Acts on the time (the host's present). */
  abstract tick(now: i64): void;
  /** The next deadline (-1 for none). */
  abstract nextDeadline(): i64;
  /** True once the connection is over and written out: the executor drops it. */
  abstract get finished(): bool;
}
