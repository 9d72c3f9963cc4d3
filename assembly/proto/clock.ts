// The engine's view of the host's time. The core never reads a clock: the host tells the
// time (tick) when one of its own events fires, and between its turns the last time told
// grows stale — a host may sleep for hours with nothing due. Whatever happens while the
// time is stale (a connection created, a SETTINGS or PING sent, bytes received) is stamped
// UNSTAMPED and takes the time of the next tick, so no deadline is ever counted from a
// time older than the thing it governs.
//
// The connection's own stamps live here, one slot each (Stamp), so that fixing them at the
// next tick is one loop that no new stamp can be left out of.

/** The largest time, and the largest timeout, a host can give (ms; 2^53-1, JavaScript's
 *  safe integers): a time plus a timeout never overflows. */
export const MAX_TIME_MS: i64 = (1 << 53) - 1;

/** A stamp taken while the time was stale: it becomes the time of the next tick. */
export const UNSTAMPED: i64 = i64.MIN_VALUE;

/** A slot that holds no stamp: nothing is being timed. */
export const NONE: i64 = -1;

/** The connection's stamps (what each one times is in connection.ts). */
export namespace Stamp {
  /** Bytes last received: keepalive PINGs wait for a silence of keepaliveInterval. */
  export const ACTIVITY: i32 = 0;
  /** The last stream closed, or the connection began: the idle timeout counts from it. */
  export const IDLE_SINCE: i32 = 1;
  /** Our last PING went out or was answered. */
  export const PING: i32 = 2;
  /** Our oldest unacknowledged SETTINGS went out. */
  export const SETTINGS_SENT: i32 = 3;
  /** Draining began (our GOAWAY or the peer's): gracefulTimeout counts from it. */
  export const SHUTDOWN: i32 = 4;
  /** The connection closed, or since then last took our bytes (the close linger). */
  export const CLOSED: i32 = 5;
  /** The connection began (the handshake timeout). */
  export const STARTED: i32 = 6;
  /** An unfinished header block began (the header timeout). */
  export const BLOCK: i32 = 7;
  /** The host first could not take our output since the last progress (write stall). */
  export const WRITE_BLOCKED: i32 = 8;
  /** The connection window was found shut with data waiting (send stall). */
  export const CONN_STALLED: i32 = 9;
  /** A stream frame last went either way (receive idle). */
  export const STREAM_FRAME: i32 = 10;
  /** The transport last took bytes or the host last took received ones (budget shedding). */
  export const PROGRESS: i32 = 11;
  export const COUNT: i32 = 12;
}

/** The host's time as told: one per executor, shared by the clocks of its connections, so
 *  telling the time or its going stale is one store, not one per connection. */
export class TimeSource {
  /** The last time the host told (ms); never goes back. */
  now: i64 = 0;
  /** `now` is the host's present time (told in this turn of the host's). */
  current: bool = false;
}

export class Clock {
  readonly source: TimeSource;
  /** Some stamp is UNSTAMPED: the next tick must fix it. */
  pending: bool = false;
  private readonly slots: StaticArray<i64> = new StaticArray<i64>(Stamp.COUNT);

  /** A clock on `source` (its executor's), or on a source of its own at `now`. */
  constructor(now: i64, current: bool, source: TimeSource | null = null) {
    if (source == null) {
      source = new TimeSource();
      source.now = now;
      source.current = current;
    }
    this.source = source;
    for (let i = 0; i < Stamp.COUNT; i++) unchecked((this.slots[i] = NONE));
  }

  /** The last time the host told (ms). */
  @inline get now(): i64 {
    return this.source.now;
  }

  /** The time told is the present (told in the host's current turn). */
  @inline get current(): bool {
    return this.source.current;
  }

  /** The time of something happening now: `now` when current, else UNSTAMPED (fixed at the next tick). */
  @inline stamp(): i64 {
    if (this.current) return this.now;
    this.pending = true;
    return UNSTAMPED;
  }

  /** Stamps `slot` with now. */
  @inline mark(slot: i32): void {
    unchecked((this.slots[slot] = this.stamp()));
  }

  /** Stamps `slot` with now unless it holds a stamp already. */
  @inline markOnce(slot: i32): void {
    if (unchecked(this.slots[slot]) == NONE) this.mark(slot);
  }

  @inline clear(slot: i32): void {
    unchecked((this.slots[slot] = NONE));
  }

  @inline isSet(slot: i32): bool {
    return unchecked(this.slots[slot]) != NONE;
  }

  /** The stamp in `slot` (NONE when unset; never UNSTAMPED after a tick). */
  @inline get(slot: i32): i64 {
    return unchecked(this.slots[slot]);
  }

  /** Stamps `slot` with a time the caller knows (a tick's `now`). */
  @inline put(slot: i32, t: i64): void {
    unchecked((this.slots[slot] = t));
  }

  /** The stamp in `slot` for a deadline estimate: an UNSTAMPED one counts as `now`, the
   *  earliest it can become. */
  @inline since(slot: i32): i64 {
    return this.at(unchecked(this.slots[slot]));
  }

  /** `t` as a time: an UNSTAMPED stamp counts as `now`, the earliest it can become. */
  @inline at(t: i64): i64 {
    return t == UNSTAMPED ? this.now : t;
  }

  /** The host told the time: it is current until lapse(). Stamps taken while it was stale
   *  become this time (the caller fixes its own lists of stamps too). */
  advance(now: i64): void {
    const source = this.source;
    if (now > source.now) source.now = now;
    source.current = true;
    if (!this.pending) return;
    for (let i = 0; i < Stamp.COUNT; i++) {
      if (unchecked(this.slots[i]) == UNSTAMPED) unchecked((this.slots[i] = source.now));
    }
  }

  /** The host's turn ended: `now` is stale from here on (for every clock on the source). */
  lapse(): void {
    this.source.current = false;
  }
}
