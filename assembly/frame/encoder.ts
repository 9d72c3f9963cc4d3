// Frame serializers (RFC 9113 §4.1, §6). Each appends whole frames to a ByteBuffer and
// returns an EncodeResult. A call reserves everything it will write first, so on
// NO_SPACE (the buffer's limit) or INVALID (arguments no peer would accept) the buffer
// is left exactly as it was. Nothing is allocated besides the buffer's own growth.
//
// Limits are the wire's (payload <= 2^24-1): respecting the peer's
// SETTINGS_MAX_FRAME_SIZE is the caller's job for DATA and GOAWAY (it chunks data anyway);
// HEADERS and PUSH_PROMISE take the peer's limit and split the field block themselves.
import {
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FrameType,
  FRAME_HEADER_SIZE,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  PING_PAYLOAD_SIZE,
  PRIORITY_PAYLOAD_SIZE,
  PROMISED_ID_SIZE,
  RST_STREAM_PAYLOAD_SIZE,
  SETTING_ENTRY_SIZE,
  WINDOW_UPDATE_PAYLOAD_SIZE,
} from './constants';
import { writeFrameHeader, writeU16BE, writeU32BE, writeU64BE } from './header';
import { SettingsList } from './settings';
import { ByteBuffer } from '../util/bytes';

export namespace EncodeResult {
  export const OK: u8 = 0;
  /** The buffer's limit would be passed; nothing written. */
  export const NO_SPACE: u8 = 1;
  /** The arguments break the RFC (stream 0 where a stream is required, a length past
   *  2^24-1, padding over 255, weight outside 1..256, a zero increment…); nothing written. */
  export const INVALID: u8 = 2;
}

/** `padLen` value meaning "no PADDED flag" (0..255 sends a Pad Length field). */
export const NO_PADDING: i32 = -1;

@inline function validStream(id: u32): bool {
  return id != 0 && id <= MAX_STREAM_ID;
}

@inline function validPad(padLen: i32): bool {
  return padLen >= NO_PADDING && padLen <= 255;
}

// Bytes a Pad Length field and its padding add.
@inline function padOverhead(padLen: i32): u32 {
  return padLen < 0 ? 0 : <u32>padLen + 1;
}

// Reserves `total` bytes; returns where to write them, or 0 when the limit is hit.
@inline function claim(buf: ByteBuffer, total: u32): usize {
  if (!buf.reserve(total)) return 0;
  const p = buf.ptr + buf.len;
  buf.len += total;
  return p;
}

/**
 * Writes the frame header of a DATA frame whose payload is written by someone else (the
 * zero-copy path): 9 bytes, plus the Pad Length byte when `padLen` >= 0. The data and
 * then `padLen` zero bytes must follow. Returns the bytes written (9 or 10), or 0 when
 * the arguments are invalid (nothing written).
 */
export function writeDataFramePrefix(
  ptr: usize,
  streamId: u32,
  dataLen: u32,
  endStream: bool,
  padLen: i32 = NO_PADDING,
): u32 {
  if (!validStream(streamId) || !validPad(padLen)) return 0;
  const payload = <u64>dataLen + <u64>padOverhead(padLen);
  if (payload > <u64>MAX_MAX_FRAME_SIZE) return 0;
  let flags: u8 = endStream ? Flag.END_STREAM : 0;
  if (padLen >= 0) flags |= Flag.PADDED;
  writeFrameHeader(ptr, <u32>payload, FrameType.DATA, flags, streamId);
  if (padLen < 0) return FRAME_HEADER_SIZE;
  store<u8>(ptr, <u8>padLen, FRAME_HEADER_SIZE);
  return FRAME_HEADER_SIZE + 1;
}

