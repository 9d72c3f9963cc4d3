// Incremental frame decoder (RFC 9113 §4, §6): bytes go in as arbitrary chunks, whole
// validated frames come out one at a time.
//
// Use (push design):
//
//   let p = chunk, n = chunkLen;
//   while (n > 0) {
//     const used = dec.push(p, n);          // stops right after one event
//     p += used; n -= used;
//     if (dec.status == DecodeStatus.FRAME) handleFrame(dec);
//     else if (dec.status == DecodeStatus.STREAM_ERROR) {
//       if (dec.frameReady) handleFrame(dec);  // HEADERS: still feed its block to HPACK
//       resetStream(dec.errorStreamId, dec.errorCode);
//     } else if (dec.status == DecodeStatus.CONNECTION_ERROR) { goAway(dec.errorCode); break; }
//   }                                       // NEED_MORE: every byte was taken
//
// Lifetimes: every field describes the frame of the last push() and is overwritten by the
// next push(). `payloadPtr`/`rawPtr` point either into the chunk given to the push() that
// completed the frame (`payloadInChunk`, zero copy: the whole payload was in that chunk)
// or into the decoder's own buffer (one copy, when the payload spanned chunks). Either
// way they are valid until the next push() or dispose(), and in the first case only as
// long as the caller leaves its chunk alone.
//
// Memory: one decoder per connection. The payload buffer grows (rarely) to the largest
// frame seen, never past maxFrameSize; nothing else is allocated per frame.
//
// What is checked: every §4 and §6 rule that the frames alone decide (see rules.ts,
// settings.ts and finish*() below). Not checked, because they need stream or connection
// state: frames on idle/closed streams (§5.1, §6.1 STREAM_CLOSED, §6.4 RST_STREAM on idle),
// PUSH_PROMISE when we disabled push or on a stream we did not open (§6.6), flow-control
// windows (§6.9), SETTINGS ACK timing, stream-id ordering and parity of new streams (§5.1.1).
import {
  ErrorCode,
  Flag,
  FrameType,
  FRAME_HEADER_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  MAX_MAX_FRAME_SIZE,
  MIN_MAX_FRAME_SIZE,
  PRIORITY_PAYLOAD_SIZE,
  PROMISED_ID_SIZE,
  Role,
  SETTING_ENTRY_SIZE,
  knownFlags,
} from './constants';
import { ErrorKind, FrameError } from './errors';
import {
  headerFlags,
  headerLength,
  headerStreamId,
  headerType,
  readU16BE,
  readU31BE,
  readU32BE,
  readU64BE,
} from './header';
import { checkHeader, isKnownType } from './rules';
import { checkSetting } from './settings';
import { ByteBuffer } from '../util/bytes';
import { Msg } from '../util/messages';

/** What the last push() produced. */
export namespace DecodeStatus {
  /** No event: all the bytes given were consumed (a frame may be part-way). */
  export const NEED_MORE: u8 = 0;
  /** A whole valid frame is described by the decoder's fields. */
  export const FRAME: u8 = 1;
  /** A stream error (`errorCode`, `errorStreamId`); decoding continues. */
  export const STREAM_ERROR: u8 = 2;
  /** A connection error; push() takes no more bytes. */
  export const CONNECTION_ERROR: u8 = 3;
}

// Where the decoder is inside the byte stream.
namespace State {
  export const HEADER: u8 = 0; // collecting the 9-byte header
  export const PAYLOAD: u8 = 1; // collecting a payload
  export const SKIP: u8 = 2; // discarding a payload unread
  export const DEAD: u8 = 3; // after a connection error
}

export class FrameDecoder {
  // ---- configuration ----
  /** Our SETTINGS_MAX_FRAME_SIZE; change it with setMaxFrameSize(). */
  private _maxFrameSize: u32 = DEFAULT_MAX_FRAME_SIZE;
  /** Role.CLIENT / Role.SERVER enables the role checks of §6.5.2 and §8.4. */
  role: u8 = Role.ANY;

  // ---- result of the last push() ----
  status: u8 = DecodeStatus.NEED_MORE;
  /** True when the frame fields describe a frame the caller must process (FRAME, or a
   *  HEADERS whose stream error still requires its field block to be decoded). */
  frameReady: bool = false;
  readonly error: FrameError = new FrameError();

