// A body sent zero-copy while it is produced (a request's upload): the producer pushes
// chunks, the module frames them (h2_host.body_read answers H2_DATA_NO_COPY for what is in
// hand) and each DATA frame goes to the transport as the module's 9-byte prefix followed by
// views of the chunks (h2_host.send_data): the body never enters wasm memory and is never
// copied by us. The runtime routes body_read and send_data here (Runtime.noCopyFeed).
//
// A chunk handed over as a view stays the producer's: it must not change until written.
// The producer waits (ready()) until what it pushed left our hands, and for a view until
// the transport flushed it, before it takes the next chunk from its source; a source that
// reuses its buffer is then safe, as when each chunk was copied into the module.
import type { Runtime, Transport } from './runtime.js';
import { H2_DATA, H2_IO } from './abi.js';

/** Padding's zeros (pad_len is at most 255). */
const ZEROS = new Uint8Array(256);

// Frame prefixes (9 or 10 bytes each) are copied out of wasm memory into one shared slab:
// an ArrayBuffer per frame (65,536 per GiB) cost a malloc, a free and the sweeper's work.
const PREFIX_SLAB = 64 * 1024;
let prefixes = new Uint8Array(PREFIX_SLAB);
let prefixAt = 0;

function copyPrefix(mem: Uint8Array, ptr: number, len: number): Uint8Array {
  if (prefixAt + len > PREFIX_SLAB) {
    prefixes = new Uint8Array(PREFIX_SLAB);
    prefixAt = 0;
  }
  const at = prefixAt;
  for (let i = 0; i < len; i++) prefixes[at + i] = mem[ptr + i];
  prefixAt = at + len;
  return prefixes.subarray(at, at + len);
}

/**
 * The module asks every data source of a connection through one context: a PENDING answer
 * from any of them holds it until its waker is woken, and only then are they all asked
 * again. So the waker is the connection's (kept per transport), not a feed's: whichever
 * feed gets bytes, ends or goes wakes it. (A feed holding its own waker would leave a
 * second upload on the connection unasked while the first waits on its producer, and a
 * feed closed while waiting would leave the connection's later sources unasked for good.)
 */
interface SourceContext {
  waker: number;
  feeds: number;
}
const contexts = new WeakMap<Transport, SourceContext>();

export class NoCopyFeed {
  /** The chunks in hand from `first` on; the first of them written up to `offset`. */
  private chunks: (Uint8Array | undefined)[] = [];
  private first = 0;
  private offset = 0;
  /** Bytes in hand, not yet written. */
  queued = 0;
  /** Bytes body_read announced that send_data has not written yet. */
  private announced = 0;
  /** Views handed to the transport whose flush is awaited. */
  private unflushed = 0;
  /** Chunks pushed as views still in hand (not yet all written). */
  private viewsInHand = 0;
  private readonly views = new WeakSet<Uint8Array>();
  private ended = false;
  private failed = false;
  private closed = false;
  /** The connection's source context (its waker), shared with the other feeds on it. */
  private readonly context: SourceContext;
  /** The producer waiting in ready(): its limit, whether it waits for the flush too. */
  private waiter: (() => void) | undefined;
  private waitLimit = 0;
  private waitFlush = false;
  private readonly onFlushed = (): void => {
    this.unflushed--;
    this.check();
  };

  constructor(
    private readonly rt: Runtime,
    readonly transport: Transport,
  ) {
    let c = contexts.get(transport);
    if (!c) contexts.set(transport, (c = { waker: 0, feeds: 0 }));
    c.feeds++;
    this.context = c;
  }

  /** Hands `chunk` over; `view`: it is the producer's own (not a copy), written as it is. */
  push(chunk: Uint8Array, view: boolean): void {
    if (this.closed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (view) {
      this.views.add(chunk);
      this.viewsInHand++;
    }
    this.wake();
  }

  /** No more chunks: the stream ends after what is in hand (with the body's trailers, if any). */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The source failed: the module resets the stream (INTERNAL_ERROR) when it next asks. */
  fail(): void {
    this.failed = true;
    this.wake();
  }

  /** The stream is over: drop what is in hand, let the producer go. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.queued = 0;
    this.viewsInHand = 0;
    // Woken, not freed: a context left waiting would never ask a later source (a spurious
    // ask of the others costs one call).
    this.wake();
    if (--this.context.feeds === 0) contexts.delete(this.transport);
    this.check();
  }

  /**
   * Undefined when the producer may go on now, else a promise of that moment: when at most
   * `limit` bytes are in hand and, with `flush`, every view handed over was written and
   * flushed by the transport (or the feed closed).
   */
  ready(limit: number, flush: boolean): Promise<void> | undefined {
    if (this.mayGo(limit, flush)) return undefined;
    this.waitLimit = limit;
    this.waitFlush = flush;
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  private mayGo(limit: number, flush: boolean): boolean {
    return this.closed || (this.queued <= limit && (!flush || (this.viewsInHand === 0 && this.unflushed === 0)));
  }

  private check(): void {
    const w = this.waiter;
    if (w && this.mayGo(this.waitLimit, this.waitFlush)) {
      this.waiter = undefined;
      w();
    }
  }

  private wake(): void {
    const w = this.context.waker;
    this.context.waker = 0;
    if (w) this.rt.ex.h2_waker_wake(w);
    this.rt.schedule();
  }

  /** h2_host.body_read: NO_COPY | n for the bytes in hand, 0 at the end, PENDING, ERROR. */
  read(ctx: number): number {
    if (this.failed || this.closed) return H2_IO.ERROR;
    if (this.queued > 0) {
      const n = Math.min(this.queued, 0x7fffffff);
      this.announced = n;
      return (H2_DATA.NO_COPY | n) >>> 0;
    }
    if (this.ended) return 0;
    const c = this.context;
    if (c.waker) this.rt.ex.h2_waker_free(c.waker);
    c.waker = this.rt.ex.h2_context_waker(ctx);
    return H2_IO.PENDING;
  }

  /** h2_host.send_data: the frame as the module's prefix, views of the chunks, the padding. */
  send(ctx: number, prefix: number, prefixLen: number, dataLen: number, padLen: number): number {
    if (this.closed || dataLen > this.announced || dataLen > this.queued) return H2_IO.ERROR;
    const ready = this.transport.frameWritable(ctx, prefixLen + dataLen + padLen);
    if (ready !== 0) return ready;
    const parts: Uint8Array[] = [copyPrefix(this.rt.memory(), prefix, prefixLen)];
    let left = dataLen;
    let finishedView = false;
    while (left > 0) {
      const c = this.chunks[this.first]!;
      const take = Math.min(c.length - this.offset, left);
      parts.push(take === c.length ? c : c.subarray(this.offset, this.offset + take));
      this.offset += take;
      left -= take;
      if (this.offset === c.length) {
        if (this.views.has(c)) {
          this.viewsInHand--;
          finishedView = true;
        }
        this.chunks[this.first++] = undefined;
        this.offset = 0;
      }
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
    if (padLen > 0) parts.push(ZEROS.subarray(0, padLen));
    this.queued -= dataLen;
    this.announced -= dataLen;
    // A view written to its end: the producer waits for the transport's flush of it.
    if (finishedView) this.unflushed++;
    this.transport.writeParts(parts, prefixLen + dataLen + padLen, finishedView ? this.onFlushed : undefined);
    this.check();
    return 0;
  }
}
