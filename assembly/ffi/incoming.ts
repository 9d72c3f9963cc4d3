// Requests that arrived on a server connection and wait for the host: each its stream
// context and its head, the heads back to back in one buffer. No object per request
// beyond the stream's own: a Request is made only when the host takes one through
// h2_serverconn_accept; h2_serverconn_take_requests copies the heads out as they are.
import { ByteBuffer } from '../util/bytes';
import { StreamCtx } from './stream-ctx';

/** Most bytes the waiting heads may take together (each is bounded by the header list limit). */
const HEADS_LIMIT: u32 = 1 << 30;
/** Taken entries at the front are dropped (the rest moved down) past this many. */
const COMPACT_AFTER: i32 = 64;

export class IncomingQueue {
  // Made on the first request and let go whenever the queue empties: an idle connection
  // (and every client connection) holds none of it.
  private ctxs: StreamCtx[] | null = null;
  /** Each entry's head: offset in `heads` (high 32 bits) and length. */
  private spans: u64[] | null = null;
  private heads: ByteBuffer | null = null;
  private first: i32 = 0;
  private count: i32 = 0;

  @inline get length(): i32 {
    return this.count - this.first;
  }

  /** Queues a request; false (nothing queued) when its head finds no memory. */
  push(ctx: StreamCtx, fields: usize, len: u32): bool {
    let h = this.heads;
    if (h == null) {
      h = new ByteBuffer(HEADS_LIMIT);
      this.heads = h;
      this.ctxs = [];
      this.spans = [];
    }
    if (!h.reserve(len)) {
      if (this.count == 0) this.clear();
      return false;
    }
    changetype<StreamCtx[]>(this.ctxs).push(ctx);
    changetype<u64[]>(this.spans).push(((<u64>h.len) << 32) | (<u64>len));
    h.pushBytes(fields, len);
    this.count++;
    return true;
  }

  /** The stream context of the oldest waiting request (length > 0). */
  @inline frontCtx(): StreamCtx {
    return unchecked(changetype<StreamCtx[]>(this.ctxs)[this.first]);
  }
  /** Where its head starts (valid until the next push or shift). */
  @inline frontHead(): usize {
    return changetype<ByteBuffer>(this.heads).ptr + <usize>(this.frontSpan() >>> 32);
  }
  @inline frontHeadLen(): u32 {
    return <u32>(this.frontSpan() & 0xffffffff);
  }
  @inline private frontSpan(): u64 {
    return unchecked(changetype<u64[]>(this.spans)[this.first]);
  }

  /** Drops the oldest waiting request (it was taken). */
  shift(): void {
    this.first++;
    const n = this.count;
    if (this.first == n) {
      this.clear();
    } else if (this.first >= COMPACT_AFTER && this.first * 2 >= n) {
      // Under a steady flow the queue is rarely empty: move what waits to the front.
      const ctxs = changetype<StreamCtx[]>(this.ctxs);
      const spans = changetype<u64[]>(this.spans);
      const h = changetype<ByteBuffer>(this.heads);
      const from = <u32>(unchecked(spans[this.first]) >>> 32);
      memory.copy(h.ptr, h.ptr + <usize>from, h.len - from);
      h.len -= from;
      const rest = n - this.first;
      for (let i = 0; i < rest; i++) {
        unchecked((ctxs[i] = ctxs[this.first + i]));
        unchecked((spans[i] = spans[this.first + i] - ((<u64>from) << 32)));
      }
      ctxs.length = rest;
      spans.length = rest;
      this.count = rest;
      this.first = 0;
    }
  }

  /** Nobody will take what waits: their bodies are dropped, the memory given back. */
  dispose(): void {
    const ctxs = this.ctxs;
    if (ctxs != null) for (let i = this.first; i < this.count; i++) unchecked(ctxs[i]).dropReceived();
    this.clear();
  }

  private clear(): void {
    const h = this.heads;
    if (h != null) h.dispose();
    this.heads = null;
    this.ctxs = null;
    this.spans = null;
    this.count = 0;
    this.first = 0;
  }
}
