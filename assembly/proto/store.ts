// Where the engine finds its streams: the live ones by id, stream-id bookkeeping
// (§5.1.1: ids increase, parity by initiator, lower idle ids are implicitly closed), and a
// bounded memory of recently closed streams so a late frame is told apart from a protocol
// error (§5.1 "closed") without keeping every stream forever. How many are active, for
// MAX_CONCURRENT_STREAMS (§5.1.2), is counts.ts's.
import { Budget } from './budget';
import { ClosedBy } from './state';
import { Stream } from './stream';

export namespace Known {
  /** The id was never used: higher than anything opened by its initiator. */
  export const IDLE: u8 = 0;
  /** Live in the map. */
  export const LIVE: u8 = 1;
  /** Closed and still remembered, with how it closed. */
  export const CLOSED: u8 = 2;
  /** Closed so long ago it was forgotten (or implicitly closed while idle). */
  export const FORGOTTEN: u8 = 3;
}

export class StreamStore {
  private live: Map<u32, Stream> = new Map();
  // Closed-stream memory: a ring of ids (oldest evicted first) and how each closed.
  private closedIds: StaticArray<u32>;
  private closedHow: Map<u32, u8> = new Map();
  private closedNext: i32 = 0;

  /** Highest stream id opened by each side (0 = none yet). */
  lastLocalId: u32 = 0;
  lastRemoteId: u32 = 0;

  constructor(
    public localIsClient: bool,
    closedCapacity: u32,
    private budget: Budget,
  ) {
    this.closedIds = new StaticArray<u32>(<i32>max<u32>(closedCapacity, 1));
  }

  @inline isLocalId(id: u32): bool {
    return ((id & 1) == 1) == this.localIsClient;
  }

  @inline get(id: u32): Stream | null {
    return this.live.has(id) ? this.live.get(id) : null;
  }

  @inline get size(): i32 {
    return this.live.size;
  }

  /** What we know of `id` when it is not live: idle, closed (see lastClosedHow) or forgotten. */
  classify(id: u32): u8 {
    if (this.live.has(id)) return Known.LIVE;
    const last = this.isLocalId(id) ? this.lastLocalId : this.lastRemoteId;
    if (id > last) return Known.IDLE;
    return this.closedHow.has(id) ? Known.CLOSED : Known.FORGOTTEN;
  }

  /** How a remembered closed stream closed (ClosedBy); END_STREAM when not remembered. */
  closedBy(id: u32): u8 {
    return this.closedHow.has(id) ? this.closedHow.get(id) : ClosedBy.END_STREAM;
  }

  /** Registers a stream that has just been given its id. */
  insert(stream: Stream): void {
    this.live.set(stream.id, stream);
    this.budget.streams++;
    if (stream.local) {
      if (stream.id > this.lastLocalId) this.lastLocalId = stream.id;
    } else if (stream.id > this.lastRemoteId) {
      this.lastRemoteId = stream.id;
    }
  }

  /**
   * The stream is closed: forget it as live and remember how it closed. The caller frees
   * its concurrency slot (Counts.deactivate) and disposes its buffers.
   */
  close(stream: Stream): void {
    this.live.delete(stream.id);
    this.budget.streams--;
    this.remember(stream.id, stream.closedBy);
  }

  /** Remembers a closed id, evicting the oldest when the memory is full. */
  remember(id: u32, how: u8): void {
    const ring = this.closedIds;
    const old = unchecked(ring[this.closedNext]);
    if (old != 0) this.closedHow.delete(old);
    unchecked((ring[this.closedNext] = id));
    this.closedHow.set(id, how);
    this.closedNext = (this.closedNext + 1) % ring.length;
  }

  /** The store goes with its connection: its live streams leave the budget. */
  release(): void {
    this.budget.streams -= <u64>this.live.size;
  }

  /** Every live stream, for connection-wide actions (settings changes, GOAWAY, shutdown). */
  values(): Stream[] {
    return this.live.values();
  }
}
