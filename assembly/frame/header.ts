// The 9-byte frame header (RFC 9113 §4.1) and the big-endian loads and stores every
// frame field is made of. Wasm memory is little-endian, so multi-byte fields go through
// bswap; 24-bit fields are assembled from a byte and a u16.
import { FRAME_HEADER_SIZE, MAX_STREAM_ID } from './constants';

@inline export function readU16BE(p: usize): u16 {
  return bswap<u16>(load<u16>(p));
}

@inline export function readU24BE(p: usize): u32 {
  return ((<u32>load<u8>(p)) << 16) | (<u32>bswap<u16>(load<u16>(p, 1)));
}

@inline export function readU32BE(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** A 31-bit field whose top bit is reserved: the bit is dropped on receipt (§4.1). */
@inline export function readU31BE(p: usize): u32 {
  return readU32BE(p) & MAX_STREAM_ID;
}

@inline export function readU64BE(p: usize): u64 {
  return bswap<u64>(load<u64>(p));
}

@inline export function writeU16BE(p: usize, v: u16): void {
  store<u16>(p, bswap<u16>(v));
}

@inline export function writeU24BE(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >>> 16));
  store<u16>(p, bswap<u16>(<u16>v), 1);
}

@inline export function writeU32BE(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

@inline export function writeU64BE(p: usize, v: u64): void {
  store<u64>(p, bswap<u64>(v));
}

// Field offsets inside the header.
@inline export function headerLength(p: usize): u32 {
  return readU24BE(p);
}
@inline export function headerType(p: usize): u8 {
  return load<u8>(p, 3);
}
@inline export function headerFlags(p: usize): u8 {
  return load<u8>(p, 4);
}
@inline export function headerStreamId(p: usize): u32 {
  return readU31BE(p + 5);
}

/**
 * Writes the 9-byte frame header at `ptr` (which must have 9 writable bytes): payload
 * length `len` (24 bits), `type`, `flags` and `streamId` (reserved bit written as 0).
 * Writes nothing else; the zero-copy send path uses it to frame a payload that lives
 * elsewhere. Returns the bytes written (always 9).
 */
export function writeFrameHeader(ptr: usize, len: u32, type: u8, flags: u8, streamId: u32): u32 {
  writeU24BE(ptr, len);
  store<u8>(ptr, type, 3);
  store<u8>(ptr, flags, 4);
  writeU32BE(ptr + 5, streamId & MAX_STREAM_ID);
  return FRAME_HEADER_SIZE;
}
