// Test entry for the frame codec: thin exports over one decoder, one output buffer and one
// settings list, so the vitest suites can drive assembly/frame through plain numbers.
import '../../assembly/ffi/abort';
import {
  FrameDecoder,
  SettingsList,
  writeFrameHeader,
  writeDataFramePrefix,
  encodeData,
  encodeHeaders,
  encodePriority,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodePushPromise,
  encodePing,
  encodeGoaway,
  encodeWindowUpdate,
  encodeContinuation,
} from '../../assembly/frame/index';
import { ByteBuffer } from '../../assembly/util/bytes';

export function alloc(n: u32): usize {
  return heap.alloc(<usize>(n == 0 ? 1 : n));
}
export function free(p: usize): void {
  heap.free(p);
}

// ---- decoder ----
let dec = new FrameDecoder();

export function dec_new(role: u8, initialBuffer: u32): void {
  dec.dispose();
  dec = new FrameDecoder(initialBuffer);
  dec.role = role;
}
export function dec_set_max_frame_size(n: u32): bool {
  return dec.setMaxFrameSize(n);
}
export function dec_push(ptr: usize, len: u32): u32 {
  return dec.push(ptr, len);
}
export function dec_reset(): void {
  dec.reset();
}
export function dec_status(): u8 {
  return dec.status;
}
export function dec_frame_ready(): bool {
  return dec.frameReady;
}
export function dec_type(): u8 {
  return dec.type;
}
export function dec_flags(): u8 {
  return dec.flags;
}
export function dec_raw_flags(): u8 {
  return dec.rawFlags;
}
export function dec_stream(): u32 {
  return dec.streamId;
}
export function dec_length(): u32 {
  return dec.length;
}
export function dec_raw_ptr(): usize {
  return dec.rawPtr;
}
export function dec_payload_ptr(): usize {
  return dec.payloadPtr;
}
export function dec_payload_len(): u32 {
  return dec.payloadLen;
}
export function dec_payload_in_chunk(): bool {
  return dec.payloadInChunk;
}
export function dec_pad(): u32 {
  return dec.padLength;
}
export function dec_flow_len(): u32 {
  return dec.flowControlledLength;
}
export function dec_end_stream(): bool {
  return dec.endStream;
}
export function dec_end_headers(): bool {
  return dec.endHeaders;
}
export function dec_is_ack(): bool {
  return dec.isAck;
}
export function dec_has_priority(): bool {
  return dec.hasPriority;
}
export function dec_exclusive(): bool {
  return dec.exclusive;
}
export function dec_dependency(): u32 {
  return dec.dependency;
}
export function dec_weight(): u32 {
  return dec.weight;
}
export function dec_code(): u32 {
  return dec.code;
}
export function dec_last_stream(): u32 {
  return dec.lastStreamId;
}
export function dec_increment(): u32 {
  return dec.increment;
}
export function dec_promised(): u32 {
  return dec.promisedId;
}
export function dec_ping(): u64 {
  return dec.pingData;
}
export function dec_settings_count(): u32 {
  return dec.settingsCount;
}
export function dec_setting_id(i: u32): u16 {
  return dec.settingId(i);
}
export function dec_setting_value(i: u32): u32 {
  return dec.settingValue(i);
}
export function dec_expecting(): u32 {
  return dec.expectingContinuationFor;
}
export function dec_ignored(): u32 {
  return dec.ignoredFrames;
}
export function dec_buffer_cap(): u32 {
  return dec.bufferCapacity;
}
export function dec_err_code(): u32 {
  return dec.errorCode;
}
export function dec_err_stream(): u32 {
  return dec.errorStreamId;
}
export function dec_err_conn(): bool {
  return dec.isConnectionError;
}
export function dec_err_msg(): string {
  return dec.errorMessage;
}

// ---- encoder ----
let out = new ByteBuffer();
const settings = new SettingsList();

export function enc_reset(limit: u32): void {
  out.dispose();
  out = new ByteBuffer(limit);
}
export function enc_ptr(): usize {
  return out.ptr;
}
export function enc_len(): u32 {
  return out.len;
}

export function enc_data(stream: u32, ptr: usize, len: u32, endStream: bool, padLen: i32): u8 {
  return encodeData(out, stream, ptr, len, endStream, padLen);
}
export function enc_headers(
  stream: u32,
  ptr: usize,
  len: u32,
  endStream: bool,
  maxFrameSize: u32,
  padLen: i32,
  hasPriority: bool,
  exclusive: bool,
  dependency: u32,
  weight: u32,
): u8 {
  return encodeHeaders(
    out,
    stream,
    ptr,
    len,
    endStream,
    maxFrameSize,
    padLen,
    hasPriority,
    exclusive,
    dependency,
    weight,
  );
}
export function enc_priority(stream: u32, dependency: u32, weight: u32, exclusive: bool): u8 {
  return encodePriority(out, stream, dependency, weight, exclusive);
}
export function enc_rst(stream: u32, code: u32): u8 {
  return encodeRstStream(out, stream, code);
}
export function settings_clear(): void {
  settings.clear();
}
export function settings_add(id: u16, value: u32): bool {
  return settings.add(id, value);
}
export function enc_settings(): u8 {
  return encodeSettings(out, settings);
}
export function enc_settings_ack(): u8 {
  return encodeSettingsAck(out);
}
export function enc_push_promise(stream: u32, promised: u32, ptr: usize, len: u32, maxFrameSize: u32, padLen: i32): u8 {
  return encodePushPromise(out, stream, promised, ptr, len, maxFrameSize, padLen);
}
export function enc_ping(opaque: u64, ack: bool): u8 {
  return encodePing(out, opaque, ack);
}
export function enc_goaway(last: u32, code: u32, ptr: usize, len: u32): u8 {
  return encodeGoaway(out, last, code, ptr, len);
}
export function enc_window_update(stream: u32, inc: u32): u8 {
  return encodeWindowUpdate(out, stream, inc);
}
export function enc_continuation(stream: u32, ptr: usize, len: u32, endHeaders: bool): u8 {
  return encodeContinuation(out, stream, ptr, len, endHeaders);
}
export function write_frame_header(ptr: usize, len: u32, type: u8, flags: u8, stream: u32): u32 {
  return writeFrameHeader(ptr, len, type, flags, stream);
}
export function write_data_prefix(ptr: usize, stream: u32, len: u32, endStream: bool, padLen: i32): u32 {
  return writeDataFramePrefix(ptr, stream, len, endStream, padLen);
}
