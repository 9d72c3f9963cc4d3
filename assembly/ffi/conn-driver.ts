// A connection as the ABI runs it: the engine, the host's io, and the executor it is
// bound to. drive() is the whole I/O loop — read what the transport has into the shared
// read buffer (one import call per read, never per frame), feed the engine, pull data
// sources, then write everything produced in as few io_write calls as the host accepts.
// As the engine's Handler it turns protocol events into state the host's tasks wait on.
import { ErrorCode } from '../frame/constants';
import { Connection, Phase, SendResult } from '../proto/connection';
import { HeadKind } from '../proto/events';
import { Stream } from '../proto/stream';
import { Config } from '../proto/config';
import { fieldName, fieldNameLen, fieldValue, fieldValueLen, nextField } from '../hpack';
import { ByteBuffer } from '../util/bytes';
import { ConnLike } from './conn-driver-base';
import { Executor } from './executor';
import { Context, Io } from './io';
import { StreamCtx } from './stream-ctx';
import { IncomingQueue } from './incoming';
import { Headers } from './http';
import { Request, Response } from './messages';
import { Task, TaskType, Waitable } from './task';
import { HandleKind, handleRelease, adopt } from './handles';
import { H2E_ERROR, H2E_UNEXPECTED_EOF, H2E_INVALID_PEER_MESSAGE, newError } from './errors';
import {
  callHost,
  HostCall,
  H2_IO_PENDING,
  H2_IO_ERROR,
  H2_DATA_NO_COPY,
  H2_DATA_PAUSE,
  H2_DATA_FAIL_CONNECTION,
} from './host';
import { writeDataFramePrefix } from '../frame/encoder';
import { Msg, msg } from '../util/messages';

/** A DATA frame prefix: the 9-byte header and the Pad Length byte. */
const FRAME_PREFIX_MAX: u32 = 10;

/** The read buffer every connection shares: a read is consumed before the next one. */
const READ_CAPACITY: u32 = 64 << 10;
const READ_BUFFER: usize = heap.alloc(READ_CAPACITY);
/**
 * A bound on the read and write loops that only a broken host reaches: each loop runs
 * until the host answers PENDING (and so holds a waker), since a host that waits only on
 * wakers would never come back for work left undone.
 */
const LOOP_GUARD: i32 = 1 << 20;
/** Bytes a data source is asked for at a time. */
const SOURCE_CHUNK: u32 = 16 << 10;

export class ConnDriver extends ConnLike {
  readonly role: u8;
  io: Io;
  executor: Executor;
  readonly readCtx: Context = new Context();
  readonly writeCtx: Context = new Context();
  /** Data sources wait on this one (h2_host.body_read gets it). */
  readonly sourceCtx: Context = new Context();
  handshakeDone: bool = false;
  readonly handshakeWait: Waitable = new Waitable();
  /** Client: pushed requests (PUSH_PROMISE) not yet taken by h2_clientconn_poll_push. */
  pushes: Request[] = [];
  readonly pushWait: Waitable = new Waitable();
  /** Server: requests not yet accepted. */
  readonly incoming: IncomingQueue = new IncomingQueue();
  readonly incomingWait: Waitable = new Waitable();
  /** Streams whose body comes from a data source. */
  sources: StreamCtx[] = [];
  /** Streams whose data source answered NO_COPY and still hold bytes for send_data. */
  noCopy: StreamCtx[] = [];
  /** PING tasks waiting for their ACK, by opaque data. */
  pingTasks: Map<u64, PingTask> = new Map();
  eof: bool = false;
  freed: bool = false;
  /** The transport itself failed: nothing more can be written. */
  transportFailed: bool = false;
  private readonly scratch: ByteBuffer = new ByteBuffer();
  /** Bytes (and ends) taken from data sources: drive() refills while this grows. */
  private sourced: u64 = 0;
  /** Bytes io_write took: a flush that wrote made room for the sources to fill again. */
  private written: u64 = 0;

  constructor(config: Config, io: Io, executor: Executor) {
    super();
    this.role = config.role;
    this.io = io;
    this.executor = executor;
    // The ABI holds received bytes until the host takes them, so release is ours to do.
    config.autoRelease = false;
    // Its clock starts now if the host told the time in this turn, else at the next set_time.
    this.engine = new Connection(config, this, 0, false, executor.time);
    this.readCtx.owner = this;
    this.writeCtx.owner = this;
    this.sourceCtx.owner = this;
  }

