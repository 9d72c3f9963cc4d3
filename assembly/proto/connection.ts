// The connection engine (RFC 9113 §3–§8): one type for both roles, fed bytes with
// receive(), giving bytes out through `output`, reporting to a Handler. It knows nothing
// of handles, hosts or clocks: time comes in through tick(now) (clock.ts says how a
// stale time is handled).
//
// Receive path: preface check (server) → FrameDecoder → per-type handlers → stream
// state (state.ts), flow control (flow.ts), header blocks (field-block.ts, HPACK,
// message.ts) → Handler calls.
// Send path: heads and control frames are written to `output` at once (HPACK state must
// follow wire order); DATA waits in per-stream buffers until produce() frames it, round
// robin across streams (send-queue.ts), as windows allow.
import {
  ErrorCode,
  FrameType,
  FrameDecoder,
  DecodeStatus,
  Role as FrameRole,
  SettingsList,
  encodeData,
  encodeHeaders,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodePing,
  encodeGoaway,
  encodeWindowUpdate,
  EncodeResult,
  MAX_STREAM_ID,
  DEFAULT_INITIAL_WINDOW_SIZE,
  SettingId,
} from '../frame';
import {
  Decoder as HpackDecoder,
  Encoder as HpackEncoder,
  DecodeStatus as HpackStatus,
  DEFAULT_MAX_TABLE_SIZE,
  fieldNameLen,
  fieldValueLen,
  nextField,
} from '../hpack';
import { ByteBuffer } from '../util/bytes';
import { Config, Role } from './config';
import { Handler, HeadKind } from './events';
import { FieldBlock } from './field-block';
import { RecvWindow, SendWindow } from './flow';
import { MessageValidator } from './message';
import { PingTracker, NOT_OURS } from './ping';
import { Clock, Stamp, TimeSource, UNSTAMPED } from './clock';
import { PREFACE_LENGTH, matchPreface, writePreface } from './preface';
import { SendQueue } from './send-queue';
import { CapacityQueue } from './capacity';
import { StallQueue } from './stall-queue';
import { PendingQueue } from './pending-queue';
import { GoAway } from './go-away';
import { RateLimit } from './rate-limit';
import { Budget, BudgetMember } from './budget';
import { Settings, SENT_SETTINGS } from './settings';
import {
  StreamState,
  ClosedBy,
  Verdict,
  checkReceive,
  verdictKind,
  verdictErrorCode,
  afterSendHeaders,
  afterRecvHeaders,
  afterSendEnd,
  afterRecvEnd,
  canSend,
  canReceive,
} from './state';
import { Known, StreamStore } from './store';
import { Counts } from './counts';
import { RecvPhase, Stream } from './stream';
import { Msg, msg } from '../util/messages';

/** Result codes of the engine's send-side calls (the ABI maps them to H2E codes). */
export namespace SendResult {
  export const OK: u32 = 0;
  /** The stream is not in a state that allows this (closed, reset, head not sent…). */
  export const BAD_STATE: u32 = 1;
  /** A buffer cap would be passed (send buffer, pending streams, output). */
  export const LIMIT: u32 = 2;
  /** The connection is closed or going away: no new streams. */
  export const CLOSED: u32 = 3;
  /** Stream ids are exhausted on this connection: open a new one. */
  export const IDS_EXHAUSTED: u32 = 4;
  /** The arguments are invalid (malformed field list…). */
  export const INVALID: u32 = 5;
}

/** Where the connection is in its life. */
/** Where the connection is in its life; it only ever moves to a later phase. */
export namespace Phase {
  /** Exchanging prefaces; frames flow normally. */
  export const OPEN: u8 = 0;
  /** We sent the first (2^31-1) GOAWAY of a graceful shutdown and wait for the PING ACK. */
  export const DRAINING_PING: u8 = 1;
  /** Final GOAWAY sent (or received): in-flight streams finish, no new ones. */
  export const DRAINING: u8 = 2;
  /** Done: after the host writes out `output`, it closes the transport. */
  export const CLOSED: u8 = 3;
}

const NO_DEADLINE: i64 = -1;

/** The engine's timers, in the order a tick acts on them (what each times: config.ts). */
namespace Timer {
  export const SETTINGS: i32 = 0;
  export const HANDSHAKE: i32 = 1;
  export const HEADER: i32 = 2;
  export const WRITE_STALL: i32 = 3;
  export const CONN_STALL: i32 = 4;
  export const STREAM_STALL: i32 = 5;
  export const RECV_IDLE: i32 = 6;
  export const PING_ANSWER: i32 = 7;
  export const KEEPALIVE: i32 = 8;
  export const IDLE: i32 = 9;
  export const GRACEFUL: i32 = 10;
  export const COUNT: i32 = 11;
}

/** How long a connection must have made no progress to be shed when the budget is full. */
export const SHED_STALL_MS: i64 = 1000;

export class Connection extends BudgetMember {
  readonly role: u8;
  readonly config: Config;
  handler: Handler;

  /** Bytes to write to the transport, from `outputStart` to `output.len`. Grows on demand
   *  (and keeps its size): an idle connection holds no 16 KiB it does not use. */
  readonly output: ByteBuffer = new ByteBuffer(0x7fffffff);
  private outputStart: u32 = 0;

  /** The peer's settings as applied; ours as acknowledged by the peer. */
  readonly remote: Settings = new Settings();
  readonly localAcked: Settings = new Settings();
  // SETTINGS frames we sent and the peer has not acknowledged, oldest first.
  private unackedSettings: Settings[] = [];

  private readonly decoder: FrameDecoder = new FrameDecoder();
  private readonly hpackIn: HpackDecoder;
  private readonly hpackOut: HpackEncoder = new HpackEncoder();
  private readonly validator: MessageValidator = new MessageValidator();
  private readonly block: FieldBlock;
  /** Decoded fields of the last header block; encoded field block scratch. */
  private readonly fields: ByteBuffer = new ByteBuffer();
  private readonly encoded: ByteBuffer = new ByteBuffer();
  /** The open field block came in a frame with a stream error: decode it, deliver nothing. */
  private blockFaulty: bool = false;

  readonly store: StreamStore;
  /** Active streams, bytes held to send and received, control replies queued (counts.ts). */
  readonly counts: Counts = new Counts();
  readonly sendWindow: SendWindow = new SendWindow(DEFAULT_INITIAL_WINDOW_SIZE);
  readonly recvWindow: RecvWindow = new RecvWindow(DEFAULT_INITIAL_WINDOW_SIZE);
  private readonly queue: SendQueue = new SendQueue();
  private readonly waitingCapacity: CapacityQueue = new CapacityQueue();
  // Our streams waiting for a MAX_CONCURRENT_STREAMS slot, FIFO.
  /** Our streams waiting for a concurrency slot. */
  private readonly pending: PendingQueue = new PendingQueue();
  /** The id of our next stream (not private: tests start near the end of the id space). */
  nextLocalId: u32;

  private prefaceMatched: u32 = 0;
  private peerSettingsSeen: bool = false;
  phase: u8 = Phase.OPEN;
  /** What each side said by GOAWAY. */
  readonly goAway: GoAway = new GoAway();
  /** Why the connection ended (RFC 9113 code), and a message; NO_ERROR while fine. */
  errorCode: u32 = ErrorCode.NO_ERROR;
  errorMessage: string = '';
  errorRemote: bool = false;

  private readonly pings: PingTracker = new PingTracker();
  /** Time, in host-supplied milliseconds, and the connection's stamps (clock.ts Stamp). */
  readonly clock: Clock;
  private readonly stalls: StallQueue = new StallQueue();
  /** Streams the peer reset, had refused or made us reset (Rapid Reset, reset floods). */
  private resets: RateLimit;
  /** Frames that cost work but carry nothing (see isGlitch). */
  private glitches: RateLimit;

