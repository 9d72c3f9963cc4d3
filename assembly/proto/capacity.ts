// Streams waiting for send capacity (the h2 crate's pending-capacity queue): they asked
// for more with reserveCapacity than they were assigned. Served first come, first served
// as room appears — a window opening, the transport taking bytes, a stream ending and
// giving its assignment back. Intrusive doubly linked list (Stream.prevWaiting /
// nextWaiting): no allocation, O(1) push and remove.
import { Stream } from "./stream";

export class CapacityQueue {
  first: Stream | null = null;
  private last: Stream | null = null;

  /** Appends `stream` unless it is already waiting. */
  push(stream: Stream): void {
    if (stream.waitingCapacity) return;
    stream.waitingCapacity = true;
    stream.nextWaiting = null;
    const last = this.last;
    stream.prevWaiting = last;
    if (last == null) this.first = stream;
    else last.nextWaiting = stream;
    this.last = stream;
  }

  /** Drops `stream` if it is waiting. */
  remove(stream: Stream): void {
    if (!stream.waitingCapacity) return;
    const prev = stream.prevWaiting;
    const next = stream.nextWaiting;
    if (prev == null) this.first = next;
    else prev.nextWaiting = next;
    if (next == null) this.last = prev;
    else next.prevWaiting = prev;
    stream.prevWaiting = null;
    stream.nextWaiting = null;
    stream.waitingCapacity = false;
  }

  @inline get isEmpty(): bool {
    return this.first == null;
  }
}
