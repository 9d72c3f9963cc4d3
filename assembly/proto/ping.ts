// Our outstanding PINGs (keepalive, graceful shutdown, host-initiated), so an ACK can be
// matched to its send time for the round-trip time, and an unanswered one noticed.
// Opaque data is a counter of ours: nothing random is needed (the core draws none).
import { UNSTAMPED } from './clock';

/** What finish() answers for an ACK that matches no PING of ours. */
export const NOT_OURS: i64 = -1;

/** Most of our own PINGs in flight at once. */
export const MAX_OUTSTANDING_PINGS: i32 = 8;

export class PingTracker {
  private data: StaticArray<u64> = new StaticArray<u64>(MAX_OUTSTANDING_PINGS);
  private sentAt: StaticArray<i64> = new StaticArray<i64>(MAX_OUTSTANDING_PINGS);
  count: i32 = 0;
  private nextData: u64 = 1;
  /** Opaque data of the PING the graceful shutdown waits for (0 = none). */
  shutdownPing: u64 = 0;

  /** Registers a new PING sent at `now` (a clock stamp); returns its opaque data, or 0 when too many are in flight. */
  start(now: i64): u64 {
    if (this.count >= MAX_OUTSTANDING_PINGS) return 0;
    const d = this.nextData++;
    unchecked((this.data[this.count] = d));
    unchecked((this.sentAt[this.count] = now));
    this.count++;
    return d;
  }

  /** Matches an ACK: returns when it was sent, or NOT_OURS when it answers no PING of ours. */
  finish(d: u64): i64 {
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.data[i]) == d) {
        const at = unchecked(this.sentAt[i]);
        this.count--;
        unchecked((this.data[i] = this.data[this.count]));
        unchecked((this.sentAt[i] = this.sentAt[this.count]));
        return at;
      }
    }
    return NOT_OURS;
  }

  /** Send time of the oldest PING in flight, or -1 when none; a PING sent while the time
   *  was stale counts as sent at `now`. */
  oldest(now: i64): i64 {
    let t: i64 = -1;
    for (let i = 0; i < this.count; i++) {
      let s = unchecked(this.sentAt[i]);
      if (s == UNSTAMPED) s = now;
      if (t < 0 || s < t) t = s;
    }
    return t;
  }

  /** The host told the time: PINGs sent while it was stale were sent at `now`. */
  fixStamps(now: i64): void {
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.sentAt[i]) == UNSTAMPED) unchecked((this.sentAt[i] = now));
    }
  }
}