  /**
   * `now` is the last time the host told (ms) and `timeCurrent` whether it is the present
   * (told in the host's current turn). When it is not, the connection's clock starts at the
   * next tick(): its timeouts never count from a time before it existed. With `time`, the
   * connection reads the time from it (its executor's, shared) and `now`/`timeCurrent` are unused.
   */
  constructor(
    config: Config,
    handler: Handler,
    now: i64 = 0,
    timeCurrent: bool = false,
    time: TimeSource | null = null,
  ) {
    super();
    const clock = new Clock(now, timeCurrent, time);
    now = clock.now;
    this.clock = clock;
    // What counts from the connection's start.
    clock.mark(Stamp.ACTIVITY);
    clock.put(Stamp.IDLE_SINCE, clock.get(Stamp.ACTIVITY));
    clock.put(Stamp.PING, clock.get(Stamp.ACTIVITY));
    clock.put(Stamp.STARTED, clock.get(Stamp.ACTIVITY));
    clock.put(Stamp.STREAM_FRAME, clock.get(Stamp.ACTIVITY));
    clock.put(Stamp.PROGRESS, clock.get(Stamp.ACTIVITY));
    this.resets = new RateLimit(config.maxResetsPerSecond, config.maxResetsPerSecond, now);
    this.glitches = new RateLimit(config.maxGlitchesPerSecond, config.maxGlitchesPerSecond, now);
    this.role = config.role;
    this.config = config;
    this.handler = handler;
    const isClient = config.role == Role.CLIENT;
    const admitted = config.budget.connectionAllowed();
    this.store = new StreamStore(isClient, config.maxClosedStreams, config.budget);
    this.nextLocalId = isClient ? 1 : 2;
    // The peer may use a 4096-byte table until it acknowledges our HEADER_TABLE_SIZE
    // (applyLocalSettings); our header-list limit is local policy, enforced at once.
    this.hpackIn = new HpackDecoder(DEFAULT_MAX_TABLE_SIZE, config.local.maxHeaderListSize);
    this.block = new FieldBlock(config.maxContinuations, config.local.maxHeaderListSize);
    this.decoder.role = isClient ? FrameRole.CLIENT : FrameRole.SERVER;
    this.decoder.setMaxFrameSize(config.local.maxFrameSize);
    if (isClient) this.prefaceMatched = PREFACE_LENGTH;
    this.budget.join(this);
    this.start();
    // Over the instance's budget: refused before it holds anything (budget.ts).
    if (!admitted) this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.OVER_THE_MEMORY_BUDGET_NO));
  }

  // ---------------------------------------------------------------------------------
  // Start, output, time

  /** Writes our preface: the magic (client), SETTINGS, and the connection window boost. */
  private start(): void {
    const out = this.output;
    if (this.role == Role.CLIENT) {
      out.reserve(PREFACE_LENGTH);
      writePreface(out.ptr + out.len);
      out.len += PREFACE_LENGTH;
    }
    this.sendSettings(this.config.local);
    const boost = this.recvWindow.grow(this.config.connectionWindow);
    if (boost > 0) encodeWindowUpdate(out, 0, boost);
  }

  /** Sends a SETTINGS frame with every value that differs from the RFC's initial ones. */
  sendSettings(s: Settings): bool {
    this.handler.touched();
    if (this.unackedSettings.length >= 4) return false;
    // A connection sends its SETTINGS once, at its start: the list need not outlive the frame.
    const list = new SettingsList();
    for (let i = 0; i < SENT_SETTINGS.length; i++) {
      const id = unchecked(SENT_SETTINGS[i]);
      if (s.differsFromInitial(id) || (id == SettingId.ENABLE_PUSH && this.role == Role.CLIENT))
        list.add(id, s.get(id));
    }
    if (encodeSettings(this.output, list) != EncodeResult.OK) return false;
    const copy = new Settings();
    copy.copyFrom(s);
    this.unackedSettings.push(copy);
    this.clock.mark(Stamp.SETTINGS_SENT);
    return true;
  }

  /**
   * Announces a new value of one of our SETTINGS after the handshake (nghttp2's
   * nghttp2_submit_settings): a SETTINGS frame with all our values as they will be, which
   * bind the peer once it acknowledges them (§6.5.3). What we enforce ourselves (the header
   * list limit) changes now. CLOSED once the connection is closing, LIMIT while four
   * SETTINGS wait for their acknowledgement.
   */
  submitSetting(id: u16, value: u32): u32 {
    this.handler.touched();
    if (this.phase != Phase.OPEN) return SendResult.CLOSED;
    const list = this.unackedSettings;
    const next = new Settings();
    next.copyFrom(list.length > 0 ? unchecked(list[list.length - 1]) : this.localAcked);
    next.apply(id, value);
    if (!this.sendSettings(next)) return SendResult.LIMIT;
    this.config.local.apply(id, value);
    return SendResult.OK;
  }

  /** The peer's value of a setting (the RFC's initial value until its SETTINGS arrive), or
   *  ours as the peer acknowledged it (what binds the peer now). */
  setting(id: u16, remote: bool): u32 {
    return (remote ? this.remote : this.localAcked).get(id);
  }

  /** Moves the connection's receive window target (the h2 crate's set_target_window_size):
   *  raised, the window opens by the difference at once (WINDOW_UPDATE on stream 0). */
  setConnectionWindow(size: u32): void {
    this.handler.touched();
    this.config.connectionWindow = size;
    const increment = this.recvWindow.setTarget(size);
    if (increment > 0 && this.phase != Phase.CLOSED) encodeWindowUpdate(this.output, 0, increment);
  }

  /** The budget this connection shares: its config's. */
  @inline get budget(): Budget {
    return this.config.budget;
  }

  /** Pointer and length of the bytes waiting to be written. */
  @inline get outputPtr(): usize {
    return this.output.ptr + this.outputStart;
  }
  @inline get outputLen(): u32 {
    return this.output.len - this.outputStart;
  }

  /** The host wrote `n` bytes of the output. */
  consumeOutput(n: u32): void {
    const out = this.output;
    // A closed connection lingers while the peer keeps taking its last bytes.
    if (n > 0) {
      if (this.phase == Phase.CLOSED) this.clock.mark(Stamp.CLOSED);
      this.clock.clear(Stamp.WRITE_BLOCKED);
      this.clock.mark(Stamp.PROGRESS);
    }
    this.outputStart += min(n, this.outputLen);
    if (this.outputStart == out.len) {
      out.len = 0;
      this.outputStart = 0;
      this.counts.controlRepliesWritten();
    } else if (this.outputStart >= out.len >> 1) {
      // Compact once half is written, so partial writes stay linear overall.
      const rest = out.len - this.outputStart;
      memory.copy(out.ptr, out.ptr + this.outputStart, rest);
      out.len = rest;
      this.outputStart = 0;
    }
    if (n == 0) return;
    this.assignCapacity(); // the transport took bytes: room to hand out
    this.syncBudget();
  }

  /** True once the connection is finished and its output written: close the transport. */
  get isDone(): bool {
    return this.phase == Phase.CLOSED && this.outputLen == 0;
  }

  /** The last time the host told (ms). */
  @inline get now(): i64 {
    return this.clock.now;
  }

  /**
   * The time of the next thing the engine must do without new input, or -1 for none. A
   * stamp taken while the time was stale counts as the last time told: the answer is then
   * early, never late, and the tick it brings fixes the stamp and moves the deadline on.
   */
  nextDeadline(): i64 {
    if (this.phase == Phase.CLOSED) return this.lingerDeadline();
    let t: i64 = NO_DEADLINE;
    for (let timer = 0; timer < Timer.COUNT; timer++) t = earliest(t, this.deadlineOf(timer));
    return t;
  }

  /** Our last bytes (GOAWAY) wait for a peer that does not read: give up after the linger. */
  private lingerDeadline(): i64 {
    const c = this.config;
    return this.outputLen > 0 && c.closeLinger > 0 ? this.clock.since(Stamp.CLOSED) + c.closeLinger : NO_DEADLINE;
  }

  /** When `timer` (Timer) fires, or NO_DEADLINE while it is not running. The one place each
   *  timer's condition is written: nextDeadline() reports it and tick() acts on it. */
  private deadlineOf(timer: i32): i64 {
    const c = this.config;
    const clock = this.clock;
    switch (timer) {
      case Timer.SETTINGS:
        if (c.settingsTimeout > 0 && this.unackedSettings.length > 0)
          return clock.since(Stamp.SETTINGS_SENT) + c.settingsTimeout;
        break;
      case Timer.HANDSHAKE:
        if (c.handshakeTimeout > 0 && !this.peerSettingsSeen) return clock.since(Stamp.STARTED) + c.handshakeTimeout;
        break;
      case Timer.HEADER:
        if (c.headerTimeout > 0 && clock.isSet(Stamp.BLOCK)) return clock.since(Stamp.BLOCK) + c.headerTimeout;
        break;
      case Timer.WRITE_STALL:
        if (c.writeStallTimeout > 0 && clock.isSet(Stamp.WRITE_BLOCKED))
          return clock.since(Stamp.WRITE_BLOCKED) + c.writeStallTimeout;
        break;
      case Timer.CONN_STALL:
        if (c.sendStallTimeout > 0 && clock.isSet(Stamp.CONN_STALLED))
          return clock.since(Stamp.CONN_STALLED) + c.sendStallTimeout;
        break;
      case Timer.STREAM_STALL: {
        const head = this.stalls.first;
        if (c.sendStallTimeout > 0 && head != null) return clock.at(head.stalledSince) + c.sendStallTimeout;
        break;
      }
      case Timer.RECV_IDLE:
        if (c.recvIdleTimeout > 0 && this.store.size > 0) return clock.since(Stamp.STREAM_FRAME) + c.recvIdleTimeout;
        break;
      case Timer.PING_ANSWER: {
        const oldestPing = this.pings.oldest(clock.now);
        if (c.keepaliveTimeout > 0 && oldestPing >= 0) return oldestPing + c.keepaliveTimeout;
        break;
      }
      case Timer.KEEPALIVE:
        if (c.keepaliveInterval > 0 && this.pings.count == 0)
          return max(clock.since(Stamp.ACTIVITY), clock.since(Stamp.PING)) + c.keepaliveInterval;
        break;
      case Timer.IDLE:
        if (c.idleTimeout > 0 && this.store.size == 0) return clock.since(Stamp.IDLE_SINCE) + c.idleTimeout;
        break;
      case Timer.GRACEFUL:
        if (c.gracefulTimeout > 0 && clock.isSet(Stamp.SHUTDOWN))
          return clock.since(Stamp.SHUTDOWN) + c.gracefulTimeout;
        break;
    }
    return NO_DEADLINE;
  }

  /** Does what `timer`'s deadline, passed at `now`, calls for. */
  private fire(timer: i32, now: i64): void {
    const clock = this.clock;
    switch (timer) {
      case Timer.SETTINGS:
        this.connectionError(ErrorCode.SETTINGS_TIMEOUT, msg(Msg.PEER_DID_NOT_ACKNOWLEDGE_SETTINGS));
        break;
      case Timer.HANDSHAKE:
        this.connectionError(ErrorCode.SETTINGS_TIMEOUT, msg(Msg.PEER_SENT_NO_PREFACE));
        break;
      case Timer.HEADER:
        this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.HEADER_BLOCK_NOT_FINISHED));
        break;
      case Timer.WRITE_STALL:
        this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.THE_TRANSPORT_TOOK_NONE));
        this.abandonOutput(); // it cannot leave: no linger
        break;
      case Timer.CONN_STALL:
        if (this.sendWindow.window <= 0)
          this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.CONNECTION_WINDOW_KEPT_SHUT_WITH));
        else clock.clear(Stamp.CONN_STALLED);
        break;
      case Timer.STREAM_STALL: {
        const timeout = this.config.sendStallTimeout;
        let s = this.stalls.first;
        while (s != null && now >= s.stalledSince + timeout) {
          const next = this.stalls.next(s);
          this.stalls.remove(s);
          if (this.isStalled(s)) this.resetStream(s, ErrorCode.CANCEL);
          s = next;
        }
        break;
      }
      case Timer.RECV_IDLE:
        if (this.allStreamsWaitOnPeer())
          this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.OPEN_STREAMS_SILENT_NOTHING_RECEIVED));
        else clock.put(Stamp.STREAM_FRAME, now); // some stream is ours to answer: look again later
        break;
      case Timer.PING_ANSWER:
        if (this.phase == Phase.DRAINING_PING) {
          // The shutdown PING went unanswered: go on without it (and stop timing it).
          this.pings.finish(this.pings.shutdownPing);
          this.finalGoaway();
        } else {
          this.connectionError(ErrorCode.NO_ERROR, msg(Msg.KEEPALIVE_PING_NOT_ANSWERED));
        }
        break;
      case Timer.KEEPALIVE:
        this.ping();
        break;
      case Timer.IDLE:
        this.goaway(ErrorCode.NO_ERROR, msg(Msg.IDLE_TIMEOUT));
        this.enterClosed();
        break;
      case Timer.GRACEFUL:
        this.closeAllStreams(ErrorCode.CANCEL);
        this.enterClosed();
        break;
    }
  }

  /** A stream with something to send (buffered, or capacity it waits for) and a shut window. */
  private isStalled(s: Stream): bool {
    return canSend(s.state) && (s.buffered > 0 || s.waitingCapacity) && s.sendWindow.window <= 0;
  }

  /** Every open stream waits for the peer (it has not ended its side), and we are sending nothing on any. */
  private allStreamsWaitOnPeer(): bool {
    const streams = this.store.values();
    for (let i = 0; i < streams.length; i++) {
      const s = unchecked(streams[i]);
      if (!canReceive(s.state) || s.buffered > 0 || s.waitingCapacity) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------
  // The instance's budget (budget.ts)

  /** Tells the budget what the connection holds now: to send, and received but not taken. */
  syncBudget(): void {
    const counts = this.counts;
    this.budget.account(this, <u64>this.outputLen + counts.unframed, counts.unreleased);
  }

  progressAt(): i64 {
    return this.clock.since(Stamp.PROGRESS);
  }

  /** The budget is full and this connection holds the most without moving: close it now. */
  shed(): void {
    this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.OVER_THE_MEMORY_BUDGET_HOLDING));
    this.abandonOutput(); // a peer that takes nothing will not take the GOAWAY either
  }

  /** Gives up what is left to write (the peer takes none of it): the host closes the transport. */
  private abandonOutput(): void {
    this.consumeOutput(this.outputLen);
  }

  /** The host could not take our output (it answered PENDING): the write stall clock runs. */
  writeBlocked(): void {
    if (this.outputLen > 0) this.clock.markOnce(Stamp.WRITE_BLOCKED);
  }

  /** Some stamp waits for the next tick to take its time (clock.ts): tick, even with nothing due. */
  get stampsPending(): bool {
    return this.clock.pending;
  }

  /** The host's turn ended: the time told is stale until the next tick (clock.ts). */
  timeLapsed(): void {
    this.clock.lapse();
  }

  /** The time is told again: what was stamped while it was stale happened now. */
  private fixStamps(): void {
    const clock = this.clock; // its own slots it fixed in advance()
    clock.pending = false;
    this.stalls.fixStamps(clock.now);
    this.pings.fixStamps(clock.now);
  }

  /** Tells the engine the time; it acts on whatever deadline has passed. */
  tick(now: i64): void {
    const clock = this.clock;
    clock.advance(now);
    if (clock.pending) this.fixStamps();
    now = clock.now;
    if (this.phase == Phase.CLOSED) {
      const linger = this.lingerDeadline();
      if (linger != NO_DEADLINE && now >= linger) this.abandonOutput(); // the peer took none of our last bytes in the linger
      return;
    }
    // In Timer order, each looked at after the ones before it acted.
    for (let timer = 0; timer < Timer.COUNT; timer++) {
      const t = this.deadlineOf(timer);
      if (t == NO_DEADLINE || now < t) continue;
      this.fire(timer, now);
      if (this.phase == Phase.CLOSED) return;
    }
  }

  // ---------------------------------------------------------------------------------
  // Receive

  /** Feeds bytes from the transport; returns how many were taken (all, unless closed). */
  receive(ptr: usize, len: u32): u32 {
    if (this.phase == Phase.CLOSED) return 0;
    this.clock.mark(Stamp.ACTIVITY);
    let p = ptr;
    let n = len;
    if (this.prefaceMatched < PREFACE_LENGTH) {
      const want = min(n, PREFACE_LENGTH - this.prefaceMatched);
      const ok = matchPreface(p, n, this.prefaceMatched);
      if (ok < want) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.INVALID_CONNECTION_PREFACE));
        return len;
      }
      this.prefaceMatched += want;
      p += want;
      n -= want;
    }
    const dec = this.decoder;
    while (n > 0 && this.phase != Phase.CLOSED) {
      const used = dec.push(p, n);
      p += used;
      n -= used;
      const status = dec.status;
      if (status == DecodeStatus.FRAME) {
        this.onFrame();
      } else if (status == DecodeStatus.STREAM_ERROR) {
        // A HEADERS frame with a stream-level fault still carries HPACK state.
        if (dec.frameReady) this.onFrame();
        // A discarded DATA frame still counts against the connection window (§6.9).
        if (dec.type == FrameType.DATA && !this.chargeDiscarded(dec.flowControlledLength)) continue;
        this.peerStreamErrorId(dec.errorStreamId, dec.errorCode);
      } else if (status == DecodeStatus.CONNECTION_ERROR) {
        this.connectionError(dec.errorCode, dec.errorMessage);
      }
    }
    this.afterReceive();
    return len;
  }

  /** The transport reached EOF. */
  receiveEof(): void {
    if (this.phase == Phase.CLOSED) return;
    if (this.store.size > 0 || this.decoder.expectingContinuationFor != 0) {
      // After the peer's GOAWAY with an error, that error is why the streams end (§6.8).
      const peerError = this.goAway.received && this.errorRemote && this.errorCode != ErrorCode.NO_ERROR;
      this.closeAllStreams(peerError ? this.errorCode : ErrorCode.CANCEL);
    }
    if (this.errorCode == ErrorCode.NO_ERROR && !this.goAway.either) {
      this.errorMessage = msg(Msg.CONNECTION_CLOSED_BY_PEER);
      this.errorRemote = true;
    }
    this.enterClosed();
  }

  private onFrame(): void {
    const dec = this.decoder;
    const type = dec.type;
    if (!this.peerSettingsSeen) {
      // §3.4: the peer's preface ends with SETTINGS, first.
      if (type != FrameType.SETTINGS || dec.isAck) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.FIRST_FRAME_FROM_PEER_IS));
        return;
      }
      this.peerSettingsSeen = true;
    }
    if (this.isGlitch(type) && !this.countGlitch()) return;
    if (type == FrameType.DATA || type == FrameType.HEADERS || type == FrameType.CONTINUATION)
      this.clock.mark(Stamp.STREAM_FRAME);
    switch (type) {
      case FrameType.DATA:
        this.onData();
        break;
      case FrameType.HEADERS:
        this.onHeaders();
        break;
      case FrameType.PRIORITY:
        break; // §5.3.2: deprecated scheme; parsed and ignored.
      case FrameType.RST_STREAM:
        this.onRstStream();
        break;
      case FrameType.SETTINGS:
        this.onSettings();
        break;
      case FrameType.PUSH_PROMISE:
        this.onPushPromise();
        break;
      case FrameType.PING:
        this.onPing();
        break;
      case FrameType.GOAWAY:
        this.onGoaway();
        break;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate();
        break;
      case FrameType.CONTINUATION:
        this.onContinuation();
        break;
      default:
        break; // unknown types never reach here (the decoder skips them)
    }
  }

  private onData(): void {
    const dec = this.decoder;
    const id = dec.streamId;
    const flowLen = dec.flowControlledLength;
    // §6.9: every DATA counts against the connection window, whatever its stream.
    if (!this.recvWindow.receive(flowLen)) {
      this.connectionError(ErrorCode.FLOW_CONTROL_ERROR, msg(Msg.DATA_EXCEEDS_THE_CONNECTION_WINDOW));
      return;
    }
    const stream = this.store.get(id);
    if (stream == null) {
      const v = this.verdictForUnknown(id, FrameType.DATA);
      if (v != Verdict.CONNECTION_ERROR) this.releaseConnection(flowLen);
      if (v == Verdict.STREAM_ERROR) this.peerStreamErrorId(id, ErrorCode.STREAM_CLOSED);
      return;
    }
    const verdict = checkReceive(stream.state, FrameType.DATA, stream.closedBy);
    if (verdictKind(verdict) != Verdict.ACCEPT) {
      this.releaseConnection(flowLen);
      this.applyVerdict(stream, verdict);
      return;
    }
    if (stream.recvPhase != RecvPhase.BODY) {
      // DATA before the head, or after trailers: malformed (§8.1).
      this.releaseConnection(flowLen);
      this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    if (!stream.recvWindow.receive(flowLen)) {
      this.releaseConnection(flowLen);
      this.peerStreamError(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    const len = dec.payloadLen;
    stream.dataReceived += <i64>len;
    const endStream = dec.endStream;
    const expected = stream.expectedLength;
    if (expected >= 0 && (stream.dataReceived > expected || (endStream && stream.dataReceived != expected))) {
      this.releaseConnection(flowLen);
      this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR); // §8.1.1
      return;
    }
    // Padding is never the application's: give it back at once.
    const padding = flowLen - len;
    if (padding > 0) this.releaseBoth(stream, padding);
    if (endStream) stream.state = afterRecvEnd(stream.state);
    // Counted before the handler sees the bytes, so it may release them at once.
    if (!this.config.autoRelease) {
      stream.unreleasedBytes += len;
      this.counts.addUnreleased(len);
      this.syncBudget();
    }
    this.handler.onData(stream, dec.payloadPtr, len, endStream);
    if (this.config.autoRelease) this.releaseBoth(stream, len);
    if (stream.state == StreamState.CLOSED) this.finishStream(stream, ClosedBy.END_STREAM);
  }

  private onHeaders(): void {
    const dec = this.decoder;
    // A stream-level fault in the frame itself (§5.3.1: the stream depends on itself): the
    // block is still decoded for HPACK's sake, but not delivered; receive() resets the stream.
    this.blockFaulty = dec.status == DecodeStatus.STREAM_ERROR;
    if (!this.block.begin(FrameType.HEADERS, dec.streamId, 0, dec.endStream, dec.payloadPtr, dec.payloadLen)) {
      this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, this.block.error);
      return;
    }
    this.endOrHoldBlock();
  }

  /** The first fragment is in: decode a whole block now, or keep the fragment for CONTINUATION. */
  private endOrHoldBlock(): void {
    if (this.decoder.endHeaders) this.endBlock();
    else if (!this.block.hold()) this.connectionError(ErrorCode.INTERNAL_ERROR, this.block.error);
    else this.clock.mark(Stamp.BLOCK);
  }

  private onPushPromise(): void {
    const dec = this.decoder;
    this.blockFaulty = dec.status == DecodeStatus.STREAM_ERROR;
    // §6.6, §8.4: only a client that enabled push may receive PUSH_PROMISE.
    if (!this.localAcked.enablePush && !this.anyUnackedEnablesPush()) {
      this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.PUSH_PROMISE_RECEIVED_WITH_PUSH));
      return;
    }
    if (
      !this.block.begin(FrameType.PUSH_PROMISE, dec.streamId, dec.promisedId, false, dec.payloadPtr, dec.payloadLen)
    ) {
      this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, this.block.error);
      return;
    }
    this.endOrHoldBlock();
  }

  private onContinuation(): void {
    const dec = this.decoder;
    if (!this.block.append(dec.payloadPtr, dec.payloadLen)) {
      this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, this.block.error);
      return;
    }
    if (dec.endHeaders) this.endBlock();
  }

  /** A whole field block arrived: decode it (always, to keep HPACK in step), then act. */
  private endBlock(): void {
    this.clock.clear(Stamp.BLOCK);
    const block = this.block;
    const fields = this.fields;
    fields.clear();
    const status = this.hpackIn.decode(block.ptr, block.len, fields);
    const type = block.type;
    const id = block.streamId;
    const promised = block.promisedId;
    const endStream = block.endStream;
    block.clear();
    if (status == HpackStatus.MALFORMED || status == HpackStatus.OUT_OF_MEMORY) {
      this.connectionError(ErrorCode.COMPRESSION_ERROR, this.hpackIn.error);
      return;
    }
    if (this.blockFaulty) return;
    const tooLarge = status == HpackStatus.LIST_TOO_LARGE;
    if (type == FrameType.PUSH_PROMISE) this.onPromiseBlock(id, promised, tooLarge);
    else this.onHeadersBlock(id, endStream, tooLarge);
  }

  private onHeadersBlock(id: u32, endStream: bool, tooLarge: bool): void {
    const stream = this.store.get(id);
    if (stream == null) {
      const known = this.store.classify(id);
      if (known == Known.IDLE && !this.store.isLocalId(id) && this.role == Role.SERVER) {
        this.onNewRequest(id, endStream, tooLarge);
        return;
      }
      const v = this.verdictForUnknown(id, FrameType.HEADERS);
      if (v == Verdict.STREAM_ERROR) this.peerStreamErrorId(id, ErrorCode.STREAM_CLOSED);
      return;
    }
    const verdict = checkReceive(stream.state, FrameType.HEADERS, stream.closedBy);
    if (verdictKind(verdict) != Verdict.ACCEPT) {
      this.applyVerdict(stream, verdict);
      return;
    }
    if (tooLarge) {
      this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const v = this.validator;
    const f = this.fields;
    if (stream.recvPhase == RecvPhase.BODY) {
      // Trailers (§8.1): END_STREAM required, no pseudo-headers.
      if (!endStream || !v.validateTrailers(f.ptr, f.len)) {
        this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      stream.recvPhase = RecvPhase.TRAILERS;
      if (stream.expectedLength >= 0 && stream.dataReceived != stream.expectedLength) {
        this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      stream.state = afterRecvHeaders(stream.state, true);
      this.handler.onHead(stream, HeadKind.TRAILERS, f.ptr, f.len, true);
    } else if (stream.recvPhase == RecvPhase.TRAILERS || this.role == Role.SERVER) {
      this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
      return;
    } else {
      // Client: a response head on our stream (or on a promised one).
      if (!v.validateResponse(f.ptr, f.len, stream.requestMethod)) {
        this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      if (v.isInformational) {
        if (endStream) {
          // §8.1: a 1xx cannot end the stream
          this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
          return;
        }
        stream.recvPhase = RecvPhase.INFORMATIONAL;
        this.handler.onHead(stream, HeadKind.INFORMATIONAL, f.ptr, f.len, false);
        return;
      }
      stream.recvPhase = RecvPhase.BODY;
      stream.expectedLength = v.expectedDataLength;
      if (endStream && stream.expectedLength > 0) {
        this.peerStreamError(stream, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      const wasReserved = stream.state == StreamState.RESERVED_REMOTE;
      stream.state = afterRecvHeaders(stream.state, endStream);
      if (wasReserved) this.counts.activate(stream);
      this.handler.onHead(stream, HeadKind.RESPONSE, f.ptr, f.len, endStream);
    }
    if (stream.state == StreamState.CLOSED) this.finishStream(stream, ClosedBy.END_STREAM);
  }

  /** Server: HEADERS opening a new stream. */
  private onNewRequest(id: u32, endStream: bool, tooLarge: bool): void {
    const store = this.store;
    // Ids of streams the peer opens only increase (§5.1.1); lower idle ids close implicitly.
    store.lastRemoteId = id;
    if (this.goAway.ignores(id)) return; // §6.8: ignored after GOAWAY
    if (
      !this.counts.acceptsRemote(this.localAcked.maxConcurrentStreams, this.config.local.maxConcurrentStreams) ||
      !this.budget.streamAllowed()
    ) {
      this.refuse(id, ErrorCode.REFUSED_STREAM);
      return;
    }
    const v = this.validator;
    const f = this.fields;
    if (tooLarge || !v.validateRequest(f.ptr, f.len, this.config.local.enableConnectProtocol)) {
      this.refuse(id, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const stream = new Stream(false, this.remote.initialWindowSize, this.localAcked.initialWindowSize);
    stream.id = id;
    stream.recvPhase = RecvPhase.BODY;
    stream.expectedLength = v.expectedDataLength;
    stream.requestMethod = v.method;
    if (endStream && stream.expectedLength > 0) {
      this.refuse(id, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    stream.state = afterRecvHeaders(StreamState.IDLE, endStream);
    store.insert(stream);
    this.counts.activate(stream);
    this.handler.onRequest(stream, f.ptr, f.len, endStream);
  }

  /** Client: a PUSH_PROMISE block on `parentId` promising `promisedId`. */
  private onPromiseBlock(parentId: u32, promisedId: u32, tooLarge: bool): void {
    const store = this.store;
    // §5.1.1, §6.6: the promised id must be a new server (even) id.
    if (store.isLocalId(promisedId) || store.classify(promisedId) != Known.IDLE) {
      this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.PUSH_PROMISE_WITH_AN_INVALID));
      return;
    }
    store.lastRemoteId = promisedId;
    const parent = store.get(parentId);
    // §6.6: the associated stream must be one we opened and the server can still send on.
    if (parent == null || !parent.local || !canReceive(parent.state)) {
      if (parent == null && store.classify(parentId) == Known.IDLE) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.PUSH_PROMISE_ON_AN_IDLE));
        return;
      }
      this.refuse(promisedId, ErrorCode.REFUSED_STREAM);
      return;
    }
    const f = this.fields;
    if (tooLarge || !this.validator.validatePushPromise(f.ptr, f.len)) {
      this.refuse(promisedId, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const promised = new Stream(false, this.remote.initialWindowSize, this.localAcked.initialWindowSize);
    promised.id = promisedId;
    promised.state = StreamState.RESERVED_REMOTE;
    promised.requestMethod = this.validator.method;
    store.insert(promised);
    this.handler.onPush(parent, promised, f.ptr, f.len);
  }

  private onRstStream(): void {
    const dec = this.decoder;
    const id = dec.streamId;
    const stream = this.store.get(id);
    if (stream == null) {
      // §6.4: RST_STREAM on an idle stream is a connection error; on a closed one, ignored.
      if (this.store.classify(id) == Known.IDLE) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.RST_STREAM_ON_AN_IDLE));
      }
      return;
    }
    if (!this.countReset()) return;
    stream.closedBy = ClosedBy.REMOTE_RESET;
    this.handler.onReset(stream, dec.code, true);
    this.finishStream(stream, ClosedBy.REMOTE_RESET);
  }

  private onSettings(): void {
    const dec = this.decoder;
    if (dec.isAck) {
      if (this.unackedSettings.length == 0) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.SETTINGS_ACK_WITHOUT_SETTINGS_SENT));
        return;
      }
      this.applyLocalSettings(this.unackedSettings.shift());
      this.clock.mark(Stamp.SETTINGS_SENT);
      this.handler.onSettingsAck();
      return;
    }
    // §6.5.3: apply in order, then acknowledge.
    const count = dec.settingsCount;
    for (let i: u32 = 0; i < count; i++) {
      if (!this.applyRemoteSetting(dec.settingId(i), dec.settingValue(i))) return;
    }
    if (!this.queueControlReply()) return;
    encodeSettingsAck(this.output);
    this.handler.onRemoteSettings();
    this.openPending();
  }

  private applyRemoteSetting(id: u16, value: u32): bool {
    const remote = this.remote;
    if (id == SettingId.INITIAL_WINDOW_SIZE) {
      // §6.9.2: every stream's send window moves by the difference; overflow is fatal.
      const delta = <i64>value - <i64>remote.initialWindowSize;
      const streams = this.store.values();
      for (let i = 0; i < streams.length; i++) {
        const s = unchecked(streams[i]);
        if (!s.sendWindow.adjust(delta)) {
          this.connectionError(ErrorCode.FLOW_CONTROL_ERROR, msg(Msg.SETTINGS_INITIAL_WINDOW_SIZE_OVERFLOWS));
          return false;
        }
        if (delta > 0) this.schedule(s);
        if (s.sendWindow.window > 0) this.stalls.remove(s);
      }
    } else if (id == SettingId.HEADER_TABLE_SIZE) {
      this.hpackOut.setMaxTableSize(value);
    }
    remote.apply(id, value);
    if (id == SettingId.INITIAL_WINDOW_SIZE) this.assignCapacity();
    return true;
  }

  /** The peer acknowledged `s`: our limits in it now bind the peer. */
  private applyLocalSettings(s: Settings): void {
    const acked = this.localAcked;
    if (s.initialWindowSize != acked.initialWindowSize) {
      const streams = this.store.values();
      for (let i = 0; i < streams.length; i++) {
        const stream = unchecked(streams[i]);
        const increment = stream.recvWindow.retarget(s.initialWindowSize);
        if (increment > 0 && canReceive(stream.state)) encodeWindowUpdate(this.output, stream.id, increment);
      }
    }
    if (s.headerTableSize != acked.headerTableSize) this.hpackIn.setMaxTableSize(s.headerTableSize);
    if (s.maxHeaderListSize != acked.maxHeaderListSize) {
      this.hpackIn.setMaxHeaderListSize(s.maxHeaderListSize);
      this.block.maxBytes = s.maxHeaderListSize;
    }
    if (s.maxFrameSize != acked.maxFrameSize) this.decoder.setMaxFrameSize(s.maxFrameSize);
    acked.copyFrom(s);
  }

  private anyUnackedEnablesPush(): bool {
    const list = this.unackedSettings;
    for (let i = 0; i < list.length; i++) if (unchecked(list[i]).enablePush) return true;
    return false;
  }

  private onPing(): void {
    const dec = this.decoder;
    if (dec.isAck) {
      const sentAt = this.pings.finish(dec.pingData);
      if (sentAt == NOT_OURS) return; // ignore
      this.clock.mark(Stamp.PING);
      if (dec.pingData == this.pings.shutdownPing && this.phase == Phase.DRAINING_PING) this.finalGoaway();
      this.handler.onPingAck(dec.pingData, sentAt == UNSTAMPED ? 0 : this.now - sentAt);
      return;
    }
    if (!this.queueControlReply()) return;
    encodePing(this.output, dec.pingData, true);
  }

  private onGoaway(): void {
    const dec = this.decoder;
    const last = dec.lastStreamId;
    this.goAway.receive(last);
    if (dec.code != ErrorCode.NO_ERROR) {
      this.errorCode = dec.code;
      this.errorMessage = msg(Msg.PEER_SENT_GOAWAY_WITH);
      this.errorRemote = true;
    }
    this.handler.onGoaway(last, dec.code, dec.payloadPtr, dec.payloadLen);
    // §6.8: our streams above `last` were not processed: refused, safe to retry.
    const streams = this.store.values();
    for (let i = 0; i < streams.length; i++) {
      const s = unchecked(streams[i]);
      if (s.local && s.id > last) {
        this.handler.onReset(s, ErrorCode.REFUSED_STREAM, true);
        this.finishStream(s, ClosedBy.REMOTE_RESET);
      }
    }
    this.failPending(ErrorCode.REFUSED_STREAM);
    this.beginDraining();
    this.maybeFinishDraining();
  }

  private onWindowUpdate(): void {
    const dec = this.decoder;
    const id = dec.streamId;
    if (id == 0) {
      if (!this.sendWindow.increase(dec.increment)) {
        this.connectionError(ErrorCode.FLOW_CONTROL_ERROR, msg(Msg.WINDOW_UPDATE_OVERFLOWS_THE_CONNECTION));
        return;
      }
      if (this.sendWindow.window > 0) this.clock.clear(Stamp.CONN_STALLED);
      this.assignCapacity();
      return; // the ring kept everyone waiting; produce() resumes
    }
    const stream = this.store.get(id);
    if (stream == null) {
      if (this.store.classify(id) == Known.IDLE) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.WINDOW_UPDATE_ON_AN_IDLE));
      }
      return;
    }
    if (stream.state == StreamState.RESERVED_REMOTE) {
      this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.WINDOW_UPDATE_ON_A_RESERVED));
      return;
    }
    if (!stream.sendWindow.increase(dec.increment)) {
      this.peerStreamError(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    if (stream.sendWindow.window > 0) this.stalls.remove(stream);
    this.schedule(stream);
    this.assignCapacity();
  }

  /** Verdict for a frame on a stream that is not live (§5.1): idle, closed or forgotten. */
  private verdictForUnknown(id: u32, type: u8): u8 {
    const store = this.store;
    const known = store.classify(id);
    if (known == Known.IDLE) {
      this.connectionError(
        ErrorCode.PROTOCOL_ERROR,
        type == FrameType.DATA ? msg(Msg.DATA_ON_AN_IDLE_STREAM) : msg(Msg.HEADERS_ON_AN_IDLE_STREAM),
      );
      return Verdict.CONNECTION_ERROR;
    }
    if (known == Known.FORGOTTEN) {
      // Not remembered: closed long ago, or an idle id skipped over (implicitly closed).
      // HEADERS there would open a stream below one already used (§5.1.1); a late DATA
      // cannot be told from one after our RST_STREAM, so resetting it is the safe answer.
      if (type == FrameType.HEADERS) {
        this.connectionError(ErrorCode.PROTOCOL_ERROR, msg(Msg.HEADERS_ON_A_STREAM_ID));
        return Verdict.CONNECTION_ERROR;
      }
      return type == FrameType.DATA ? Verdict.STREAM_ERROR : Verdict.IGNORE;
    }
    const verdict = checkReceive(StreamState.CLOSED, type, store.closedBy(id));
    const kind = verdictKind(verdict);
    if (kind == Verdict.CONNECTION_ERROR)
      this.connectionError(verdictErrorCode(verdict), msg(Msg.FRAME_ON_A_CLOSED_STREAM));
    return kind;
  }

  private applyVerdict(stream: Stream, verdict: u32): void {
    const kind = verdictKind(verdict);
    if (kind == Verdict.STREAM_ERROR) this.peerStreamError(stream, verdictErrorCode(verdict));
    else if (kind == Verdict.CONNECTION_ERROR)
      this.connectionError(verdictErrorCode(verdict), msg(Msg.FRAME_NOT_ALLOWED_IN_STATE));
  }

  /**
   * A stream error the peer caused (§5.4.2): RST_STREAM, counted with the peer's own resets
   * and refused streams (each costs us a frame, and often a request started; a peer could
   * otherwise loop on invalid frames the way Rapid Reset loops on RST_STREAM, CVE-2019-9514),
   * and with the queued control frames while the peer is not reading them.
   */
  private peerStreamError(stream: Stream, code: u32): void {
    if (!this.countReset() || !this.queueControlReply()) return;
    this.resetStream(stream, code);
  }

  private peerStreamErrorId(id: u32, code: u32): void {
    if (!this.countReset() || !this.queueControlReply()) return;
    this.resetStreamId(id, code);
  }

  /** Counts one peer reset or refused stream; false (and ENHANCE_YOUR_CALM) past the rate limit. */
  private countReset(): bool {
    return this.withinRate(this.resets, msg(Msg.TOO_MANY_STREAM_RESETS));
  }

  /** Counts one event against `limit`; false (and ENHANCE_YOUR_CALM, `why`) past it. */
  private withinRate(limit: RateLimit, why: string): bool {
    limit.update(this.now);
    if (limit.drain()) return true;
    this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, why);
    return false;
  }

  /**
   * Whether the decoded frame costs us work but carries nothing useful: DATA with no payload
   * and no END_STREAM, PRIORITY (ignored), a WINDOW_UPDATE under 1 KiB when nothing waits to
   * be sent, an empty CONTINUATION, or HEADERS with an empty fragment not ending the block.
   */
  private isGlitch(type: u8): bool {
    const dec = this.decoder;
    switch (type) {
      case FrameType.DATA:
        return dec.payloadLen == 0 && !dec.endStream;
      case FrameType.PRIORITY:
        return true;
      case FrameType.CONTINUATION:
        return dec.payloadLen == 0;
      case FrameType.HEADERS:
        return dec.payloadLen == 0 && !dec.endHeaders;
      case FrameType.WINDOW_UPDATE: {
        if (dec.increment >= 1024) return false;
        const id = dec.streamId;
        // Something to send: bytes buffered, or a stream waiting for capacity to pull more.
        if (id == 0) return this.counts.buffered == 0 && this.waitingCapacity.isEmpty;
        const stream = this.store.get(id);
        return stream == null || (stream.buffered == 0 && stream.pendingTrailers == null && !stream.waitingCapacity);
      }
      default:
        return false;
    }
  }

  /** Counts one glitch; false (and ENHANCE_YOUR_CALM) past the rate limit. */
  private countGlitch(): bool {
    return this.withinRate(this.glitches, msg(Msg.TOO_MANY_EMPTY_OR_USELESS));
  }

  /**
   * Counts one control frame the peer made us queue (SETTINGS or PING ACK, RST_STREAM for
   * its errors or refused streams); false (and ENHANCE_YOUR_CALM) when the host is not
   * draining them: the peer is not reading (CVE-2019-9512/9514/9515).
   */
  private queueControlReply(): bool {
    if (this.counts.queueControlReply(this.config.maxQueuedControlFrames)) return true;
    this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, msg(Msg.TOO_MANY_CONTROL_FRAMES_QUEUED));
    return false;
  }

  private afterReceive(): void {
    this.maybeFinishDraining();
  }

  // ---------------------------------------------------------------------------------
  // Receive-side flow control

  /** Flow-controlled bytes of a frame we drop unread: counted, then given straight back. */
  private chargeDiscarded(n: u32): bool {
    if (!this.recvWindow.receive(n)) {
      this.connectionError(ErrorCode.FLOW_CONTROL_ERROR, msg(Msg.DATA_EXCEEDS_THE_CONNECTION_WINDOW));
      return false;
    }
    this.releaseConnection(n);
    return true;
  }

  private releaseConnection(n: u32): void {
    if (n == 0) return;
    const inc = this.recvWindow.release(n);
    if (inc > 0) encodeWindowUpdate(this.output, 0, inc);
  }

  private releaseBoth(stream: Stream, n: u32): void {
    if (n == 0) return;
    this.releaseConnection(n);
    if (canReceive(stream.state)) {
      const inc = stream.recvWindow.release(n);
      if (inc > 0) encodeWindowUpdate(this.output, stream.id, inc);
    }
  }

  /**
   * Manual flow control: the application is done with `n` bytes it received on a stream
   * that has since closed (read after END_STREAM, or dropped unread). Only the connection
   * window is left to give them back to; without this it would shrink for good.
   */
  releaseClosed(n: u32): void {
    const before = this.outputLen;
    this.counts.release(n);
    this.clock.mark(Stamp.PROGRESS);
    this.syncBudget();
    if (this.phase != Phase.CLOSED) this.releaseConnection(n);
    this.touchedIfWrote(before);
  }

  /** Manual flow control: the application is done with `n` received bytes of `stream`. */
  releaseCapacity(stream: Stream, n: u32): u32 {
    if (n > stream.unreleasedBytes) return SendResult.INVALID;
    const before = this.outputLen;
    stream.unreleasedBytes -= n;
    this.counts.release(n);
    this.clock.mark(Stamp.PROGRESS);
    this.releaseBoth(stream, n);
    this.syncBudget();
    this.touchedIfWrote(before);
    return SendResult.OK;
  }

  /** A release that owed the peer a WINDOW_UPDATE needs a drive to send it, and one whose
   *  progress stamp took a stale time needs the executor to see it (it fixes the stamp at the
   *  next set_time); any other needs none (reading never waits on releases), where a drive
   *  per body read was one per request. */
  @inline private touchedIfWrote(outputBefore: u32): void {
    if (this.outputLen != outputBefore || this.stampsPending) this.handler.touched();
  }

  // ---------------------------------------------------------------------------------
  // Send: streams and heads

  /** A stream of ours, not yet opened: give it to openStream or pushPromise. */
  newLocalStream(): Stream {
    return new Stream(true, this.remote.initialWindowSize, this.localAcked.initialWindowSize);
  }

  /**
   * Client: opens `stream` (from newLocalStream) with a request head (a flat field list,
   * validated by the caller's layer as well-formed). When MAX_CONCURRENT_STREAMS is
   * reached the stream waits in a queue (bounded) and goes out when a slot frees. Returns
   * OK when it was opened or queued, or the SendResult that refused it (nghttp2's submit
   * functions answer the same way): a refused stream is the caller's to drop.
   */
  openStream(stream: Stream, fields: usize, len: u32, endStream: bool): u32 {
    this.handler.touched();
    if (this.phase != Phase.OPEN || this.goAway.received) return SendResult.CLOSED;
    if (this.nextLocalId > MAX_STREAM_ID) return SendResult.IDS_EXHAUSTED;
    if (!this.budget.streamAllowed()) return SendResult.LIMIT;
    // Our own request must be well-formed too: refuse to put a malformed one on the wire.
    if (!this.validator.validateRequest(fields, len, this.remote.enableConnectProtocol)) return SendResult.INVALID;
    stream.requestMethod = this.validator.method;
    if (this.pending.isEmpty && this.counts.mayOpenLocal(this.remote.maxConcurrentStreams))
      return this.sendRequestHead(stream, fields, len, endStream);
    if (this.pending.count >= this.config.maxPendingStreams) return SendResult.LIMIT;
    const head = new ByteBuffer();
    head.reserve(len);
    head.pushBytes(fields, len);
    stream.pendingHead = head;
    stream.pendingHeadEnd = endStream;
    this.pending.enqueue(stream);
    return SendResult.OK;
  }

  /** Server: whether no more requests will come (closed, the peer went away, or our final
   *  GOAWAY went out and only in-flight streams remain). */
  get acceptsNoMoreStreams(): bool {
    return this.phase == Phase.CLOSED || this.goAway.received || (this.goAway.sent && this.phase == Phase.DRAINING);
  }

  /** Client: whether pushed streams may still arrive (open, the peer did not go away, we
   *  allowed push). */
  get pushesMayArrive(): bool {
    return this.phase == Phase.OPEN && !this.goAway.received && this.localAcked.enablePush;
  }

  /** Client: how many of our streams wait for a concurrency slot. */
  get pendingCount(): u32 {
    return this.pending.count;
  }

  /** Client: whether a request sent now goes out at once (open, no GOAWAY received, none
   *  queued, a concurrency slot free): hyper's "ready". */
  get canOpenStreamNow(): bool {
    return (
      this.phase == Phase.OPEN &&
      !this.goAway.received &&
      this.pending.isEmpty &&
      this.counts.mayOpenLocal(this.remote.maxConcurrentStreams)
    );
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS: how many streams we may have open. */
  get peerMaxConcurrentStreams(): u32 {
    return this.remote.maxConcurrentStreams;
  }

  /** Gives `stream` the next id and writes its head: OK, or why it could not. */
  private sendRequestHead(stream: Stream, fields: usize, len: u32, endStream: bool): u32 {
    if (this.nextLocalId > MAX_STREAM_ID) return SendResult.IDS_EXHAUSTED;
    stream.id = this.nextLocalId;
    if (!this.writeHead(stream.id, fields, len, endStream)) return SendResult.LIMIT;
    this.nextLocalId += 2;
    stream.state = afterSendHeaders(StreamState.IDLE, endStream);
    this.store.insert(stream);
    this.counts.activate(stream);
    if (endStream) stream.endAfterData = true;
    return SendResult.OK;
  }

  /** Opens queued streams while the peer's MAX_CONCURRENT_STREAMS allows. */
  private openPending(): void {
    while (
      !this.pending.isEmpty &&
      this.counts.mayOpenLocal(this.remote.maxConcurrentStreams) &&
      this.phase == Phase.OPEN &&
      !this.goAway.either
    ) {
      const stream = changetype<Stream>(this.pending.dequeue());
      const head = changetype<ByteBuffer>(stream.pendingHead);
      const result = this.sendRequestHead(stream, head.ptr, head.len, stream.pendingHeadEnd);
      head.dispose();
      stream.pendingHead = null;
      if (result != SendResult.OK) {
        this.dropQueued(stream, ErrorCode.REFUSED_STREAM, false);
        continue;
      }
      this.handler.onOpened(stream);
      if (stream.buffered > 0 || stream.pendingTrailers != null) this.schedule(stream);
      if (stream.state == StreamState.CLOSED) this.finishStream(stream, ClosedBy.END_STREAM);
    }
  }

  /** Fails every queued stream (GOAWAY received, connection closing). */
  private failPending(code: u32): void {
    for (let s = this.pending.dequeue(); s != null; s = this.pending.dequeue())
      this.dropQueued(changetype<Stream>(s), code, true);
  }

  /** A stream that left the queue without being opened: it and what it buffered are gone. */
  private dropQueued(stream: Stream, code: u32, remote: bool): void {
    stream.state = StreamState.CLOSED;
    this.counts.buffered -= stream.buffered;
    this.handler.onReset(stream, code, remote);
    this.handler.onClosed(stream);
    stream.dispose();
  }

  /**
   * Server: sends a response head (1xx informational any number of times, then the
   * final one) or, after the final one, nothing else: trailers go through sendTrailers.
   */
  sendResponse(stream: Stream, fields: usize, len: u32, endStream: bool, informational: bool): u32 {
    this.handler.touched();
    if (stream.local && stream.state != StreamState.RESERVED_LOCAL) return SendResult.BAD_STATE;
    if (!stream.local && stream.state != StreamState.OPEN && stream.state != StreamState.HALF_CLOSED_REMOTE)
      return SendResult.BAD_STATE;
    if (stream.id == 0 || this.phase == Phase.CLOSED) return SendResult.BAD_STATE;
    if (informational && endStream) return SendResult.INVALID;
    // Our own response must be well-formed, and say what it claims to be.
    const v = this.validator;
    if (!v.validateResponse(fields, len, stream.requestMethod) || v.isInformational != informational)
      return SendResult.INVALID;
    if (!this.writeHead(stream.id, fields, len, endStream)) return SendResult.LIMIT;
    if (informational) return SendResult.OK;
    const wasReserved = stream.state == StreamState.RESERVED_LOCAL;
    stream.state = afterSendHeaders(stream.state, endStream);
    if (wasReserved) this.counts.activate(stream);
    stream.endAfterData = endStream;
    stream.responded = true;
    if (stream.state == StreamState.CLOSED) this.finishStream(stream, ClosedBy.END_STREAM);
    return SendResult.OK;
  }

  /**
   * Server: promises a pushed request on `parent`, reserving `promised` (from
   * newLocalStream) for its response. Returns OK, or the SendResult that refused it.
   */
  pushPromise(parent: Stream, promised: Stream, fields: usize, len: u32): u32 {
    this.handler.touched();
    if (this.role != Role.SERVER || !this.remote.enablePush) return SendResult.BAD_STATE;
    if (this.phase != Phase.OPEN || !canSend(parent.state) || parent.local) return SendResult.BAD_STATE;
    if (this.nextLocalId > MAX_STREAM_ID) return SendResult.IDS_EXHAUSTED;
    if (!this.budget.streamAllowed()) return SendResult.LIMIT;
    if (!this.validator.validatePushPromise(fields, len)) return SendResult.INVALID;
    const encoded = this.encoded;
    encoded.clear();
    if (
      headerListSize(fields, len) > <u64>this.remote.maxHeaderListSize ||
      !this.hpackOut.encode(fields, len, encoded) ||
      encodePushPromise(this.output, parent.id, this.nextLocalId, encoded.ptr, encoded.len, this.remote.maxFrameSize) !=
        EncodeResult.OK
    )
      return SendResult.LIMIT;
    promised.id = this.nextLocalId;
    this.nextLocalId += 2;
    promised.state = StreamState.RESERVED_LOCAL;
    promised.requestMethod = this.validator.method;
    this.store.insert(promised);
    return SendResult.OK;
  }

  /** HPACK-encodes a field list and writes HEADERS (+ CONTINUATION) for `id`. */
  private writeHead(id: u32, fields: usize, len: u32, endStream: bool): bool {
    // The peer's SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2): advisory, but a head past it
    // would only be refused; better to fail here with a clear LIMIT.
    if (headerListSize(fields, len) > <u64>this.remote.maxHeaderListSize) return false;
    this.clock.mark(Stamp.STREAM_FRAME);
    const encoded = this.encoded;
    encoded.clear();
    if (!this.hpackOut.encode(fields, len, encoded)) return false;
    return (
      encodeHeaders(this.output, id, encoded.ptr, encoded.len, endStream, this.remote.maxFrameSize) == EncodeResult.OK
    );
  }

  // ---------------------------------------------------------------------------------
  // Send: data, trailers, reset (the h2 crate's SendStream)

  /**
   * Queues `len` bytes for `stream`, END_STREAM after them when `endStream`. Refused
   * with LIMIT (nothing queued) when the stream's or the connection's send buffer cap
   * would be passed: wait for capacity and try again.
   */
  sendData(stream: Stream, data: usize, len: u32, endStream: bool): u32 {
    this.handler.touched();
    if (!this.canSendBody(stream)) return SendResult.BAD_STATE;
    if (!this.mayBufferData(stream, len)) return SendResult.LIMIT;
    const counts = this.counts;
    if (len > 0) {
      let b = stream.sendBuffer;
      if (b == null) {
        b = new ByteBuffer(this.config.maxStreamSendBuffer);
        stream.sendBuffer = b;
      }
      // Bytes already framed sit at the front until the buffer drains; move the rest
      // down first when they would make the buffer grow (or hit its cap) for nothing.
      if (stream.sendOffset > 0 && b.len + len > b.cap) {
        const rest = b.len - stream.sendOffset;
        memory.copy(b.ptr, b.ptr + stream.sendOffset, rest);
        b.len = rest;
        stream.sendOffset = 0;
      }
      if (!b.reserve(len)) return SendResult.LIMIT;
      b.pushBytes(data, len);
      counts.buffered += len;
      stream.reserved = stream.reserved > len ? stream.reserved - len : 0;
      const used = min(len, stream.assigned);
      stream.assigned -= used;
      counts.assigned -= used;
    }
    if (endStream) stream.endAfterData = true;
    this.schedule(stream);
    this.syncBudget();
    return SendResult.OK;
  }

  /** Sends trailers (END_STREAM) after whatever data is still buffered. */
  sendTrailers(stream: Stream, fields: usize, len: u32): u32 {
    this.handler.touched();
    if (!this.canSendBody(stream)) return SendResult.BAD_STATE;
    if (!this.validator.validateTrailers(fields, len)) return SendResult.INVALID;
    const t = new ByteBuffer();
    if (!t.reserve(len)) return SendResult.LIMIT;
    t.pushBytes(fields, len);
    stream.pendingTrailers = t;
    stream.endAfterData = true;
    this.schedule(stream);
    return SendResult.OK;
  }

  private canSendBody(stream: Stream): bool {
    if (this.phase == Phase.CLOSED || stream.endAfterData || stream.pendingTrailers != null) return false;
    if (stream.pendingHead != null) return true; // queued: data waits with it
    if (!stream.local && !stream.responded) return false; // a server sends its head first
    return canSend(stream.state);
  }

  /** Resets `stream` with `code` (RST_STREAM) and forgets it. */
  resetStream(stream: Stream, code: u32): void {
    this.handler.touched();
    if (stream.state == StreamState.CLOSED && stream.id != 0 && this.store.get(stream.id) == null) return;
    if (stream.pendingHead != null) {
      this.pending.leave(stream);
      this.dropQueued(stream, code, false);
      return;
    }
    if (stream.id != 0 && this.phase != Phase.CLOSED) encodeRstStream(this.output, stream.id, code);
    stream.closedBy = ClosedBy.LOCAL_RESET;
    this.handler.onReset(stream, code, false);
    this.finishStream(stream, ClosedBy.LOCAL_RESET);
  }

  /** Resets a stream known only by id (decoder stream errors, late frames). */
  private resetStreamId(id: u32, code: u32): void {
    const stream = this.store.get(id);
    if (stream != null) {
      this.resetStream(stream, code);
      return;
    }
    if (this.phase == Phase.CLOSED) return;
    encodeRstStream(this.output, id, code);
    if (this.store.classify(id) == Known.IDLE && !this.store.isLocalId(id)) this.store.lastRemoteId = id;
    this.store.remember(id, ClosedBy.LOCAL_RESET);
  }

  /** Refuses a stream the peer opened without ever creating it. */
  private refuse(id: u32, code: u32): void {
    if (!this.countReset() || !this.queueControlReply()) return;
    encodeRstStream(this.output, id, code);
    this.store.remember(id, ClosedBy.LOCAL_RESET);
  }

  /** The stream reached CLOSED: release its slot and buffers, tell the handler. */
  private finishStream(stream: Stream, how: u8): void {
    if (this.store.get(stream.id) != stream) return;
    stream.closedBy = how;
    stream.state = StreamState.CLOSED;
    const counts = this.counts;
    counts.buffered -= stream.buffered;
    this.queue.remove(stream);
    this.waitingCapacity.remove(stream);
    this.stalls.remove(stream);
    counts.assigned -= stream.assigned;
    const gaveBack = stream.assigned > 0;
    stream.assigned = 0;
    counts.deactivate(stream);
    this.store.close(stream);
    if (this.store.size == 0) this.clock.mark(Stamp.IDLE_SINCE);
    this.handler.onClosed(stream);
    stream.dispose();
    this.syncBudget();
    if (gaveBack) this.assignCapacity();
    this.openPending();
    this.maybeFinishDraining();
  }

  private closeAllStreams(code: u32): void {
    const streams = this.store.values();
    for (let i = 0; i < streams.length; i++) {
      const s = unchecked(streams[i]);
      this.handler.onReset(s, code, false);
      this.finishStream(s, ClosedBy.LOCAL_RESET);
    }
    this.failPending(code);
  }

  // ---------------------------------------------------------------------------------
  // Send: capacity (the h2 crate's reserve_capacity / capacity / poll_capacity)

  /**
   * Asks for `n` bytes of send capacity on `stream`, the most it wants assigned at once
   * (not additive: it replaces the earlier request; 0 gives back what was assigned).
   */
  reserveCapacity(stream: Stream, n: u32): void {
    this.handler.touched();
    stream.reserved = n;
    if (stream.assigned > n) {
      this.counts.assigned -= stream.assigned - n;
      stream.assigned = n;
    }
    if (n > stream.assigned && this.canSendBody(stream)) this.waitingCapacity.push(stream);
    else this.waitingCapacity.remove(stream);
    this.assignCapacity();
    this.syncBudget();
  }

  /** Capacity assigned to `stream` and not yet used: what it may send now (0 once it cannot send). */
  capacity(stream: Stream): u32 {
    return this.canSendBody(stream) ? stream.assigned : 0;
  }

  /**
   * Hands out send capacity to the streams waiting for it, in the order they asked, as
   * far as their windows, the connection's window, the send-buffer caps and the
   * transport (capacityHighWater) allow. Each stream assigned more hears onCapacity.
   */
  assignCapacity(): void {
    const waiting = this.waitingCapacity;
    if (waiting.isEmpty || this.phase == Phase.CLOSED) return;
    const c = this.config;
    const counts = this.counts;
    const unframed = <i64>counts.unframed;
    let connRoom = min<i64>(
      <i64>c.capacityHighWater - (<i64>this.outputLen + unframed),
      counts.bufferRoom(c.maxConnectionSendBuffer),
    );
    connRoom = min<i64>(connRoom, this.sendWindow.window - unframed);
    // Streams wait and the peer keeps the connection window shut: the send stall clock runs
    // (as when buffered DATA finds it shut in produce()).
    if (this.sendWindow.window <= 0) this.clock.markOnce(Stamp.CONN_STALLED);
    const assignedBefore = counts.assigned;
    const budgetRoom = this.budget.sendRoom();
    if (<u64>max<i64>(connRoom, 0) > budgetRoom) {
      connRoom = <i64>budgetRoom;
      if (budgetRoom == 0) this.budget.press();
    }
    let s = waiting.first;
    while (s != null && connRoom > 0) {
      const next = waiting.next(s);
      if (!this.canSendBody(s) || s.reserved <= s.assigned) {
        waiting.remove(s);
      } else {
        const used = <i64>s.buffered + <i64>s.assigned;
        if (s.sendWindow.window <= 0) this.stalls.stall(s, this.clock.stamp());
        let room = min<i64>(s.sendWindow.window - used, <i64>c.maxStreamSendBuffer - used);
        room = min<i64>(min<i64>(room, connRoom), <i64>(s.reserved - s.assigned));
        if (room > 0) {
          s.assigned += <u32>room;
          counts.assigned += <u32>room;
          connRoom -= room;
          if (s.assigned >= s.reserved) waiting.remove(s);
          this.handler.onCapacity(s, s.assigned);
        }
      }
      s = next;
    }
    if (counts.assigned != assignedBefore) this.syncBudget();
  }

  // ---------------------------------------------------------------------------------
  // Send: the DATA scheduler

  private schedule(stream: Stream): void {
    if (stream.id == 0 || stream.pendingHead != null) return;
    if (stream.buffered > 0 || (stream.endAfterData && canSend(stream.state))) this.queue.push(stream);
  }

  /**
   * Frames buffered DATA (and the trailers / END_STREAM after it) into `output`, one
   * frame per stream per turn (round robin, so a large body cannot starve small ones),
   * while the windows allow and the output is under its high-water mark.
   */
  produce(): void {
    const queue = this.queue;
    const out = this.output;
    const highWater = this.config.outputHighWater;
    const maxFrame = this.remote.maxFrameSize;
    let framed = false;
    while (this.outputLen < highWater && this.phase != Phase.CLOSED) {
      const stream = queue.pop();
      if (stream == null) break;
      const buffered = stream.buffered;
      if (buffered > 0) {
        const connRoom = this.sendWindow.available;
        if (connRoom == 0) {
          queue.pushFront(stream); // everyone waits for the connection WINDOW_UPDATE
          this.clock.markOnce(Stamp.CONN_STALLED);
          break;
        }
        // Padding (chosen per stream, §6.1) counts against the windows and the frame size.
        const pad = stream.padding;
        const overhead: u32 = pad >= 0 ? <u32>pad + 1 : 0;
        const room = min(min(stream.sendWindow.available, connRoom), maxFrame);
        const n = room > overhead ? min(buffered, room - overhead) : 0;
        if (n == 0) {
          // Out of the ring until its own WINDOW_UPDATE; timed while the peer keeps it shut.
          if (stream.sendWindow.window <= 0) this.stalls.stall(stream, this.clock.stamp());
          continue;
        }
        const last = n == buffered;
        const end = last && stream.endAfterData && stream.pendingTrailers == null;
        const b = changetype<ByteBuffer>(stream.sendBuffer);
        if (encodeData(out, stream.id, b.ptr + stream.sendOffset, n, end, pad) != EncodeResult.OK) {
          queue.pushFront(stream);
          break;
        }
        stream.sendWindow.consume(n + overhead);
        this.sendWindow.consume(n + overhead);
        framed = true;
        stream.sendOffset += n;
        this.counts.buffered -= n;
        if (last) {
          // Drained: give the memory back. A stream that waits (a window shut, a slow
          // transport) holds no buffer sized for the bytes it sent before.
          b.dispose();
          stream.sendBuffer = null;
          stream.sendOffset = 0;
        }
        if (end) {
          this.endSent(stream);
          continue;
        }
        if (!last) {
          queue.push(stream);
          continue;
        }
      }
      // The buffer drained: trailers or a bare END_STREAM may follow.
      const trailers = stream.pendingTrailers;
      if (trailers != null) {
        const ok = this.writeHead(stream.id, trailers.ptr, trailers.len, true);
        trailers.dispose();
        stream.pendingTrailers = null;
        if (!ok) {
          this.resetStream(stream, ErrorCode.INTERNAL_ERROR);
          continue;
        }
        this.endSent(stream);
      } else if (stream.endAfterData && canSend(stream.state)) {
        encodeData(out, stream.id, 0, 0, true);
        this.endSent(stream);
      }
    }
    if (framed) this.clock.mark(Stamp.STREAM_FRAME);
    this.syncBudget();
  }

  /** Whether `len` more bytes fit the stream's and the connection's send buffers and,
   *  past what was assigned to the stream, the instance's budget. */
  private mayBufferData(stream: Stream, len: u32): bool {
    if (
      <u64>stream.buffered + <u64>len > <u64>this.config.maxStreamSendBuffer ||
      !this.counts.mayBuffer(len, this.config.maxConnectionSendBuffer)
    ) {
      return false;
    }
    if (len > stream.assigned && <u64>(len - stream.assigned) > this.budget.sendRoom()) {
      this.budget.press();
      return false;
    }
    return true;
  }

  /**
   * Server: a whole response in one call — HEADERS, then the body with END_STREAM. A body
   * the windows take in one frame goes straight into the output after the head (no send
   * buffer, no scheduling round); a larger one is queued as sendData queues it. Refused
   * before anything is written when it could be neither, so a LIMIT leaves the stream as
   * it was.
   */
  respondWhole(stream: Stream, fields: usize, len: u32, body: usize, bodyLen: u32): u32 {
    if (bodyLen == 0) return this.sendResponse(stream, fields, len, true, false);
    // Checked before the head goes, whichever way the body then takes: a LIMIT sends nothing.
    if (!this.mayBufferData(stream, bodyLen)) return SendResult.LIMIT;
    const head = this.sendResponse(stream, fields, len, false, false);
    if (head != SendResult.OK) return head;
    // Straight into the output while it is under its high-water mark, as produce() frames.
    const direct =
      stream.padding < 0 && this.outputLen < this.config.outputHighWater && bodyLen <= this.externalAllowance(stream);
    if (direct && encodeData(this.output, stream.id, body, bodyLen, true) == EncodeResult.OK) {
      this.externalSent(stream, bodyLen, true);
      return SendResult.OK;
    }
    if (this.sendData(stream, body, bodyLen, true) == SendResult.OK) return SendResult.OK;
    // Only out of memory gets here (the caps were checked): the head is out, the stream goes.
    this.resetStream(stream, ErrorCode.INTERNAL_ERROR);
    return SendResult.BAD_STATE;
  }

  /**
   * Zero-copy DATA (nghttp2's NO_COPY): how many bytes one frame written by the host
   * itself may carry now on `stream` — 0 unless the stream can send, has nothing
   * buffered ahead of it, and both windows are open.
   */
  externalAllowance(stream: Stream): u32 {
    if (!canSend(stream.state) || stream.buffered > 0 || stream.pendingTrailers != null || stream.pendingHead != null)
      return 0;
    return min(min(stream.sendWindow.available, this.sendWindow.available), this.remote.maxFrameSize);
  }

  /** The host wrote a DATA frame of `n` payload bytes for `stream` itself: account for it. */
  externalSent(stream: Stream, n: u32, endStream: bool): void {
    stream.sendWindow.consume(n);
    this.sendWindow.consume(n);
    if (endStream) this.endSent(stream);
  }

  private endSent(stream: Stream): void {
    stream.state = afterSendEnd(stream.state);
    if (stream.state == StreamState.CLOSED) this.finishStream(stream, ClosedBy.END_STREAM);
  }

  // ---------------------------------------------------------------------------------
  // Connection-level: PING, GOAWAY, shutdown, errors

  /** Sends a PING of ours; returns its opaque data (0 when too many are in flight). */
  ping(): u64 {
    this.handler.touched();
    if (this.phase == Phase.CLOSED) return 0;
    const sentAt = this.clock.stamp();
    const d = this.pings.start(sentAt);
    if (d == 0) return 0;
    encodePing(this.output, d, false);
    this.clock.put(Stamp.PING, sentAt);
    return d;
  }

  /** Sends GOAWAY with our last processed stream and `code`; no new streams after it. */
  goaway(code: u32, message: string): void {
    this.handler.touched();
    if (this.phase == Phase.CLOSED) return;
    // §6.8: a later GOAWAY never names a higher last stream than an earlier one.
    this.goAway.send(this.store.lastRemoteId);
    const last = this.goAway.lastId;
    const msg = String.UTF8.encode(message);
    encodeGoaway(this.output, last, code, changetype<usize>(msg), <u32>msg.byteLength);
    this.beginDraining();
    this.failPending(ErrorCode.REFUSED_STREAM);
  }

  /**
   * Graceful shutdown (§6.8): GOAWAY with 2^31-1 so the peer stops opening streams, one
   * PING round trip for in-flight HEADERS to land, then GOAWAY with the real last stream
   * id; in-flight streams finish; then the connection closes.
   */
  gracefulShutdown(): void {
    this.handler.touched();
    if (this.phase != Phase.OPEN) return;
    this.clock.mark(Stamp.SHUTDOWN);
    if (this.role == Role.CLIENT) {
      this.goaway(ErrorCode.NO_ERROR, '');
      this.maybeFinishDraining();
      return;
    }
    encodeGoaway(this.output, MAX_STREAM_ID, ErrorCode.NO_ERROR, 0, 0);
    this.goAway.announce();
    this.phase = Phase.DRAINING_PING;
    const d = this.ping();
    this.pings.shutdownPing = d;
    if (d == 0) this.finalGoaway();
  }

  private finalGoaway(): void {
    this.goaway(ErrorCode.NO_ERROR, '');
    // The shutdown's second step: from here only in-flight streams remain.
    if (this.phase == Phase.DRAINING_PING) this.phase = Phase.DRAINING;
    this.maybeFinishDraining();
  }

  /** Closes at once: GOAWAY with `code`, every stream reset. */
  abort(code: u32, message: string): void {
    this.connectionError(code, message);
  }

  private maybeFinishDraining(): void {
    if (this.phase == Phase.DRAINING && this.store.size == 0 && this.pending.isEmpty) this.enterClosed();
  }

  /** No new streams from here (a GOAWAY either way): the in-flight ones finish within
   *  gracefulTimeout. A graceful shutdown waiting for its PING stays there: its final
   *  GOAWAY still has to go out (finalGoaway moves it on). */
  private beginDraining(): void {
    if (this.phase == Phase.OPEN) this.phase = Phase.DRAINING;
    this.clock.markOnce(Stamp.SHUTDOWN);
  }

  /** Done: nothing more is read or produced; what is in `output` goes out within the close linger. */
  private enterClosed(): void {
    if (this.phase == Phase.CLOSED) return;
    this.phase = Phase.CLOSED;
    this.leaving = true;
    this.clock.mark(Stamp.CLOSED);
  }

  /** A connection error (§5.4.1): GOAWAY with `code`, then closed. */
  connectionError(code: u32, message: string): void {
    this.handler.touched();
    if (this.phase == Phase.CLOSED) return;
    if (this.errorCode == ErrorCode.NO_ERROR) {
      this.errorCode = code;
      this.errorMessage = message;
      this.errorRemote = false;
    }
    this.goaway(code, message);
    this.closeAllStreams(code == ErrorCode.NO_ERROR ? ErrorCode.CANCEL : code);
    this.enterClosed();
    this.handler.onConnectionError(code, message, false);
  }

  /** Frees every buffer the engine owns; the engine must not be used afterwards. */
  dispose(): void {
    // What it held leaves the instance's budget with it.
    this.budget.account(this, 0, 0);
    this.store.release();
    this.budget.leave(this);
    const streams = this.store.values();
    for (let i = 0; i < streams.length; i++) unchecked(streams[i]).dispose();
    for (let s = this.pending.first; s != null; s = this.pending.next(changetype<Stream>(s)))
      changetype<Stream>(s).dispose();
    this.output.dispose();
    this.fields.dispose();
    this.encoded.dispose();
    this.block.dispose();
    this.decoder.dispose();
    this.hpackIn.dispose();
    this.hpackOut.dispose();
  }
}

/** A field list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it: name + value + 32 per field. */
function headerListSize(fields: usize, len: u32): u64 {
  const end = fields + <usize>len;
  let total: u64 = 0;
  for (let p = fields; p < end; p = nextField(p)) total += <u64>fieldNameLen(p) + <u64>fieldValueLen(p) + 32;
  return total;
}

/** The earlier of two deadlines, either of which may be NO_DEADLINE (-1). */
@inline function earliest(a: i64, b: i64): i64 {
  return a < 0 ? b : b < 0 ? a : min(a, b);
}