  /** Over once freed, once the transport failed, or once closed with its last bytes (GOAWAY)
   *  written, or dropped after the close linger. */
  get finished(): bool {
    return this.freed || this.transportFailed || (this.engine.phase == Phase.CLOSED && this.engine.outputLen == 0);
  }

  // ---------------------------------------------------------------------------------
  // The I/O loop

  drive(): void {
    if (this.freed) return;
    this.readSome();
    // Sources refill after each flush for as long as they, the windows and the transport
    // take more: stopping earlier would let poll return 0 with data sendable and no waker
    // or deadline to bring the host back (an upload stalled until the next read event).
    for (;;) {
      const before = this.sourced;
      const wroteBefore = this.written;
      this.pullSources();
      this.flush();
      // Neither read nor written: no more to do now. A flush that wrote what the sources
      // had buffered made room for them even when they read nothing this time round.
      if (
        (this.sourced == before && this.written == wroteBefore) ||
        this.sources.length == 0 ||
        !this.writeCtx.ready ||
        this.engine.outputLen > 0 ||
        this.paused
      )
        break;
    }
    if (this.engine.phase == Phase.CLOSED && this.engine.outputLen == 0) this.closed();
  }

  private readSome(): void {
    const engine = this.engine;
    const ctx = this.readCtx;
    for (let i = 0; i < LOOP_GUARD; i++) {
      if (this.eof || this.isFailed || engine.phase == Phase.CLOSED || !ctx.ready) return;
      ctx.arm();
      const n = callHost(HostCall.IO_READ, this.io.userdata, ctx.handle, READ_BUFFER, READ_CAPACITY);
      if (n == H2_IO_PENDING) {
        ctx.pending = true;
        return;
      }
      if (n == H2_IO_ERROR || (n > READ_CAPACITY && n != 0)) {
        this.transportFailed = true;
        this.fail(H2E_ERROR, ErrorCode.NO_ERROR, msg(Msg.TRANSPORT_READ_FAILED));
        return;
      }
      if (n == 0) {
        this.eof = true;
        const cleanly = engine.goAway.either;
        engine.receiveEof();
        if (!cleanly && !this.isFailed)
          this.fail(H2E_UNEXPECTED_EOF, ErrorCode.NO_ERROR, msg(Msg.CONNECTION_CLOSED_BY_PEER));
        return;
      }
      // Read on until the host answers PENDING (and so holds a waker): a short read does
      // not mean the transport is drained, and a host that waits only on wakers would
      // otherwise never come back for what arrives next.
      engine.receive(READ_BUFFER, n);
    }
  }

  /** Writes the engine's output until it is empty or the host says PENDING. */
  private flush(): void {
    const engine = this.engine;
    const ctx = this.writeCtx;
    for (let round = 0; round < LOOP_GUARD; round++) {
      engine.produce();
      const len = engine.outputLen;
      if (len == 0) {
        // Everything before them is on the wire: zero-copy frames may go now, in order.
        if (this.noCopy.length == 0 || !this.sendZeroCopy() || this.paused) return;
        continue;
      }
      // After a protocol error the GOAWAY still goes out; only a dead transport stops writes.
      if (!ctx.ready || this.transportFailed || this.freed) return;
      ctx.arm();
      const n = callHost(HostCall.IO_WRITE, this.io.userdata, ctx.handle, engine.outputPtr, len);
      if (n == H2_IO_PENDING) {
        ctx.pending = true;
        engine.writeBlocked();
        return;
      }
      if (n == H2_IO_ERROR || n == 0 || n > len) {
        this.transportFailed = true;
        this.fail(H2E_ERROR, ErrorCode.NO_ERROR, msg(Msg.TRANSPORT_WRITE_FAILED));
        return;
      }
      engine.consumeOutput(n);
      this.written += n;
    }
  }

