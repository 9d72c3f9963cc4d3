// Bodies both ways (hyper_body), the h2 crate's SendStream, and the tasks that wait on
// a stream: the next body chunk, the trailers, send capacity, a reset.
//
// Receive side: DATA lands in the stream context's buffer; h2_body_data hands the host
// everything buffered as one buf (the buffer itself changes hands: no copy) and, unless
// the connection uses manual release, gives those bytes back to the peer's window.
// Send side: a body made with h2_body_new is a data source the core reads through the
// h2_host.body_read import; a send stream is written by the host call by call.
import { ErrorCode } from '../frame/constants';
import { Stream } from '../proto/stream';
import { Disposable, TaskType } from './task';
import { HandleKind, handleNew, adopt, handlesAvailable } from './handles';
import { Buf, Headers } from './http';
import { StreamCtx, StreamTask } from './stream-ctx';
import { H2E_OK, H2E_INVALID_ARG, H2E_CLOSED, H2E_ERROR, H2E_UNEXPECTED_EOF, newError, codeOfResult } from './errors';
import { Msg, msg } from '../util/messages';

/** A body: a data source to send (userdata for h2_host.body_read), or one being received. */
export class Body extends Disposable {
  handle: u32 = 0;
  userdata: u32 = 0;
  /** Receive side: the stream it reads from (null for a data source). */
  ctx: StreamCtx | null = null;
  /** A data source's DATA padding (zero bytes per frame, -1 for none) and the trailers
   *  that follow its last byte instead of END_STREAM on DATA (null for none). */
  padding: i32 = -1;
  trailers: Headers | null = null;

  dispose(): void {
    const t = this.trailers;
    if (t != null) {
      t.dispose();
      this.trailers = null;
    }
    const ctx = this.ctx;
    if (ctx != null) {
      // The host let go of an unfinished body: stop the peer from sending more.
      const s = ctx.stream;
      if (s != null && !ctx.finishedReceiving) ctx.conn.engine.resetStream(s, ErrorCode.CANCEL);
      ctx.dropReceived();
      this.ctx = null;
    }
  }
}

/** The error a task on `ctx` fails with, or 0 when the stream is still fine. */
export function streamError(ctx: StreamCtx): u32 {
  const conn = ctx.conn;
  if (ctx.resetCode >= 0) {
    const code = <u32>ctx.resetCode;
    const retryable = code == ErrorCode.REFUSED_STREAM;
    return newError(
      H2E_CLOSED,
      code,
      ctx.resetRemote ? msg(Msg.STREAM_RESET_BY_PEER) : msg(Msg.STREAM_RESET),
      retryable,
    );
  }
  if (conn.isFailed) return newError(conn.errorCode, conn.errorReason, conn.errorMessage);
  if (ctx.closed && !ctx.recvEnded)
    return newError(H2E_UNEXPECTED_EOF, ErrorCode.NO_ERROR, msg(Msg.STREAM_CLOSED_BEFORE_ITS_END));
  return 0;
}

/** A task reading from a received body: they finish alike once nothing more can come. */
abstract class RecvTask extends StreamTask {
  constructor(public body: Body) {
    super();
  }

  waitsOn(): StreamCtx | null {
    return this.body.ctx;
  }

  /** EMPTY at the end of the body, ERROR when the stream failed, else wait for news. */
  protected endOrWait(ctx: StreamCtx): bool {
    if (ctx.recvEnded) return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    const err = streamError(ctx);
    if (err != 0) return this.fail(err);
    return this.waitFor(ctx);
  }
}

/** h2_body_data: the next chunk (BUF), EMPTY at the end, ERROR on reset or failure. */
export class BodyDataTask extends RecvTask {
  poll(): bool {
    const ctx = this.body.ctx;
    if (ctx == null) return this.fail(newError(H2E_INVALID_ARG, 0, msg(Msg.BODY_HAS_NO_STREAM)));
    const buffered = ctx.recvLen;
    if (buffered > 0) {
      // No handle left: the bytes stay buffered (and their window credit owed) for a later try.
      if (handlesAvailable() == 0) return this.fail(newError(H2E_ERROR, 0, msg(Msg.HANDLE_TABLE_FULL)));
      // Hand the buffer itself over; the stream starts a fresh one.
      const chunk = ctx.takeRecv();
      const h = handleNew(HandleKind.BUF, new Buf(chunk));
      released(ctx, buffered);
      return this.finish(TaskType.BUF, h, HandleKind.BUF);
    }
    return this.endOrWait(ctx);
  }
}

/**
 * h2_body_read: everything buffered, copied to [dst, dst+cap) when it fits; its length, 0
 * when nothing is buffered or it does not fit (the task path then says which). No task,
 * no buf: what arrived with a small response's head is read in the call that sees the head.
 */
export function bodyRead(body: Body, dst: usize, cap: u32): u32 {
  const ctx = body.ctx;
  if (ctx == null) return 0;
  const n = ctx.recvLen;
  if (n == 0 || n > cap) return 0;
  const buffer = ctx.recv;
  memory.copy(dst, buffer.ptr, n);
  buffer.clear();
  released(ctx, n);
  return n;
}

/** Received bytes reached the host: give them back to the windows unless release is manual. */
function released(ctx: StreamCtx, n: u32): void {
  const s = ctx.stream;
  if (ctx.conn.manualRelease) {
    ctx.unreleased += n;
    return;
  }
  if (s != null) ctx.conn.engine.releaseCapacity(s, n);
  else ctx.conn.engine.releaseClosed(n); // the stream closed before the host read its bytes
}