/** DATA (§6.1): `dataLen` bytes from `dataPtr`, optional padding, END_STREAM. */
export function encodeData(
  buf: ByteBuffer,
  streamId: u32,
  dataPtr: usize,
  dataLen: u32,
  endStream: bool,
  padLen: i32 = NO_PADDING,
): u8 {
  if (!validStream(streamId) || !validPad(padLen)) return EncodeResult.INVALID;
  const payload = <u64>dataLen + <u64>padOverhead(padLen);
  if (payload > <u64>MAX_MAX_FRAME_SIZE) return EncodeResult.INVALID;
  const p = claim(buf, FRAME_HEADER_SIZE + <u32>payload);
  if (p == 0) return EncodeResult.NO_SPACE;
  const prefix = writeDataFramePrefix(p, streamId, dataLen, endStream, padLen);
  memory.copy(p + prefix, dataPtr, dataLen);
  if (padLen > 0) memory.fill(p + prefix + dataLen, 0, <usize>padLen); // §6.1: zeros
  return EncodeResult.OK;
}

// A field block as one HEADERS/PUSH_PROMISE frame plus as many CONTINUATIONs as
// `maxFrameSize` demands (§4.3). The first frame carries `fixedLen` bytes of fields after
// the Pad Length (priority: 5, promised id: 4), written from `fixedWord` and `fixedByte`.
function encodeFieldBlock(
  buf: ByteBuffer,
  type: u8,
  streamId: u32,
  flags: u8,
  fixedLen: u32,
  fixedWord: u32,
  fixedByte: u8,
  blockPtr: usize,
  blockLen: u32,
  maxFrameSize: u32,
  padLen: i32,
): u8 {
  if (maxFrameSize == 0 || maxFrameSize > MAX_MAX_FRAME_SIZE) return EncodeResult.INVALID;
  const overhead = padOverhead(padLen) + fixedLen;
  if (overhead > maxFrameSize) return EncodeResult.INVALID;
  const first = min<u32>(blockLen, maxFrameSize - overhead);
  const rest = blockLen - first;
  const continuations = (rest + maxFrameSize - 1) / maxFrameSize;
  const total = <u64>FRAME_HEADER_SIZE + <u64>overhead + <u64>blockLen + <u64>continuations * <u64>FRAME_HEADER_SIZE;
  if (total > <u64>u32.MAX_VALUE) return EncodeResult.NO_SPACE;
  let p = claim(buf, <u32>total);
  if (p == 0) return EncodeResult.NO_SPACE;

  if (padLen >= 0) flags |= Flag.PADDED;
  if (rest == 0) flags |= Flag.END_HEADERS;
  p += writeFrameHeader(p, overhead + first, type, flags, streamId);
  if (padLen >= 0) store<u8>(p++, <u8>padLen);
  if (fixedLen != 0) {
    writeU32BE(p, fixedWord);
    if (fixedLen > 4) store<u8>(p, fixedByte, 4);
    p += fixedLen;
  }
  memory.copy(p, blockPtr, first);
  p += first;
  if (padLen > 0) {
    memory.fill(p, 0, <usize>padLen);
    p += <usize>padLen;
  }
  let src = blockPtr + first;
  let left = rest;
  while (left > 0) {
    const n = min<u32>(left, maxFrameSize);
    left -= n;
    p += writeFrameHeader(p, n, FrameType.CONTINUATION, left == 0 ? Flag.END_HEADERS : 0, streamId);
    memory.copy(p, src, n);
    p += n;
    src += n;
  }
  return EncodeResult.OK;
}

/**
 * HEADERS (§6.2) carrying the field block [blockPtr, blockPtr+blockLen), split into
 * HEADERS + CONTINUATION frames of at most `maxFrameSize` payload bytes (the peer's
 * SETTINGS_MAX_FRAME_SIZE); END_HEADERS goes on the last frame, END_STREAM on the HEADERS.
 * Optional padding (0..255, on the HEADERS frame only) and priority fields (weight 1..256).
 */
