// Standalone HPACK through the ABI (as nghttp2's nghttp2_hd_*): an encoder and a decoder
// behind generation-checked handles. Thin: validate handles and host ranges, translate
// status codes, delegate to assembly/hpack.
import { ByteBuffer } from '../util/bytes';
import { Decoder, DecodeStatus, Encoder, validateFieldList, writeFieldHeader, FIELD_HEADER } from '../hpack';
import { HandleKind, handleGet, handleNew, handleRelease } from './handles';
import { validRange } from './memory';
import {
  H2E_ERROR,
  H2E_INVALID_ARG,
  H2E_INVALID_PEER_MESSAGE,
  H2E_LIMIT_EXCEEDED,
  H2E_OK,
  H2E_OUT_OF_MEMORY,
} from './errors';

/** Largest output an encoder or decoder buffer may grow to. */
const OUTPUT_LIMIT: u32 = 1 << 30;

const ERR_UNUSABLE = 'hpack: decoder unusable after an earlier decoding error';

export class HpackEncoderObject {
  encoder: Encoder = new Encoder();
  out: ByteBuffer = new ByteBuffer(OUTPUT_LIMIT);
  broken: bool = false;
}

export class HpackDecoderObject {
  decoder: Decoder = new Decoder();
  out: ByteBuffer = new ByteBuffer(OUTPUT_LIMIT);
  broken: bool = false;
}

@inline function getEncoder(h: u32): HpackEncoderObject | null {
  return changetype<HpackEncoderObject | null>(handleGet(h, HandleKind.HPACK_ENCODER));
}
@inline function getDecoder(h: u32): HpackDecoderObject | null {
  return changetype<HpackDecoderObject | null>(handleGet(h, HandleKind.HPACK_DECODER));
}

export function encoderNew(): u32 {
  const obj = new HpackEncoderObject();
  const h = handleNew(HandleKind.HPACK_ENCODER, obj);
  if (h == 0) {
    obj.encoder.dispose();
    obj.out.dispose();
  }
  return h;
}

export function encoderFree(h: u32): u32 {
  const o = changetype<HpackEncoderObject | null>(handleRelease(h, HandleKind.HPACK_ENCODER));
  if (o == null) return H2E_INVALID_ARG;
  o.encoder.dispose();
  o.out.dispose();
  return H2E_OK;
}

export function encoderSetMaxTableSize(h: u32, n: u32): u32 {
  const o = getEncoder(h);
  if (o == null) return H2E_INVALID_ARG;
  o.encoder.setMaxTableSize(n);
  return H2E_OK;
}

export function encode(h: u32, ptr: usize, len: u32): u32 {
  const o = getEncoder(h);
  if (o == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  o.out.clear();
  if (o.broken) return H2E_ERROR;
  if (validateFieldList(ptr, len) < 0) return H2E_INVALID_ARG;
  if (!o.encoder.encode(ptr, len, o.out)) {
    o.out.clear();
    o.broken = true;
    return H2E_OUT_OF_MEMORY;
  }
  return H2E_OK;
}

export function encoderResult(h: u32): usize {
  const o = getEncoder(h);
  return o == null ? 0 : o.out.ptr;
}

export function encoderResultLen(h: u32): u32 {
  const o = getEncoder(h);
  return o == null ? 0 : o.out.len;
}

export function encoderTableSize(h: u32): u32 {
  const o = getEncoder(h);
  return o == null ? 0 : o.encoder.table.size;
}

export function encoderTableLen(h: u32): u32 {
  const o = getEncoder(h);
  return o == null ? 0 : o.encoder.table.count;
}

export function decoderNew(): u32 {
  const obj = new HpackDecoderObject();
  const h = handleNew(HandleKind.HPACK_DECODER, obj);
  if (h == 0) {
    obj.decoder.dispose();
    obj.out.dispose();
  }
  return h;
}

export function decoderFree(h: u32): u32 {
  const o = changetype<HpackDecoderObject | null>(handleRelease(h, HandleKind.HPACK_DECODER));
  if (o == null) return H2E_INVALID_ARG;
  o.decoder.dispose();
  o.out.dispose();
  return H2E_OK;
}

export function decoderSetMaxTableSize(h: u32, n: u32): u32 {
  const o = getDecoder(h);
  if (o == null) return H2E_INVALID_ARG;
  o.decoder.setMaxTableSize(n);
  return H2E_OK;
}

export function decoderSetMaxHeaderListSize(h: u32, n: u32): u32 {
  const o = getDecoder(h);
  if (o == null) return H2E_INVALID_ARG;
  o.decoder.setMaxHeaderListSize(n);
  return H2E_OK;
}

export function decode(h: u32, ptr: usize, len: u32): u32 {
  const o = getDecoder(h);
  if (o == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  o.out.clear();
  if (o.broken) {
    o.decoder.error = ERR_UNUSABLE;
    return H2E_ERROR;
  }
  const status = o.decoder.decode(ptr, len, o.out);
  if (status == DecodeStatus.OK) return H2E_OK;
  if (status == DecodeStatus.LIST_TOO_LARGE) return H2E_LIMIT_EXCEEDED;
  o.broken = true;
  return status == DecodeStatus.OUT_OF_MEMORY ? H2E_OUT_OF_MEMORY : H2E_INVALID_PEER_MESSAGE;
}

export function decoderResult(h: u32): usize {
  const o = getDecoder(h);
  return o == null ? 0 : o.out.ptr;
}

export function decoderResultLen(h: u32): u32 {
  const o = getDecoder(h);
  return o == null ? 0 : o.out.len;
}

export function decoderErrorPrint(h: u32, buf: usize, cap: u32): u32 {
  const o = getDecoder(h);
  if (o == null || !validRange(buf, cap)) return 0;
  const msg = o.decoder.error;
  const n = min<u32>(cap, <u32>msg.length);
  // Messages are ASCII: one octet per UTF-16 unit.
  for (let i: u32 = 0; i < n; i++) store<u8>(buf + <usize>i, <u8>msg.charCodeAt(<i32>i));
  return n;
}

export function decoderTableSize(h: u32): u32 {
  const o = getDecoder(h);
  return o == null ? 0 : o.decoder.table.size;
}

export function decoderTableLen(h: u32): u32 {
  const o = getDecoder(h);
  return o == null ? 0 : o.decoder.table.count;
}

export function decoderTableEntry(h: u32, index: u32, buf: usize, cap: u32): u32 {
  const o = getDecoder(h);
  if (o == null || !validRange(buf, cap)) return 0;
  const t = o.decoder.table;
  if (index == 0 || index > t.count) return 0;
  const e = t.entry(index);
  const nl = t.nameLen(e);
  const vl = t.valueLen(e);
  const need = FIELD_HEADER + nl + vl;
  if (need > cap) return need;
  writeFieldHeader(buf, nl, vl, 0);
  t.copyField(e, buf + FIELD_HEADER);
  return need;
}
