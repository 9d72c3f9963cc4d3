// A token bucket, as nghttp2's nghttp2_ratelim: up to `burst` events at once, refilled at
// `rate` per second. Every per-connection rate limit is one (peer resets and refused
// streams, glitches): the same code, each with its own setting.
//
// The bucket is kept in thousandths of a token, so that a refill measured in milliseconds
// (the host's time) loses no fraction however often it is updated.

/** Milliseconds after which any bucket is full again (keeps the refill product in range). */
const REFILL_CAP_MS: i64 = 1_000_000_000;

export class RateLimit {
  private milli: i64;
  private stamp: i64;

  /** Full at `now`: `burst` events may come at once. */
  constructor(
    readonly burst: u32,
    readonly rate: u32,
    now: i64,
  ) {
    this.milli = i64(burst) * 1000;
    this.stamp = now;
  }

  /** Refills for the time since the last update (a clock that went back refills nothing). */
  update(now: i64): void {
    if (now <= this.stamp) return;
    const full = i64(this.burst) * 1000;
    const elapsed = min(now - this.stamp, REFILL_CAP_MS);
    this.milli = min(full, this.milli + elapsed * i64(this.rate));
    this.stamp = now;
  }

  /** Takes `n` events' worth: false, and nothing taken, when fewer are left. */
  drain(n: u32 = 1): bool {
    const need = i64(n) * 1000;
    if (this.milli < need) return false;
    this.milli -= need;
    return true;
  }

  /** Whole events that may come now. */
  get available(): u32 {
    return u32(this.milli / 1000);
  }
}