export function encodeHeaders(
  buf: ByteBuffer,
  streamId: u32,
  blockPtr: usize,
  blockLen: u32,
  endStream: bool,
  maxFrameSize: u32 = DEFAULT_MAX_FRAME_SIZE,
  padLen: i32 = NO_PADDING,
  hasPriority: bool = false,
  exclusive: bool = false,
  dependency: u32 = 0,
  weight: u32 = 16,
): u8 {
  if (!validStream(streamId) || !validPad(padLen)) return EncodeResult.INVALID;
  let flags: u8 = endStream ? Flag.END_STREAM : 0;
  let fixedLen: u32 = 0;
  let word: u32 = 0;
  let byte: u8 = 0;
  if (hasPriority) {
    if (!validPriority(streamId, dependency, weight)) return EncodeResult.INVALID;
    flags |= Flag.PRIORITY;
    fixedLen = PRIORITY_PAYLOAD_SIZE;
    word = dependency | (exclusive ? 0x80000000 : 0);
    byte = <u8>(weight - 1);
  }
  return encodeFieldBlock(
    buf,
    FrameType.HEADERS,
    streamId,
    flags,
    fixedLen,
    word,
    byte,
    blockPtr,
    blockLen,
    maxFrameSize,
    padLen,
  );
}

// §5.3.1: a stream cannot depend on itself; weights are 1..256 on the wire as 0..255.
@inline function validPriority(streamId: u32, dependency: u32, weight: u32): bool {
  return dependency <= MAX_STREAM_ID && dependency != streamId && weight >= 1 && weight <= 256;
}

/** PRIORITY (§6.3). `weight` is 1..256. */
export function encodePriority(buf: ByteBuffer, streamId: u32, dependency: u32, weight: u32, exclusive: bool): u8 {
  if (!validStream(streamId) || !validPriority(streamId, dependency, weight)) return EncodeResult.INVALID;
  const p = claim(buf, FRAME_HEADER_SIZE + PRIORITY_PAYLOAD_SIZE);
  if (p == 0) return EncodeResult.NO_SPACE;
  writeFrameHeader(p, PRIORITY_PAYLOAD_SIZE, FrameType.PRIORITY, 0, streamId);
  writeU32BE(p + FRAME_HEADER_SIZE, dependency | (exclusive ? 0x80000000 : 0));
  store<u8>(p + FRAME_HEADER_SIZE, <u8>(weight - 1), 4);
  return EncodeResult.OK;
}

/** RST_STREAM (§6.4) with an error code (any u32; see ErrorCode). */
export function encodeRstStream(buf: ByteBuffer, streamId: u32, code: u32): u8 {
  if (!validStream(streamId)) return EncodeResult.INVALID;
  const p = claim(buf, FRAME_HEADER_SIZE + RST_STREAM_PAYLOAD_SIZE);
  if (p == 0) return EncodeResult.NO_SPACE;
  writeFrameHeader(p, RST_STREAM_PAYLOAD_SIZE, FrameType.RST_STREAM, 0, streamId);
  writeU32BE(p + FRAME_HEADER_SIZE, code);
  return EncodeResult.OK;
}

/** SETTINGS (§6.5) with the entries of `list`, in order (values are sent as given). */
export function encodeSettings(buf: ByteBuffer, list: SettingsList): u8 {
  const n = <u32>list.count;
  const len = n * SETTING_ENTRY_SIZE;
  let p = claim(buf, FRAME_HEADER_SIZE + len);
  if (p == 0) return EncodeResult.NO_SPACE;
  p += writeFrameHeader(p, len, FrameType.SETTINGS, 0, 0);
  for (let i: i32 = 0; i < <i32>n; i++) {
    writeU16BE(p, list.id(i));
    writeU32BE(p + 2, list.value(i));
    p += SETTING_ENTRY_SIZE;
  }
  return EncodeResult.OK;
}

/** SETTINGS with ACK and no payload (§6.5.3). */
export function encodeSettingsAck(buf: ByteBuffer): u8 {
  const p = claim(buf, FRAME_HEADER_SIZE);
  if (p == 0) return EncodeResult.NO_SPACE;
  writeFrameHeader(p, 0, FrameType.SETTINGS, Flag.ACK, 0);
  return EncodeResult.OK;
}

