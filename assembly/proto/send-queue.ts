// The DATA scheduler's queue: streams with something to send, served round robin so one
// large body cannot starve small responses. A stream whose own window is closed simply
// is not re-queued until its WINDOW_UPDATE; when the connection window closes, the ring
// stays as it is and waits. Intrusive doubly linked list (Stream.prevScheduled /
// nextScheduled): no allocation, O(1) push, pop and remove.
import { Stream } from "./stream";

export class SendQueue {
  private first: Stream | null = null;
  private last: Stream | null = null;

  /** Appends `stream` unless it is already queued. */
  push(stream: Stream): void {
    if (stream.scheduled) return;
    stream.scheduled = true;
    stream.nextScheduled = null;
    const last = this.last;
    stream.prevScheduled = last;
    if (last == null) this.first = stream;
    else last.nextScheduled = stream;
    this.last = stream;
  }

  /** Puts `stream` back at the head (its turn was interrupted, not finished). */
  pushFront(stream: Stream): void {
    if (stream.scheduled) return;
    stream.scheduled = true;
    stream.prevScheduled = null;
    const first = this.first;
    stream.nextScheduled = first;
    if (first == null) this.last = stream;
    else first.prevScheduled = stream;
    this.first = stream;
  }

  /** Takes the next stream, or null. */
  pop(): Stream | null {
    const s = this.first;
    if (s != null) this.remove(s);
    return s;
  }

  /** Drops `stream` from the queue if it is there (closed, reset). */
  remove(stream: Stream): void {
    if (!stream.scheduled) return;
    const prev = stream.prevScheduled;
    const next = stream.nextScheduled;
    if (prev == null) this.first = next;
    else prev.nextScheduled = next;
    if (next == null) this.last = prev;
    else next.prevScheduled = prev;
    stream.prevScheduled = null;
    stream.nextScheduled = null;
    stream.scheduled = false;
  }

  @inline get isEmpty(): bool {
    return this.first == null;
  }
}
