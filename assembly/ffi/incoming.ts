// Requests that arrived on a server connection and wait for the host: each its stream
// context and its head, the heads back to back in one buffer. No object per request
// beyond the stream's own: a Request is made only when the host takes one through
// h2_serverconn_accept; h2_serverconn_take_requests copies the heads out as they are.
import { ByteBuffer } from '../util/bytes';
import { StreamCtx } from './stream-ctx';

/** Most bytes the waiting heads may take together (each is bounded by the header list limit). */
const HEADS_LIMIT: u32 = 1 << 30;
/** Memory the heads keep once none waits. */
const HEADS_KEEP: u32 = 64 << 10;
/** Taken entries at the front are dropped (the rest moved down) past this many. */
const COMPACT_AFTER: i32 = 64;

export class IncomingQueue {
  private ctxs: StreamCtx[] = [];
  /** Each entry's head: offset in `heads` (high 32 bits) and length. */
  private spans: u64[] = [];
  private first: i32 = 0;
  private heads: ByteBuffer = new ByteBuffer(HEADS_LIMIT);

  @inline get length(): i32 {
    return this.ctxs.length - this.first;
  }

  /** Queues a request; false (nothing queued) when its head finds no memory. */
  push(ctx: StreamCtx, fields: usize, len: u32): bool {
    const h = this.heads;
    if (!h.reserve(len)) return false;
    this.ctxs.push(ctx);
    this.spans.push(((<u64>h.len) << 32) | (<u64>len));
    h.pushBytes(fields, len);
    return true;
  }

  /** The stream context of the oldest waiting request (length > 0). */
  @inline frontCtx(): StreamCtx {
    return unchecked(this.ctxs[this.first]);
  }
  /** Where its head starts (valid until the next push or shift). */
  @inline frontHead(): usize {
    return this.heads.ptr + <usize>(unchecked(this.spans[this.first]) >>> 32);
  }
  @inline frontHeadLen(): u32 {
    return <u32>(unchecked(this.spans[this.first]) & 0xffffffff);
  }

  /** Drops the oldest waiting request (it was taken). */
  shift(): void {
    this.first++;
    const n = this.ctxs.length;
    if (this.first == n) {
      this.clear();
    } else if (this.first >= COMPACT_AFTER && this.first * 2 >= n) {
      // Under a steady flow the queue is rarely empty: move what waits to the front.
      const h = this.heads;
      const from = <u32>(unchecked(this.spans[this.first]) >>> 32);
      memory.copy(h.ptr, h.ptr + <usize>from, h.len - from);
      h.len -= from;
      const rest = n - this.first;
      for (let i = 0; i < rest; i++) {
        unchecked((this.ctxs[i] = this.ctxs[this.first + i]));
        unchecked((this.spans[i] = this.spans[this.first + i] - ((<u64>from) << 32)));
      }
      this.ctxs.length = rest;
      this.spans.length = rest;
      this.first = 0;
    }
  }

  /** Nobody will take what waits: their bodies are dropped, the memory given back. */
  dispose(): void {
    for (let i = this.first; i < this.ctxs.length; i++) unchecked(this.ctxs[i]).dropReceived();
    this.clear();
    this.heads.dispose();
  }

  private clear(): void {
    this.ctxs.length = 0;
    this.spans.length = 0;
    this.first = 0;
    // A burst's worth of heads is not kept for good.
    if (this.heads.cap > HEADS_KEEP) this.heads.dispose();
    else this.heads.clear();
  }
}
