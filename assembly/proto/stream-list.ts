// The intrusive doubly linked list of streams the engine's queues are made of: the DATA
// scheduler's ring (send-queue.ts), the streams waiting for capacity (capacity.ts), the
// streams whose window the peer keeps shut (stall-queue.ts), our streams waiting for a
// concurrency slot (pending-queue.ts). A stream carries a pair of
// links and a flag per list it can be in, so membership costs no allocation and push,
// pop and remove are O(1). Which fields a list uses is its Links class, the type argument.
import { Stream } from './stream';

export class StreamList<L> {
  first: Stream | null = null;
  last: Stream | null = null;
  private readonly links: L = instantiate<L>();

  @inline has(stream: Stream): bool {
    return this.links.linked(stream);
  }

  /** Appends `stream` unless it is in already. */
  push(stream: Stream): void {
    const l = this.links;
    if (l.linked(stream)) return;
    l.setLinked(stream, true);
    l.setNext(stream, null);
    const last = this.last;
    l.setPrev(stream, last);
    if (last == null) this.first = stream;
    else l.setNext(last, stream);
    this.last = stream;
  }

  /** Puts `stream` at the head (its turn was interrupted, not finished). */
  pushFront(stream: Stream): void {
    const l = this.links;
    if (l.linked(stream)) return;
    l.setLinked(stream, true);
    l.setPrev(stream, null);
    const first = this.first;
    l.setNext(stream, first);
    if (first == null) this.last = stream;
    else l.setPrev(first, stream);
    this.first = stream;
  }

  /** Takes the first stream, or null. */
  pop(): Stream | null {
    const s = this.first;
    if (s != null) this.remove(s);
    return s;
  }

  /** Drops `stream` if it is in. */
  remove(stream: Stream): void {
    const l = this.links;
    if (!l.linked(stream)) return;
    const prev = l.prev(stream);
    const next = l.next(stream);
    if (prev == null) this.first = next;
    else l.setNext(prev, next);
    if (next == null) this.last = prev;
    else l.setPrev(next, prev);
    l.setPrev(stream, null);
    l.setNext(stream, null);
    l.setLinked(stream, false);
  }

  /** The stream after `stream` in this list. */
  @inline next(stream: Stream): Stream | null {
    return this.links.next(stream);
  }

  /** The stream before `stream` in this list. */
  @inline prev(stream: Stream): Stream | null {
    return this.links.prev(stream);
  }

  @inline get isEmpty(): bool {
    return this.first == null;
  }
}

/** The DATA scheduler's links (Stream.scheduled, prevScheduled, nextScheduled). */
export class SendLinks {
  @inline linked(s: Stream): bool {
    return s.scheduled;
  }
  @inline setLinked(s: Stream, v: bool): void {
    s.scheduled = v;
  }
  @inline prev(s: Stream): Stream | null {
    return s.prevScheduled;
  }
  @inline setPrev(s: Stream, p: Stream | null): void {
    s.prevScheduled = p;
  }
  @inline next(s: Stream): Stream | null {
    return s.nextScheduled;
  }
  @inline setNext(s: Stream, n: Stream | null): void {
    s.nextScheduled = n;
  }
}

/** The capacity queue's links (Stream.waitingCapacity, prevWaiting, nextWaiting). */
export class CapacityLinks {
  @inline linked(s: Stream): bool {
    return s.waitingCapacity;
  }
  @inline setLinked(s: Stream, v: bool): void {
    s.waitingCapacity = v;
  }
  @inline prev(s: Stream): Stream | null {
    return s.prevWaiting;
  }
  @inline setPrev(s: Stream, p: Stream | null): void {
    s.prevWaiting = p;
  }
  @inline next(s: Stream): Stream | null {
    return s.nextWaiting;
  }
  @inline setNext(s: Stream, n: Stream | null): void {
    s.nextWaiting = n;
  }
}

/** The stall queue's links (Stream.stalled, prevStalled, nextStalled). */
export class StallLinks {
  @inline linked(s: Stream): bool {
    return s.stalled;
  }
  @inline setLinked(s: Stream, v: bool): void {
    s.stalled = v;
  }
  @inline prev(s: Stream): Stream | null {
    return s.prevStalled;
  }
  @inline setPrev(s: Stream, p: Stream | null): void {
    s.prevStalled = p;
  }
  @inline next(s: Stream): Stream | null {
    return s.nextStalled;
  }
  @inline setNext(s: Stream, n: Stream | null): void {
    s.nextStalled = n;
  }
}

/** The pending queue's links (Stream.queued, prevPending, nextPending). */
export class PendingLinks {
  @inline linked(s: Stream): bool {
    return s.queued;
  }
  @inline setLinked(s: Stream, v: bool): void {
    s.queued = v;
  }
  @inline prev(s: Stream): Stream | null {
    return s.prevPending;
  }
  @inline setPrev(s: Stream, p: Stream | null): void {
    s.prevPending = p;
  }
  @inline next(s: Stream): Stream | null {
    return s.nextPending;
  }
  @inline setNext(s: Stream, n: Stream | null): void {
    s.nextPending = n;
  }
}