  // ---- the frame header (also valid with a STREAM_ERROR raised from the header) ----
  type: u8 = 0;
  /** Flags this type defines; unknown bits cleared (§4.1). */
  flags: u8 = 0;
  /** Flags as received. */
  rawFlags: u8 = 0;
  /** Stream identifier, reserved bit dropped (§4.1). */
  streamId: u32 = 0;
  /** Payload length from the header. */
  length: u32 = 0;

  // ---- payload ----
  /** Start of the whole payload as received. */
  rawPtr: usize = 0;
  /** The frame's variable part, fixed fields and padding stripped: DATA data,
   *  HEADERS/PUSH_PROMISE/CONTINUATION field block fragment, GOAWAY debug data,
   *  PING opaque data, SETTINGS entries. */
  payloadPtr: usize = 0;
  payloadLen: u32 = 0;
  /** Whether payloadPtr points into the caller's chunk (else into our buffer). */
  payloadInChunk: bool = false;
  /** Pad Length of a PADDED frame, else 0. */
  padLength: u32 = 0;

  // ---- type-specific fields (0 / false when not present) ----
  /** HEADERS with the PRIORITY flag, and PRIORITY frames. */
  hasPriority: bool = false;
  exclusive: bool = false;
  dependency: u32 = 0;
  /** Priority weight 1..256 (the wire byte plus one). */
  weight: u32 = 0;
  /** RST_STREAM and GOAWAY error code. */
  code: u32 = 0;
  /** GOAWAY last stream id. */
  lastStreamId: u32 = 0;
  /** WINDOW_UPDATE increment (reserved bit dropped). */
  increment: u32 = 0;
  /** PUSH_PROMISE promised stream id. */
  promisedId: u32 = 0;
  /** PING opaque data, big-endian (the 8 bytes are also at payloadPtr). */
  pingData: u64 = 0;
  /** SETTINGS entry count; read entries with settingId(i) / settingValue(i). */
  settingsCount: u32 = 0;

  // ---- counters (for flood limits above us) ----
  /** Frames of unknown type skipped so far. */
  ignoredFrames: u32 = 0;

  // ---- internal state ----
  private state: u8 = State.HEADER;
  private hdr: usize = heap.alloc(FRAME_HEADER_SIZE);
  private hdrHave: u32 = 0;
  private buf: ByteBuffer;
  private skipLeft: u32 = 0;
  private continuationFor: u32 = 0;

  /** `initialBuffer` preallocates the payload buffer (it grows on demand otherwise). */
  constructor(initialBuffer: u32 = 0) {
    this.buf = new ByteBuffer(MAX_MAX_FRAME_SIZE, min<u32>(initialBuffer, MAX_MAX_FRAME_SIZE));
  }

  // ---- configuration ----

  @inline get maxFrameSize(): u32 {
    return this._maxFrameSize;
  }

  /** Sets our SETTINGS_MAX_FRAME_SIZE (apply once the peer ACKed it); false when outside
   *  [2^14, 2^24-1] (§6.5.2), nothing changed. */
  setMaxFrameSize(n: u32): bool {
    if (n < MIN_MAX_FRAME_SIZE || n > MAX_MAX_FRAME_SIZE) return false;
    this._maxFrameSize = n;
    return true;
  }

  // ---- convenience views of the current frame ----

  @inline get endStream(): bool {
    return (this.type == FrameType.DATA || this.type == FrameType.HEADERS) && (this.flags & Flag.END_STREAM) != 0;
  }
  @inline get endHeaders(): bool {
    return (this.flags & Flag.END_HEADERS) != 0;
  }
  @inline get isAck(): bool {
    return (this.type == FrameType.SETTINGS || this.type == FrameType.PING) && (this.flags & Flag.ACK) != 0;
  }
  @inline get isPadded(): bool {
    return (this.flags & Flag.PADDED) != 0;
  }
  /** DATA bytes that count against flow control (§6.1): the whole payload, Pad Length
   *  and padding included. Also set when a DATA frame gets a stream error from its header,
   *  so the connection window can still be charged (§6.9). 0 for other types. */
  @inline get flowControlledLength(): u32 {
    return this.type == FrameType.DATA ? this.length : 0;
  }