  /** Reads data sources into their streams while the windows have room for more. */
  private pullSources(): void {
    const list = this.sources;
    if (list.length == 0 || !this.sourceCtx.ready) return;
    const engine = this.engine;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const ctx = unchecked(list[i]);
      if (!this.pullSource(ctx, engine)) unchecked((list[j++] = ctx));
    }
    list.length = j;
  }

  /** One source: true when it is finished (ended, failed or its stream gone). */
  private pullSource(ctx: StreamCtx, engine: Connection): bool {
    const s = ctx.stream;
    const source = ctx.source;
    if (s == null || source == null || ctx.sourceEnded || ctx.resetCode >= 0) return true;
    if (s.isQueued || ctx.noCopyPending > 0) return false; // queued, or its zero-copy bytes still out
    const scratch = this.scratch;
    for (let k = 0; k < 4; k++) {
      // Keep about one window's worth buffered: enough to fill it, never more.
      const room =
        min<i64>(min<i64>(s.sendWindow.window, engine.sendWindow.window), <i64>SOURCE_CHUNK * 4) - <i64>s.buffered;
      if (room <= 0) return false;
      const want = <u32>min<i64>(room, <i64>SOURCE_CHUNK);
      if (!scratch.reserve(want)) return false;
      const ctxSrc = this.sourceCtx;
      ctxSrc.arm();
      const n = callHost(HostCall.BODY_READ, source.userdata, ctxSrc.handle, scratch.ptr, want);
      if (n == H2_IO_PENDING) {
        ctxSrc.pending = true;
        return false;
      }
      if (n != H2_IO_ERROR && (n & H2_DATA_NO_COPY) != 0) {
        // Zero-copy: the host keeps the bytes and writes them in flush() via send_data.
        ctx.noCopyPending = n & ~H2_DATA_NO_COPY;
        this.noCopy.push(ctx);
        return false;
      }
      if (n == H2_IO_ERROR || n > want) {
        engine.resetStream(s, ErrorCode.INTERNAL_ERROR);
        return true;
      }
      if (n == 0) {
        ctx.sourceEnded = true;
        this.sourced++;
        // The end: its trailers (nghttp2's NO_END_STREAM + submit_trailer), or END_STREAM on DATA.
        const trailers = source.trailers;
        const r =
          trailers != null
            ? engine.sendTrailers(s, trailers.list.ptr, trailers.list.len)
            : engine.sendData(s, 0, 0, true);
        if (r != SendResult.OK) engine.resetStream(s, ErrorCode.INTERNAL_ERROR);
        return true;
      }
      if (engine.sendData(s, scratch.ptr, n, false) != SendResult.OK) {
        engine.resetStream(s, ErrorCode.INTERNAL_ERROR);
        return true;
      }
      this.sourced += n;
    }
    return false;
  }

  /**
   * Has the host write one DATA frame per zero-copy stream through h2_host.send_data:
   * we write the frame prefix, the host the payload from its own memory. A frame is
   * counted against the windows when first offered, so one the host could not write yet
   * (PENDING) is offered again unchanged. False when nothing was written (windows shut,
   * the host would block, or it paused).
   */
  private sendZeroCopy(): bool {
    const list = this.noCopy;
    let progressed = false;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const ctx = unchecked(list[i]);
      const s = ctx.stream;
      const source = ctx.source;
      if (s == null || source == null || ctx.resetCode >= 0 || this.isFailed) continue; // dropped
      if (this.paused || !this.writeCtx.ready || !this.offerFrame(ctx, s, source.userdata)) {
        unchecked((list[j++] = ctx));
        continue;
      }
      progressed = true;
      if (ctx.noCopyPending > 0) unchecked((list[j++] = ctx));
    }
    list.length = j;
    return progressed;
  }

  /** Offers `ctx`'s next zero-copy frame (or the one it could not write) to send_data; true when written. */
  private offerFrame(ctx: StreamCtx, s: Stream, userdata: u32): bool {
    const engine = this.engine;
    let n = ctx.noCopyFrame;
    let pad = ctx.noCopyFramePad;
    if (n == 0) {
      pad = s.padding;
      // Padding (the Pad Length byte and the zeros) counts against the windows too.
      const overhead: u32 = pad >= 0 ? <u32>pad + 1 : 0;
      const allowance = engine.externalAllowance(s);
      if (allowance <= overhead) return false;
      n = min(allowance - overhead, ctx.noCopyPending);
      if (n == 0) return false;
      engine.externalSent(s, n + overhead, false);
      ctx.noCopyFrame = n;
      ctx.noCopyFramePad = pad;
    }
    const prefix = this.scratch;
    prefix.clear();
    prefix.reserve(FRAME_PREFIX_MAX);
    const prefixLen = writeDataFramePrefix(prefix.ptr, s.id, n, false, pad);
    this.writeCtx.arm();
    const padLen: u32 = pad >= 0 ? <u32>pad : 0;
    const r = callHost(HostCall.SEND_DATA, userdata, this.writeCtx.handle, prefix.ptr, prefixLen, n, padLen);
    if (r == H2_IO_PENDING) {
      this.writeCtx.pending = true;
      return false;
    }
    ctx.noCopyFrame = 0;
    ctx.noCopyFramePad = -1;
    if (r == H2_DATA_FAIL_CONNECTION) {
      engine.abort(ErrorCode.INTERNAL_ERROR, msg(Msg.SEND_DATA_FAILED_THE_CONNECTION));
      return false;
    }
    if (r != 0 && r != H2_DATA_PAUSE) {
      engine.resetStream(s, ErrorCode.INTERNAL_ERROR);
      return false;
    }
    ctx.noCopyPending -= n;
    this.sourced += n; // its source may be asked for more in this drive
    if (r == H2_DATA_PAUSE) this.paused = true;
    return true;
  }

  tick(now: i64): void {
    if (!this.freed) this.engine.tick(now);
  }

  nextDeadline(): i64 {
    return this.freed ? -1 : this.engine.nextDeadline();
  }

  // ---------------------------------------------------------------------------------
  // Failure and closing

  fail(code: u32, reason: u32, message: string): void {
    if (this.isFailed) return;
    this.isFailed = true;
    this.errorCode = code;
    this.errorReason = reason;
    this.errorMessage = message;
    this.notifyEverything();
  }

  private closed(): void {
    this.notifyEverything();
  }

  private notifyEverything(): void {
    this.handshakeWait.notify();
    this.incomingWait.notify();
    this.pushWait.notify();
    this.closeWait.notify();
    const streams = this.engine.store.values();
    for (let i = 0; i < streams.length; i++) {
      const a = unchecked(streams[i]).attachment;
      if (a != null) changetype<StreamCtx>(a).notifyAll();
    }
    const pings = this.pingTasks.values();
    for (let i = 0; i < pings.length; i++) {
      const t = unchecked(pings[i]);
      const ex = t.executor;
      if (ex != null) ex.wake(t);
    }
  }

  /** The connection's error as a new error handle (for a failing task). */
  errorHandle(): u32 {
    if (this.isFailed) return newError(this.errorCode, this.errorReason, this.errorMessage);
    const e = this.engine;
    if (e.errorCode != ErrorCode.NO_ERROR) return newError(H2E_INVALID_PEER_MESSAGE, e.errorCode, e.errorMessage);
    return newError(H2E_UNEXPECTED_EOF, ErrorCode.NO_ERROR, msg(Msg.CONNECTION_CLOSED));
  }

  // ---------------------------------------------------------------------------------
  // Engine events

  onRemoteSettings(): void {
    if (!this.handshakeDone) {
      this.handshakeDone = true;
      this.handshakeWait.notify();
    }
  }

  onRequest(stream: Stream, fields: usize, fieldsLen: u32, endStream: bool): void {
    const ctx = new StreamCtx(this, stream);
    ctx.recvEnded = endStream;
    if (!this.incoming.push(ctx, fields, fieldsLen)) {
      // No memory for its head: refused, so the client may send it again (§8.7).
      ctx.dropReceived();
      this.engine.resetStream(stream, ErrorCode.REFUSED_STREAM);
      return;
    }
    this.incomingWait.notify();
  }

  onPush(parent: Stream, promised: Stream, fields: usize, fieldsLen: u32): void {
    const ctx = new StreamCtx(this, promised);
    const req = new Request();
    req.receive(fields, fieldsLen);
    req.ctx = ctx;
    this.pushes.push(req);
    this.pushWait.notify();
  }

  onHead(stream: Stream, kind: u8, fields: usize, fieldsLen: u32, endStream: bool): void {
    const a = stream.attachment;
    if (a == null) return;
    const ctx = changetype<StreamCtx>(a);
    if (kind == HeadKind.TRAILERS) {
      if (ctx.readerGone) {
        ctx.recvEnded = true;
        return;
      }
      const t = new Headers();
      t.copyFrom(fields, fieldsLen);
      ctx.trailers = t;
      ctx.recvEnded = true;
      ctx.wait.notify();
      return;
    }
    const resp = new Response();
    splitResponse(resp, fields, fieldsLen);
    if (kind == HeadKind.INFORMATIONAL) {
      if (ctx.wantsInformational) {
        const h = adopt(HandleKind.RESPONSE, resp);
        callHost(HostCall.INFORMATIONAL, ctx.informationalUserdata, h);
        handleRelease(h, HandleKind.RESPONSE);
      }
      resp.dispose();
      return;
    }
    resp.ctx = ctx;
    ctx.recvEnded = endStream;
    const h = adopt(HandleKind.RESPONSE, resp);
    ctx.responseHandle = h;
    ctx.wait.notify();
  }

  onData(stream: Stream, data: usize, len: u32, endStream: bool): void {
    const a = stream.attachment;
    if (a == null) {
      // Nobody reads this stream any more: give the bytes straight back.
      if (len > 0) this.engine.releaseCapacity(stream, len);
      return;
    }
    const ctx = changetype<StreamCtx>(a);
    if (ctx.readerGone) {
      // The host let go of the body: the bytes go straight back to the windows.
      if (len > 0) this.engine.releaseCapacity(stream, len);
      if (endStream) ctx.recvEnded = true;
      return;
    }
    if (len > 0) {
      const b = ctx.recv;
      if (!b.reserve(len)) {
        this.engine.resetStream(stream, ErrorCode.INTERNAL_ERROR);
        return;
      }
      b.pushBytes(data, len);
    }
    if (endStream) ctx.recvEnded = true;
    ctx.wait.notify();
  }

  onReset(stream: Stream, code: u32, remote: bool): void {
    const a = stream.attachment;
    if (a == null) return;
    const ctx = changetype<StreamCtx>(a);
    if (ctx.resetCode < 0) {
      ctx.resetCode = <i64>code;
      ctx.resetRemote = remote;
    }
    ctx.notifyAll();
  }

  onClosed(stream: Stream): void {
    const a = stream.attachment;
    if (a == null) return;
    const ctx = changetype<StreamCtx>(a);
    ctx.closed = true;
    ctx.stream = null;
    ctx.notifyAll();
  }

  onCapacity(stream: Stream, capacity: u32): void {
    const a = stream.attachment;
    if (a == null) return;
    const ctx = changetype<StreamCtx>(a);
    ctx.capacityRaised = true;
    ctx.wait.notify();
  }

  onPingAck(data: u64, rtt: i64): void {
    if (!this.pingTasks.has(data)) return;
    const t = this.pingTasks.get(data);
    this.pingTasks.delete(data);
    t.rtt = rtt;
    const ex = t.executor;
    if (ex != null) ex.wake(t);
  }

  onGoaway(lastStreamId: u32, code: u32, debug: usize, debugLen: u32): void {
    this.incomingWait.notify();
    this.pushWait.notify();
    this.closeWait.notify();
  }

  onConnectionError(code: u32, message: string, remote: bool): void {
    this.fail(H2E_INVALID_PEER_MESSAGE, code, message);
  }

  /** Frees the connection: the engine stops, every stream is dropped. */
  free(): void {
    if (this.freed) return;
    if (!this.isFailed && this.engine.phase != Phase.CLOSED)
      this.engine.abort(ErrorCode.CANCEL, msg(Msg.CONNECTION_FREED));
    this.fail(H2E_ERROR, ErrorCode.CANCEL, msg(Msg.CONNECTION_FREED));
    this.freed = true;
    this.readCtx.release();
    this.writeCtx.release();
    this.sourceCtx.release();
    this.incoming.dispose();
    for (let i = 0; i < this.pushes.length; i++) unchecked(this.pushes[i]).dispose();
    this.pushes.length = 0;
    // Streams the host still holds objects for must not reach the engine after this.
    const streams = this.engine.store.values();
    for (let i = 0; i < streams.length; i++) {
      const a = unchecked(streams[i]).attachment;
      if (a != null) {
        const ctx = changetype<StreamCtx>(a);
        ctx.stream = null;
        ctx.closed = true;
      }
    }
    this.engine.dispose();
    this.scratch.dispose();
    this.touched(); // the executor lets it go at its next poll
  }
}

