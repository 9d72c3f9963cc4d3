// Streams with data for the peer whose window the peer keeps shut, oldest stall first:
// each entered when it found its window shut (its stalledSince is a clock stamp), so the
// head is always the next to pass sendStallTimeout. An intrusive list (stream-list.ts).
import { Stream } from './stream';
import { StreamList, StallLinks } from './stream-list';
import { UNSTAMPED } from './clock';

export class StallQueue extends StreamList<StallLinks> {
  /** Appends `stream`, stalled since `at`, unless it is in already. */
  stall(stream: Stream, at: i64): void {
    if (this.has(stream)) return;
    stream.stalledSince = at;
    this.push(stream);
  }

  /** The time is told: stalls stamped while it was stale began now. They are the newest,
   *  at the tail, so the order holds. */
  fixStamps(now: i64): void {
    let s = this.last;
    while (s != null && s.stalledSince == UNSTAMPED) {
      s.stalledSince = now;
      s = this.prev(s);
    }
  }
}
