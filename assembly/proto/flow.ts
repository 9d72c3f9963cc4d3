// Flow-control windows (RFC 9113 §5.2, §6.9). Windows are i64 so that arithmetic never
// wraps: a send window may legitimately go negative after SETTINGS_INITIAL_WINDOW_SIZE
// shrinks (§6.9.2), and an overflow past 2^31-1 must be detected, not wrapped.
import { MAX_WINDOW_SIZE } from '../frame/constants';

/** The peer's window for what we send: consumed by our DATA, grown by its WINDOW_UPDATE. */
export class SendWindow {
  window: i64;

  constructor(initial: u32) {
    this.window = <i64>initial;
  }

  /** Room to send now (never negative). */
  @inline get available(): u32 {
    return this.window > 0 ? <u32>this.window : 0;
  }

  /** A WINDOW_UPDATE: false when it would pass 2^31-1 (FLOW_CONTROL_ERROR, §6.9.1). */
  increase(increment: u32): bool {
    const next = this.window + <i64>increment;
    if (next > <i64>MAX_WINDOW_SIZE) return false;
    this.window = next;
    return true;
  }

  /**
   * A SETTINGS_INITIAL_WINDOW_SIZE change of `delta` applied to an open stream
   * (§6.9.2): may go negative; false when it would pass 2^31-1 (FLOW_CONTROL_ERROR).
   */
  adjust(delta: i64): bool {
    const next = this.window + delta;
    if (next > <i64>MAX_WINDOW_SIZE) return false;
    this.window = next;
    return true;
  }

  @inline consume(n: u32): void {
    this.window -= <i64>n;
  }
}

/**
 * Our window for what the peer sends. `window` is what the peer may still send;
 * `unreleased` is what the application has consumed but we have not yet given back
 * with a WINDOW_UPDATE. Release is automatic (nghttp2's rule: once half of `target` is
 * consumed) unless the owner releases by hand.
 */
export class RecvWindow {
  window: i64;
  /** The window size we aim to keep open (our SETTINGS_INITIAL_WINDOW_SIZE, or a larger connection target). */
  target: u32;
  unreleased: u32 = 0;

  constructor(initial: u32) {
    this.window = <i64>initial;
    this.target = initial;
  }

  /** DATA of flow-controlled length `n` arrived: false when it exceeds the window (FLOW_CONTROL_ERROR, §6.9.1). */
  receive(n: u32): bool {
    if (<i64>n > this.window) return false;
    this.window -= <i64>n;
    return true;
  }

  /**
   * The application is done with `n` bytes. Returns the WINDOW_UPDATE increment to send
   * now, or 0 while less than half the target is waiting to be given back (batching
   * keeps WINDOW_UPDATE frames few without starving the peer).
   */
  release(n: u32): u32 {
    this.unreleased += n;
    if (this.unreleased < this.target >> 1 || this.unreleased == 0) return 0;
    return this.flush();
  }

  /** Gives back what was consumed so far, whatever its size, as far as the target allows
   *  (after a lowered target, the rest waits until the window is under it); returns the increment. */
  flush(): u32 {
    const room = max<i64>(<i64>this.target - this.window, 0);
    const increment = <u32>min<i64>(<i64>this.unreleased, room);
    this.unreleased -= increment;
    this.window += <i64>increment;
    return increment;
  }

  /**
   * Our own SETTINGS_INITIAL_WINDOW_SIZE changed and the peer acknowledged it: the
   * stream windows move by the difference (§6.9.2), the target follows. Two stalls
   * are possible after a decrease, both with nothing left in flight to trigger a
   * release: bytes already released now reach half the smaller target (give them back
   * now), or the window sits below zero (top it back up to the target). Returns the
   * WINDOW_UPDATE increment to send (0 for none).
   */
  retarget(newTarget: u32): u32 {
    this.window += <i64>newTarget - <i64>this.target;
    this.target = newTarget;
    let increment: u32 = 0;
    if (this.unreleased > 0 && this.unreleased >= newTarget >> 1) increment = this.flush();
    const held = this.window + <i64>this.unreleased;
    if (held < <i64>(newTarget >> 1)) {
      const topUp = <u32>(<i64>newTarget - held);
      this.window += <i64>topUp;
      increment += topUp;
    }
    return increment;
  }

  /**
   * Moves the target (the h2 crate's set_target_window_size): raising it opens the window
   * by the difference now (the increment returned, to announce); lowering it withholds
   * WINDOW_UPDATEs until the window is back under it (a window already granted stays).
   */
  setTarget(newTarget: u32): u32 {
    if (newTarget >= this.target) return this.grow(newTarget);
    this.target = newTarget;
    return 0;
  }

  /** Raises the target and opens the window by the difference now; returns the increment to announce. */
  grow(newTarget: u32): u32 {
    if (newTarget <= this.target) return 0;
    const increment = newTarget - this.target;
    this.target = newTarget;
    this.window += <i64>increment;
    return increment;
  }
}