/** A PING of ours (h2_clientconn_ping / h2_serverconn_ping): PING with the RTT in ms. */
export class PingTask extends Task {
  rtt: i64 = -1;
  constructor(
    public conn: ConnDriver,
    public data: u64,
  ) {
    super();
  }
  poll(): bool {
    if (this.rtt >= 0) return this.finish(TaskType.PING, <u32>min<i64>(this.rtt, 0xffffffff), HandleKind.NONE);
    if (this.conn.isFailed || this.conn.freed) return this.fail(this.conn.errorHandle());
    return false; // woken by onPingAck
  }
}

/** Splits a received response head into :status and headers (validated, as above). */
function splitResponse(resp: Response, fields: usize, len: u32): void {
  const end = fields + <usize>len;
  let p = fields;
  for (; p < end; p = nextField(p)) {
    const nl = fieldNameLen(p);
    if (nl < 2 || load<u8>(fieldName(p)) != 0x3a) break;
    if (nl == 7) {
      const value = fieldValue(p);
      let s: u32 = 0;
      for (let i: u32 = 0; i < fieldValueLen(p); i++) s = s * 10 + (<u32>load<u8>(value + i) - 0x30);
      resp.status = s;
    }
  }
  if (p < end) resp.headers.copyFrom(p, <u32>(end - p));
}