  /** Identifier of SETTINGS entry i (0 <= i < settingsCount). */
  settingId(i: u32): u16 {
    return i < this.settingsCount ? readU16BE(this.rawPtr + i * SETTING_ENTRY_SIZE) : 0;
  }
  /** Value of SETTINGS entry i (0 <= i < settingsCount). */
  settingValue(i: u32): u32 {
    return i < this.settingsCount ? readU32BE(this.rawPtr + i * SETTING_ENTRY_SIZE + 2) : 0;
  }

  /** The stream whose field block is open (a CONTINUATION must come next), else 0. */
  @inline get expectingContinuationFor(): u32 {
    return this.continuationFor;
  }

  @inline get errorCode(): u32 {
    return this.error.code;
  }
  @inline get errorStreamId(): u32 {
    return this.error.streamId;
  }
  @inline get isConnectionError(): bool {
    return this.error.kind == ErrorKind.CONNECTION;
  }
  @inline get errorMessage(): string {
    return this.error.message;
  }
  /** Bytes reserved for payloads that span chunks (for tests and memory accounting). */
  @inline get bufferCapacity(): u32 {
    return this.buf.cap;
  }

  // ---- input ----

  /**
   * Consumes bytes from [ptr, ptr+len) up to and including the end of the next event
   * (a frame or an error) and returns how many it took. With status NEED_MORE it took
   * them all. After a connection error it takes nothing (returns 0).
   */
  push(ptr: usize, len: u32): u32 {
    this.frameReady = false;
    if (this.state == State.DEAD) {
      this.status = DecodeStatus.CONNECTION_ERROR;
      return 0;
    }
    this.status = DecodeStatus.NEED_MORE;
    this.error.clear();
    let pos: u32 = 0;
    while (true) {
      const state = this.state;
      if (state == State.SKIP) {
        const n = min<u32>(this.skipLeft, len - pos);
        pos += n;
        this.skipLeft -= n;
        if (this.skipLeft != 0) return pos;
        this.state = State.HEADER;
        continue;
      }
      if (state == State.HEADER) {
        const avail = len - pos;
        let h: usize;
        if (this.hdrHave == 0 && avail >= FRAME_HEADER_SIZE) {
          h = ptr + pos; // whole header in the chunk: read it in place
          pos += FRAME_HEADER_SIZE;
        } else {
          if (avail == 0) return pos;
          const n = min<u32>(FRAME_HEADER_SIZE - this.hdrHave, avail);
          memory.copy(this.hdr + this.hdrHave, ptr + pos, n);
          this.hdrHave += n;
          pos += n;
          if (this.hdrHave < FRAME_HEADER_SIZE) return pos;
          this.hdrHave = 0;
          h = this.hdr;
        }
        this.beginFrame(h);
        if (this.status != DecodeStatus.NEED_MORE) return pos; // error from the header
        continue; // PAYLOAD, or SKIP for an unknown type
      }
      // State.PAYLOAD
      const length = this.length;
      const avail = len - pos;
      let p: usize;
      if (this.buf.len == 0 && avail >= length) {
        p = ptr + pos; // whole payload in the chunk: zero copy
        pos += length;
        this.payloadInChunk = true;
      } else {
        if (avail == 0) return pos;
        if (this.buf.len == 0) this.buf.reserve(length); // cannot fail: length <= 2^24-1
        const n = min<u32>(length - this.buf.len, avail);
        this.buf.pushBytes(ptr + pos, n);
        pos += n;
        if (this.buf.len < length) return pos;
        p = this.buf.ptr;
        this.buf.clear();
        this.payloadInChunk = false;
      }
      this.state = State.HEADER;
      this.finishFrame(p);
      return pos;
    }
    return pos; // unreachable
  }

  /** Back to the start of a connection (keeps configuration and buffer memory). */
  reset(): void {
    this.state = State.HEADER;
    this.hdrHave = 0;
    this.skipLeft = 0;
    this.continuationFor = 0;
    this.buf.clear();
    this.status = DecodeStatus.NEED_MORE;
    this.frameReady = false;
    this.error.clear();
    this.ignoredFrames = 0;
  }

