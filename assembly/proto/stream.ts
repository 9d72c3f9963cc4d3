// One HTTP/2 stream as the engine sees it: its state, both flow-control windows, what
// we still have to send on it, and what we know about what it receives. The engine owns
// streams; layers above hold them by reference and tag them with `userdata`.
import { ByteBuffer } from '../util/bytes';
import { countAllocation } from '../util/gc';
import { RecvWindow, SendWindow } from './flow';
import { ClosedBy, StreamState, canSend } from './state';

export namespace RecvPhase {
  /** Nothing received yet (a stream we opened waits for the response). */
  export const START: u8 = 0;
  /** A 1xx arrived: more informational responses or the final one may follow. */
  export const INFORMATIONAL: u8 = 1;
  /** The request or final response head arrived: DATA and trailers may follow. */
  export const BODY: u8 = 2;
  /** Trailers arrived: nothing more may. */
  export const TRAILERS: u8 = 3;
}

export class Stream {
  /** 0 until the stream is opened on the wire (our own streams may wait for a slot). */
  id: u32 = 0;
  state: u8 = StreamState.IDLE;
  closedBy: u8 = ClosedBy.END_STREAM;
  /** True for streams we opened (or promised). */
  local: bool;
  /** Counted toward MAX_CONCURRENT_STREAMS (opened, not yet closed). */
  active: bool = false;
  /** Server: the final response head went out. */
  responded: bool = false;
  /** Free for the layer above (the ABI keeps a handle here). */
  userdata: u32 = 0;
  /** The layer above's own object for this stream (the ABI's stream context). */
  attachment: Object | null = null;

  sendWindow: SendWindow;
  recvWindow: RecvWindow;

  // ---- send side -------------------------------------------------------------------
  /** Bytes accepted by sendData and not yet framed; `sendOffset` is how far framing got. */
  sendBuffer: ByteBuffer | null = null;
  sendOffset: u32 = 0;
  /** Capacity asked for with reserveCapacity (the h2 crate's SendStream): the most it
   *  wants assigned at once. */
  reserved: u32 = 0;
  /** Capacity assigned to it and not yet used by sendData: held for it on the connection. */
  assigned: u32 = 0;
  /** Linked into the queue of streams whose window the peer keeps shut (stall-queue.ts). */
  stalled: bool = false;
  stalledSince: i64 = 0;
  prevStalled: Stream | null = null;
  nextStalled: Stream | null = null;
  /** Linked into the queue of streams waiting for capacity (capacity.ts). */
  waitingCapacity: bool = false;
  prevWaiting: Stream | null = null;
  nextWaiting: Stream | null = null;
  /** Padding length for this stream's DATA frames (0..255), -1 for none. */
  padding: i32 = -1;
  /** END_STREAM goes on the last DATA frame once the buffer drains. */
  endAfterData: bool = false;
  /** Trailers (a field list, raw) to encode and send once the buffer drains. */
  pendingTrailers: ByteBuffer | null = null;
  /** Request head (a field list, raw) of a stream still waiting for a concurrency slot. */
  pendingHead: ByteBuffer | null = null;
  pendingHeadEnd: bool = false;
  /** Linked into the send scheduler's ready ring. */
  scheduled: bool = false;
  prevScheduled: Stream | null = null;
  nextScheduled: Stream | null = null;
  /** Linked into the queue of our streams waiting for a concurrency slot (pending-queue.ts). */
  queued: bool = false;
  prevPending: Stream | null = null;
  nextPending: Stream | null = null;

  // ---- receive side ----------------------------------------------------------------
  recvPhase: u8 = RecvPhase.START;
  /** DATA the message being received must carry in all (§8.1.1), -1 when unchecked. */
  expectedLength: i64 = -1;
  /** DATA payload bytes received, for that check. */
  dataReceived: i64 = 0;
  /** The request's method (message.ts Method): decides what its response may carry. */
  requestMethod: u8 = 0;
  /** Received bytes the application has not released yet (manual flow control). */
  unreleasedBytes: u32 = 0;

  constructor(local: bool, sendWindow: u32, recvWindow: u32) {
    this.local = local;
    this.sendWindow = new SendWindow(sendWindow);
    this.recvWindow = new RecvWindow(recvWindow);
    countAllocation(); // a stream and what hangs off it: garbage once closed (util/gc.ts)
  }

  /** Bytes waiting to be framed. */
  @inline get buffered(): u32 {
    const b = this.sendBuffer;
    return b == null ? 0 : b.len - this.sendOffset;
  }

  @inline get isClosed(): bool {
    return this.state == StreamState.CLOSED;
  }

  /** Whether our side may still send on it: open for sending, or its head still waiting
   *  for a concurrency slot. */
  get canStillSend(): bool {
    return canSend(this.state) || this.pendingHead != null;
  }

  /** Whether its head waits for a concurrency slot (nothing of it was sent yet). */
  get isQueued(): bool {
    return this.pendingHead != null;
  }

  /** Whether our side's end is decided: END_STREAM goes out once what is buffered does. */
  get sendEnding(): bool {
    return this.endAfterData;
  }

  /** Gives back every buffer the stream holds; called once it is closed and forgotten. */
  dispose(): void {
    this.attachment = null;
    const b = this.sendBuffer;
    if (b != null) b.dispose();
    this.sendBuffer = null;
    this.sendOffset = 0;
    const t = this.pendingTrailers;
    if (t != null) t.dispose();
    this.pendingTrailers = null;
    const h = this.pendingHead;
    if (h != null) h.dispose();
    this.pendingHead = null;
  }
}