/** h2_body_release (manual flow control): the host is done with `n` received bytes. */
export function bodyRelease(body: Body, n: u32): u32 {
  const ctx = body.ctx;
  if (ctx == null || n > ctx.unreleased) return H2E_INVALID_ARG;
  ctx.unreleased -= n;
  const s = ctx.stream;
  if (s != null) ctx.conn.engine.releaseCapacity(s, n);
  else ctx.conn.engine.releaseClosed(n);
  return H2E_OK;
}

/** h2_body_trailers: TRAILERS with a headers handle, EMPTY when the body ended without. */
export class TrailersTask extends RecvTask {
  poll(): bool {
    const ctx = this.body.ctx;
    if (ctx == null) return this.fail(newError(H2E_INVALID_ARG, 0, msg(Msg.BODY_HAS_NO_STREAM_SHORT)));
    const t = ctx.trailers;
    if (t != null && !ctx.trailersTaken) {
      ctx.trailersTaken = true;
      const h = adopt(HandleKind.HEADERS, changetype<Headers>(t));
      return this.finish(TaskType.TRAILERS, h, HandleKind.HEADERS);
    }
    return this.endOrWait(ctx);
  }
}

/** The h2 crate's SendStream: the host writes a message body call by call. */
export class SendStream extends Disposable {
  handle: u32 = 0;
  ctx: StreamCtx | null = null;

  dispose(): void {
    const ctx = this.ctx;
    if (ctx == null) return;
    // Freeing a stream that could still send resets it (the h2 crate does the same).
    const s = ctx.stream;
    if (s != null && s.canStillSend && !s.sendEnding) {
      ctx.conn.engine.resetStream(s, ErrorCode.CANCEL);
    }
    this.ctx = null;
  }

  reserveCapacity(n: u32): u32 {
    const s = this.liveStream();
    if (s == null) return H2E_CLOSED;
    changetype<StreamCtx>(this.ctx).conn.engine.reserveCapacity(s, n);
    return H2E_OK;
  }

  capacity(): u32 {
    const s = this.liveStream();
    return s == null ? 0 : changetype<StreamCtx>(this.ctx).conn.engine.capacity(s);
  }

  sendData(data: usize, len: u32, endStream: bool): u32 {
    const s = this.liveStream();
    if (s == null) return H2E_CLOSED;
    return codeOfResult(changetype<StreamCtx>(this.ctx).conn.engine.sendData(s, data, len, endStream));
  }

  sendTrailers(headers: Headers): u32 {
    const s = this.liveStream();
    if (s == null) return H2E_CLOSED;
    return codeOfResult(
      changetype<StreamCtx>(this.ctx).conn.engine.sendTrailers(s, headers.list.ptr, headers.list.len),
    );
  }

  sendReset(code: u32): u32 {
    const s = this.liveStream();
    if (s == null) return H2E_CLOSED;
    changetype<StreamCtx>(this.ctx).conn.engine.resetStream(s, code);
    return H2E_OK;
  }

  setPadding(pad: i32): u32 {
    const s = this.liveStream();
    if (s == null) return H2E_CLOSED;
    s.padding = pad;
    return H2E_OK;
  }

  streamId(): u32 {
    const ctx = this.ctx;
    if (ctx == null) return 0;
    const s = ctx.stream;
    return s != null ? s.id : ctx.id;
  }

  private liveStream(): Stream | null {
    const ctx = this.ctx;
    if (ctx == null || ctx.conn.isFailed) return null;
    return ctx.stream;
  }
}

/** A task that waits on a send stream's stream. */
abstract class SendStreamTask extends StreamTask {
  constructor(public send: SendStream) {
    super();
  }

  waitsOn(): StreamCtx | null {
    return this.send.ctx;
  }
}

/**
 * poll_capacity, as the h2 crate's: CAPACITY with the bytes assigned once more were
 * assigned since it last answered (capacity left over from before does not make it ready:
 * read it with h2_send_stream_capacity); EMPTY when the stream can no longer send.
 */
export class CapacityTask extends SendStreamTask {
  poll(): bool {
    const ctx = this.send.ctx;
    if (ctx == null) return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    const s = ctx.stream;
    if (s == null || ctx.resetCode >= 0 || ctx.conn.isFailed) {
      const err = streamError(ctx);
      return err != 0 ? this.fail(err) : this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    }
    const c = ctx.conn.engine.capacity(s);
    if (c > 0 && ctx.capacityRaised) {
      ctx.capacityRaised = false;
      return this.finish(TaskType.CAPACITY, c, HandleKind.NONE);
    }
    if (!s.canStillSend) return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    return this.waitFor(ctx);
  }
}

/**
 * poll_reset of a send stream or of a respond (the h2 crate's SendStream::poll_reset and
 * SendResponse::poll_reset): RESET with the RFC 9113 code once the stream is reset, EMPTY
 * when it closes normally. It watches the stream it was made for, whatever becomes of the
 * handle it was made from.
 */
export class ResetTask extends StreamTask {
  constructor(readonly ctx: StreamCtx | null) {
    super();
  }

  waitsOn(): StreamCtx | null {
    return this.ctx;
  }

  poll(): bool {
    const ctx = this.ctx;
    if (ctx == null) return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    if (ctx.resetCode >= 0) return this.finish(TaskType.RESET, <u32>ctx.resetCode, HandleKind.NONE);
    if (ctx.conn.isFailed) return this.fail(streamError(ctx));
    if (ctx.closed) return this.finish(TaskType.EMPTY, 0, HandleKind.NONE);
    return this.waitFor(ctx);
  }
}
