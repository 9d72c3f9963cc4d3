// The engine's view of the host's time. The core never reads a clock: the host tells the
// time (tick) when one of its own events fires, and between its turns the last time told
// grows stale — a host may sleep for hours with nothing due. Whatever happens while the
// time is stale (a connection created, a SETTINGS or PING sent, bytes received) is stamped
// UNSTAMPED and takes the time of the next tick, so no deadline is ever counted from a
// time older than the thing it governs.

/** The largest time, and the largest timeout, a host can give (ms; 2^53-1, JavaScript's
 *  safe integers): a time plus a timeout never overflows. */
export const MAX_TIME_MS: i64 = (1 << 53) - 1;

/** A stamp taken while the time was stale: it becomes the time of the next tick. */
export const UNSTAMPED: i64 = i64.MIN_VALUE;

export class Clock {
  /** The last time the host told (ms); never goes back. */
  now: i64;
  /** `now` is the host's present time (told in this turn of the host's). */
  current: bool;
  /** Some stamp is UNSTAMPED: the next tick must fix it. */
  pending: bool = false;

  constructor(now: i64, current: bool) {
    this.now = now;
    this.current = current;
  }

  /** The time of something happening now: `now` when current, else UNSTAMPED (fixed at the next tick). */
  @inline stamp(): i64 {
    if (this.current) return this.now;
    this.pending = true;
    return UNSTAMPED;
  }

  /** `t` as a time: an UNSTAMPED stamp counts as `now`, the earliest it can become. */
  @inline at(t: i64): i64 {
    return t == UNSTAMPED ? this.now : t;
  }

  /** The host told the time: it is current until lapse(). */
  advance(now: i64): void {
    if (now > this.now) this.now = now;
    this.current = true;
  }

  /** The host's turn ended: `now` is stale from here on. */
  lapse(): void {
    this.current = false;
  }
}
