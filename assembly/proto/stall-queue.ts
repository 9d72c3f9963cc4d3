// Streams with data for the peer whose window the peer keeps shut, oldest stall first:
// each entered when it found its window shut (its stalledSince is a clock stamp), so the
// head is always the next to pass sendStallTimeout. Intrusive doubly linked list
// (Stream.prevStalled / nextStalled): no allocation, O(1) push and remove.
import { Stream } from "./stream";
import { UNSTAMPED } from "./clock";

export class StallQueue {
  first: Stream | null = null;
  private last: Stream | null = null;

  /** Appends `stream`, stalled since `at`, unless it is already in. */
  push(stream: Stream, at: i64): void {
    if (stream.stalled) return;
    stream.stalled = true;
    stream.stalledSince = at;
    stream.nextStalled = null;
    const last = this.last;
    stream.prevStalled = last;
    if (last == null) this.first = stream;
    else last.nextStalled = stream;
    this.last = stream;
  }

  /** Drops `stream` if it is in. */
  remove(stream: Stream): void {
    if (!stream.stalled) return;
    const prev = stream.prevStalled;
    const next = stream.nextStalled;
    if (prev == null) this.first = next;
    else prev.nextStalled = next;
    if (next == null) this.last = prev;
    else next.prevStalled = prev;
    stream.prevStalled = null;
    stream.nextStalled = null;
    stream.stalled = false;
  }

  /** The time is told: stalls stamped while it was stale began now. They are the newest,
   *  at the tail, so the order holds. */
  fixStamps(now: i64): void {
    let s = this.last;
    while (s != null && s.stalledSince == UNSTAMPED) {
      s.stalledSince = now;
      s = s.prevStalled;
    }
  }
}