  /** Frees the buffers; the decoder must not be used afterwards. */
  dispose(): void {
    this.buf.dispose();
    if (this.hdr != 0) heap.free(this.hdr);
    this.hdr = 0;
    this.state = State.DEAD;
  }

  // ---- internals ----

  // Reads a complete header and judges it; leaves state PAYLOAD or SKIP, or raises.
  private beginFrame(h: usize): void {
    const type = headerType(h);
    const rawFlags = headerFlags(h);
    const length = headerLength(h);
    const streamId = headerStreamId(h);
    this.type = type;
    this.rawFlags = rawFlags;
    this.flags = rawFlags & knownFlags(type);
    this.streamId = streamId;
    this.length = length;
    this.clearFields();

    if (
      !checkHeader(this.error, type, this.flags, streamId, length, this._maxFrameSize, this.continuationFor, this.role)
    ) {
      this.raise(true); // a stream error leaves state SKIP: the payload is never buffered
      return;
    }
    if (!isKnownType(type)) {
      this.ignoredFrames++;
      this.skip(length);
      return;
    }
    this.state = State.PAYLOAD;
  }

  @inline private skip(n: u32): void {
    this.skipLeft = n;
    this.state = State.SKIP;
  }

  // Turns the error just recorded into the status, and into the decoder's next state.
  // `payloadPending`: raised from the header, so the payload is still to be discarded.
  private raise(payloadPending: bool): void {
    if (this.error.kind == ErrorKind.CONNECTION) {
      this.status = DecodeStatus.CONNECTION_ERROR;
      this.state = State.DEAD;
      this.continuationFor = 0;
    } else {
      this.status = DecodeStatus.STREAM_ERROR;
      if (payloadPending) this.skip(this.length);
    }
  }

  private clearFields(): void {
    this.rawPtr = 0;
    this.payloadPtr = 0;
    this.payloadLen = 0;
    this.payloadInChunk = false;
    this.padLength = 0;
    this.hasPriority = false;
    this.exclusive = false;
    this.dependency = 0;
    this.weight = 0;
    this.code = 0;
    this.lastStreamId = 0;
    this.increment = 0;
    this.promisedId = 0;
    this.pingData = 0;
    this.settingsCount = 0;
  }

  // The payload is complete at p: read the type's fields and judge the payload rules.
  private finishFrame(p: usize): void {
    this.rawPtr = p;
    this.payloadPtr = p;
    this.payloadLen = this.length;
    let ok = true;
    switch (this.type) {
      case FrameType.DATA:
        ok = this.finishData(p);
        break;
      case FrameType.HEADERS:
        ok = this.finishHeaders(p);
        break;
      case FrameType.PRIORITY:
        ok = this.finishPriority(p);
        break;
      case FrameType.RST_STREAM:
        this.code = readU32BE(p);
        this.payloadLen = 0;
        break;
      case FrameType.SETTINGS:
        ok = this.finishSettings(p);
        break;
      case FrameType.PUSH_PROMISE:
        ok = this.finishPushPromise(p);
        break;
      case FrameType.PING:
        this.pingData = readU64BE(p);
        break;
      case FrameType.GOAWAY:
        this.finishGoaway(p);
        break;
      case FrameType.WINDOW_UPDATE:
        ok = this.finishWindowUpdate(p);
        break;
      // CONTINUATION: the payload is all fragment.
    }
    if (ok) {
      this.status = DecodeStatus.FRAME;
      this.frameReady = true;
    } else {
      this.raise(false);
    }
    if (this.frameReady) this.trackFieldBlock();
  }

  // §4.3: after HEADERS/PUSH_PROMISE without END_HEADERS only CONTINUATIONs of that
  // stream may follow, until one carries END_HEADERS.
  private trackFieldBlock(): void {
    const type = this.type;
    if (type == FrameType.HEADERS || type == FrameType.PUSH_PROMISE || type == FrameType.CONTINUATION) {
      this.continuationFor = (this.flags & Flag.END_HEADERS) != 0 ? 0 : this.streamId;
    }
  }

