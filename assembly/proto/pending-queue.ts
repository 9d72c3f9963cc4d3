// Our streams waiting for a concurrency slot (client: SETTINGS_MAX_CONCURRENT_STREAMS
// reached), first come first served, each holding its request head until it can be sent.
// An intrusive list (stream-list.ts) with its length, bounded by maxPendingStreams.
import { Stream } from './stream';
import { StreamList, PendingLinks } from './stream-list';

export class PendingQueue extends StreamList<PendingLinks> {
  /** How many streams wait. */
  count: u32 = 0;

  /** Appends `stream` unless it waits already. */
  enqueue(stream: Stream): void {
    if (this.has(stream)) return;
    this.push(stream);
    this.count++;
  }

  /** Takes the stream that waited longest, or null. */
  dequeue(): Stream | null {
    const s = this.pop();
    if (s != null) this.count--;
    return s;
  }

  /** Takes `stream` out (reset or freed while it waited); nothing when it does not wait. */
  leave(stream: Stream): void {
    if (!this.has(stream)) return;
    this.remove(stream);
    this.count--;
  }
}
