// Test harness: reaches the HPACK layer's internals (integers, Huffman, tables) without
// widening the module's public export list. Built to build/test/hpack.wasm (debug).
import { ByteBuffer } from '../../assembly/util/bytes';
import { decodeInteger, intEnd, writeInteger, integerLength } from '../../assembly/hpack/integer';
import {
  decodeHuffman,
  encodeHuffman,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from '../../assembly/hpack/huffman';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../assembly/hpack/huffman-codes';
import { Decoder } from '../../assembly/hpack/decoder';
import { Encoder } from '../../assembly/hpack/encoder';
import { hashBytes } from '../../assembly/hpack/hash';
import { staticFindName, staticFindValue } from '../../assembly/hpack/static-table';
import { FIELD_HEADER, writeFieldHeader } from '../../assembly/hpack/field-list';

const out = new ByteBuffer();
const decoders = new Array<Decoder>();
const encoders = new Array<Encoder>();

export function alloc(n: u32): usize {
  return heap.alloc(<usize>max<u32>(n, 1));
}
export function free(p: usize): void {
  heap.free(p);
}
export function outPtr(): usize {
  return out.ptr;
}
export function outLen(): u32 {
  return out.len;
}

// ---- integers ----
export function intDecode(p: usize, len: u32, prefix: u32): i64 {
  return decodeInteger(p, p + <usize>len, prefix);
}
export function intDecodeEnd(): usize {
  return intEnd;
}
export function intEncode(value: u32, prefix: u32, high: u32): void {
  out.clear();
  out.reserve(8);
  writeInteger(out, high, prefix, value);
}
export function intLength(value: u32, prefix: u32): u32 {
  return integerLength(value, prefix);
}

// ---- Huffman ----
export function huffCode(sym: u32): u32 {
  return load<u32>(HUFFMAN_CODES + ((<usize>sym) << 2));
}
export function huffLength(sym: u32): u32 {
  return HUFFMAN_LENGTHS[sym];
}
export function huffEncode(p: usize, len: u32): u32 {
  out.clear();
  const n = huffmanEncodedLength(p, len);
  out.reserve(n + 8);
  out.len = encodeHuffman(p, len, out.ptr);
  return n;
}
export function huffDecode(p: usize, len: u32): i32 {
  out.clear();
  out.reserve(huffmanMaxDecodedLength(len) + 8);
  const n = decodeHuffman(p, len, out.ptr);
  if (n >= 0) out.len = <u32>n;
  return n;
}

// ---- static table ----
export function staticName(p: usize, len: u32): u32 {
  return staticFindName(p, len, hashBytes(p, len, 0));
}
export function staticField(np: usize, nl: u32, vp: usize, vl: u32): u32 {
  const i = staticFindName(np, nl, hashBytes(np, nl, 0));
  return i == 0 ? 0 : staticFindValue(i, vp, vl);
}

// ---- decoder ----
export function decoderNew(maxTableSize: u32, maxListSize: u32): i32 {
  decoders.push(new Decoder(maxTableSize, maxListSize));
  return decoders.length - 1;
}
export function decoderSetMaxTableSize(d: i32, n: u32): void {
  decoders[d].setMaxTableSize(n);
}
export function decode(d: i32, p: usize, len: u32): u32 {
  out.clear();
  return <u32>decoders[d].decode(p, len, out);
}
/** Copies the last error message into out (ASCII). */
export function decoderError(d: i32): void {
  out.clear();
  const m = decoders[d].error;
  out.reserve(<u32>m.length + 1);
  for (let i = 0; i < m.length; i++) out.pushByte(<u8>m.charCodeAt(i));
}
export function decoderTableSize(d: i32): u32 {
  return decoders[d].table.size;
}
export function decoderTableMax(d: i32): u32 {
  return decoders[d].table.maxSize;
}
export function decoderTableLen(d: i32): u32 {
  return decoders[d].table.count;
}
/** Writes entry i (1 = newest) as one flat field into out. */
export function decoderTableEntry(d: i32, i: u32): void {
  out.clear();
  const t = decoders[d].table;
  const e = t.entry(i);
  const nl = t.nameLen(e);
  const vl = t.valueLen(e);
  out.reserve(FIELD_HEADER + nl + vl);
  writeFieldHeader(out.ptr, nl, vl, 0);
  t.copyField(e, out.ptr + FIELD_HEADER);
  out.len = FIELD_HEADER + nl + vl;
}

// ---- encoder ----
export function encoderNew(cap: u32): i32 {
  encoders.push(new Encoder(cap));
  return encoders.length - 1;
}
export function encoderSetMaxTableSize(e: i32, n: u32): void {
  encoders[e].setMaxTableSize(n);
}
export function encoderSetVolatile(e: i32, lo: u32, hi: u32): void {
  encoders[e].volatileNames = ((<u64>hi) << 32) | (<u64>lo);
}
export function encode(e: i32, p: usize, len: u32): bool {
  out.clear();
  return encoders[e].encode(p, len, out);
}
export function encoderTableSize(e: i32): u32 {
  return encoders[e].table.size;
}
export function encoderTableLen(e: i32): u32 {
  return encoders[e].table.count;
}