/**
 * PUSH_PROMISE (§6.6) on `streamId` promising `promisedId` (even, non-zero: §5.1.1),
 * with the field block split into CONTINUATIONs as encodeHeaders does.
 */
export function encodePushPromise(
  buf: ByteBuffer,
  streamId: u32,
  promisedId: u32,
  blockPtr: usize,
  blockLen: u32,
  maxFrameSize: u32 = DEFAULT_MAX_FRAME_SIZE,
  padLen: i32 = NO_PADDING,
): u8 {
  if (!validStream(streamId) || !validStream(promisedId) || (promisedId & 1) != 0 || !validPad(padLen)) {
    return EncodeResult.INVALID;
  }
  return encodeFieldBlock(
    buf,
    FrameType.PUSH_PROMISE,
    streamId,
    0,
    PROMISED_ID_SIZE,
    promisedId,
    0,
    blockPtr,
    blockLen,
    maxFrameSize,
    padLen,
  );
}

/** PING (§6.7): 8 opaque bytes, `opaque` written big-endian; `ack` for the response. */
export function encodePing(buf: ByteBuffer, opaque: u64, ack: bool): u8 {
  const p = claim(buf, FRAME_HEADER_SIZE + PING_PAYLOAD_SIZE);
  if (p == 0) return EncodeResult.NO_SPACE;
  writeFrameHeader(p, PING_PAYLOAD_SIZE, FrameType.PING, ack ? Flag.ACK : 0, 0);
  writeU64BE(p + FRAME_HEADER_SIZE, opaque);
  return EncodeResult.OK;
}

/** GOAWAY (§6.8): last processed stream, error code, optional debug data. */
export function encodeGoaway(
  buf: ByteBuffer,
  lastStreamId: u32,
  code: u32,
  debugPtr: usize = 0,
  debugLen: u32 = 0,
): u8 {
  if (lastStreamId > MAX_STREAM_ID) return EncodeResult.INVALID;
  const len = <u64>8 + <u64>debugLen;
  if (len > <u64>MAX_MAX_FRAME_SIZE) return EncodeResult.INVALID;
  let p = claim(buf, FRAME_HEADER_SIZE + <u32>len);
  if (p == 0) return EncodeResult.NO_SPACE;
  p += writeFrameHeader(p, <u32>len, FrameType.GOAWAY, 0, 0);
  writeU32BE(p, lastStreamId);
  writeU32BE(p + 4, code);
  memory.copy(p + 8, debugPtr, debugLen);
  return EncodeResult.OK;
}

/** WINDOW_UPDATE (§6.9) on a stream, or on the connection when `streamId` is 0;
 *  `increment` is 1..2^31-1. */
export function encodeWindowUpdate(buf: ByteBuffer, streamId: u32, increment: u32): u8 {
  if (streamId > MAX_STREAM_ID || increment == 0 || increment > MAX_WINDOW_SIZE) return EncodeResult.INVALID;
  const p = claim(buf, FRAME_HEADER_SIZE + WINDOW_UPDATE_PAYLOAD_SIZE);
  if (p == 0) return EncodeResult.NO_SPACE;
  writeFrameHeader(p, WINDOW_UPDATE_PAYLOAD_SIZE, FrameType.WINDOW_UPDATE, 0, streamId);
  writeU32BE(p + FRAME_HEADER_SIZE, increment);
  return EncodeResult.OK;
}

/** One CONTINUATION (§6.10) carrying a fragment; `endHeaders` on the last one. */
export function encodeContinuation(buf: ByteBuffer, streamId: u32, fragPtr: usize, fragLen: u32, endHeaders: bool): u8 {
  if (!validStream(streamId) || fragLen > MAX_MAX_FRAME_SIZE) return EncodeResult.INVALID;
  let p = claim(buf, FRAME_HEADER_SIZE + fragLen);
  if (p == 0) return EncodeResult.NO_SPACE;
  p += writeFrameHeader(p, fragLen, FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId);
  memory.copy(p, fragPtr, fragLen);
  return EncodeResult.OK;
}