  // Strips padding from the part of the payload after `fixed` bytes of fields that follow
  // the Pad Length. §6.1/§6.2/§6.6: padding that does not fit is a PROTOCOL_ERROR.
  private stripPadding(p: usize, fixed: u32): bool {
    const length = this.length;
    let start: u32 = fixed;
    let pad: u32 = 0;
    if ((this.flags & Flag.PADDED) != 0) {
      pad = <u32>load<u8>(p);
      start += 1;
      // length >= start is guaranteed by the header checks.
      if (pad > length - start) {
        this.error.connection(ErrorCode.PROTOCOL_ERROR, Msg.PADDING_EXCEEDS_THE_FRAME_PAYLOAD);
        return false;
      }
    }
    this.padLength = pad;
    this.payloadPtr = p + start;
    this.payloadLen = length - start - pad;
    return true;
  }

  // §6.1
  private finishData(p: usize): bool {
    return this.stripPadding(p, 0);
  }

  // Reads the 5 priority bytes at q (§6.2, §6.3).
  private readPriority(q: usize): void {
    const dep = readU32BE(q);
    this.hasPriority = true;
    this.exclusive = dep >>> 31 != 0;
    this.dependency = dep & 0x7fffffff;
    this.weight = <u32>load<u8>(q, 4) + 1;
  }

  // §6.2; §5.3.1 self-dependency. The field block must still reach HPACK, so a
  // self-dependency is a stream error that still delivers the frame.
  private finishHeaders(p: usize): bool {
    const prio = (this.flags & Flag.PRIORITY) != 0;
    const padded = (this.flags & Flag.PADDED) != 0;
    if (prio) this.readPriority(p + (padded ? 1 : 0));
    if (!this.stripPadding(p, prio ? PRIORITY_PAYLOAD_SIZE : 0)) return false;
    if (prio && this.dependency == this.streamId) {
      this.error.stream(ErrorCode.PROTOCOL_ERROR, this.streamId, Msg.STREAM_DEPENDS_ON_ITSELF);
      this.status = DecodeStatus.STREAM_ERROR;
      this.frameReady = true;
      return false;
    }
    return true;
  }

  // §6.3; §5.3.1
  private finishPriority(p: usize): bool {
    this.readPriority(p);
    this.payloadLen = 0;
    if (this.dependency == this.streamId) {
      this.error.stream(ErrorCode.PROTOCOL_ERROR, this.streamId, Msg.STREAM_DEPENDS_ON_ITSELF);
      return false;
    }
    return true;
  }

  // §6.5, §6.5.2
  private finishSettings(p: usize): bool {
    const count = this.length / SETTING_ENTRY_SIZE;
    this.settingsCount = count;
    for (let i: u32 = 0; i < count; i++) {
      const e = p + i * SETTING_ENTRY_SIZE;
      if (!checkSetting(this.error, readU16BE(e), readU32BE(e + 2), this.role)) return false;
    }
    return true;
  }

  // §6.6; §5.1.1: promised streams are server-initiated, so even and non-zero.
  private finishPushPromise(p: usize): bool {
    const padded = (this.flags & Flag.PADDED) != 0;
    this.promisedId = readU31BE(p + (padded ? 1 : 0));
    if (!this.stripPadding(p, PROMISED_ID_SIZE)) return false;
    if (this.promisedId == 0 || (this.promisedId & 1) != 0) {
      this.error.connection(ErrorCode.PROTOCOL_ERROR, Msg.PUSH_PROMISE_WITH_AN_INVALID);
      return false;
    }
    return true;
  }

  // §6.8
  private finishGoaway(p: usize): void {
    this.lastStreamId = readU31BE(p);
    this.code = readU32BE(p + 4);
    this.payloadPtr = p + 8;
    this.payloadLen = this.length - 8;
  }

  // §6.9: a zero increment is a stream error, or a connection error on stream 0.
  private finishWindowUpdate(p: usize): bool {
    this.increment = readU31BE(p);
    this.payloadLen = 0;
    if (this.increment == 0) {
      if (this.streamId == 0) {
        this.error.connection(ErrorCode.PROTOCOL_ERROR, Msg.WINDOW_UPDATE_INCREMENT);
      } else {
        this.error.stream(ErrorCode.PROTOCOL_ERROR, this.streamId, Msg.WINDOW_UPDATE_INCREMENT);
      }
      return false;
    }
    return true;
  }
}
