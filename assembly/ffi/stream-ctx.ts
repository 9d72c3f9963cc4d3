// The ABI's view of one engine stream: what arrived and waits for the host (the
// response head, body bytes, trailers), what the host sends from (a data source), and
// the tasks waiting on each. Lives from the stream's opening until the host has let go
// of every object that refers to it.
import { ByteBuffer } from '../util/bytes';
import { Stream } from '../proto/stream';
import { Headers } from './http';
import { Task, Waitable } from './task';
import { Body } from './body';
import { ConnLike } from './conn-driver-base';

/** How much received body one stream may hold before the window stays shut. */
export const RECV_BUFFER_LIMIT: u32 = 1 << 30;

/** It is also what the tasks on its stream wait on (`wait`): one object, not two. */
export class StreamCtx extends Waitable {
  /** Null once the engine stream closed (the context may outlive it). */
  stream: Stream | null;
  conn: ConnLike;
  id: u32 = 0;

  // ---- receive side
  /** Body bytes received and not yet handed over; made on the first DATA. */
  private recvBuf: ByteBuffer | null = null;
  recvEnded: bool = false;
  trailers: Headers | null = null;
  trailersTaken: bool = false;
  /** Head of the response (client) waiting for the response task; a handle once made. */
  responseHandle: u32 = 0;
  /** Bytes handed to the host not yet released (manual flow control). */
  unreleased: u32 = 0;
  /** RFC 9113 code of a reset (-1 when none), and whether the peer sent it. */
  resetCode: i64 = -1;
  resetRemote: bool = false;
  closed: bool = false;
  /** The host let go of the reading side: what arrives is given back, never buffered. */
  readerGone: bool = false;
  /** 1xx heads go to the host (h2_request_on_informational). */
  wantsInformational: bool = false;
  informationalUserdata: u32 = 0;

  // ---- send side

  /** More send capacity was assigned since poll_capacity last answered (h2's send_capacity_inc). */
  capacityRaised: bool = false;
  source: Body | null = null;
  sourceEnded: bool = false;
  /** Zero-copy: bytes the host holds for us and writes itself through send_data. */
  noCopyPending: u32 = 0;
  /** A zero-copy frame send_data answered PENDING to: its data length (0 for none) and
   *  padding, offered again unchanged; its flow control is already counted. */
  noCopyFrame: u32 = 0;
  noCopyFramePad: i32 = -1;

  // ---- waiters
  /** Every task waiting on this stream (head, body, trailers, capacity, reset). Any news
   *  wakes them all and each polls again: a spurious wake costs one poll, and a stream
   *  holds one waitable instead of four — itself. */
  @inline get wait(): Waitable {
    return this;
  }

  constructor(conn: ConnLike, stream: Stream) {
    super();
    this.conn = conn;
    this.stream = stream;
    this.id = stream.id;
    stream.attachment = this;
  }

  notifyAll(): void {
    this.notify();
  }

  /** The received-body buffer (made when first needed). */
  get recv(): ByteBuffer {
    let b = this.recvBuf;
    if (b == null) {
      b = new ByteBuffer(RECV_BUFFER_LIMIT);
      this.recvBuf = b;
    }
    return b;
  }
  /** Hands the received bytes over whole; the next DATA starts a fresh buffer. */
  takeRecv(): ByteBuffer {
    const b = this.recv;
    this.recvBuf = null;
    return b;
  }

  /** Received body bytes not yet handed over. */
  @inline get recvLen(): u32 {
    const b = this.recvBuf;
    return b == null ? 0 : b.len;
  }

  private disposeRecv(): void {
    const b = this.recvBuf;
    if (b != null) b.dispose();
  }

  /** The stream can no longer deliver anything new. */
  @inline get finishedReceiving(): bool {
    return this.recvEnded || this.resetCode >= 0 || this.closed || this.conn.isFailed;
  }

  /**
   * Nobody will read this stream's body or trailers any more (its body, or the message
   * that would have handed it out, was freed): free what is buffered now — the context
   * itself is garbage-collected, but its buffers live in unmanaged memory) and give back
   * to the windows the bytes nobody will release now: those never handed over, and with
   * manual release those handed over and not yet released (h2_body_release needs the body).
   */
  dropReceived(): void {
    if (this.readerGone) return;
    this.readerGone = true;
    const unread = this.recvLen + this.unreleased;
    this.unreleased = 0;
    if (unread > 0) {
      const s = this.stream;
      if (s != null) this.conn.engine.releaseCapacity(s, unread);
      else this.conn.engine.releaseClosed(unread);
    }
    this.disposeRecv();
    const t = this.trailers;
    if (t != null && !this.trailersTaken) {
      t.dispose();
      this.trailers = null;
    }
  }

  dispose(): void {
    this.disposeRecv();
    const t = this.trailers;
    if (t != null && !this.trailersTaken) t.dispose();
    const s = this.source;
    if (s != null) s.dispose();
    this.source = null;
  }
}

/** A task that waits on one stream (its head, body, trailers, capacity or reset): it
 *  registers on the stream's waitable when it has to wait, and lets go when freed. */
export abstract class StreamTask extends Task {
  /** The stream context it waits on; null once that is gone. */
  abstract waitsOn(): StreamCtx | null;

  /** Not finished yet: wait for news on `ctx` (poll's answer, false). */
  protected waitFor(ctx: StreamCtx): bool {
    ctx.wait.register(this);
    return false;
  }

  cancel(): void {
    const ctx = this.waitsOn();
    if (ctx != null) ctx.wait.unregister(this);
  }
}
