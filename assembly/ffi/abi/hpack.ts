// The ABI: Standalone HPACK (RFC 7541), as nghttp2_hd_*: an encoder and a decoder behind
// generation-checked handles. Each export is declared in include/h2wasm.h, in the section
// of the same name; each is thin: resolve handles (a bad one is H2E_INVALID_ARG, or 0
// where a handle is returned), bounds-check host ranges, translate status codes, delegate
// to assembly/hpack.
import { ByteBuffer } from '../../util/bytes';
import { safepoint } from '../../util/gc';
import {
  Decoder,
  DecodeStatus,
  DynamicTable,
  Encoder,
  validateFieldList,
  writeFieldHeader,
  FIELD_HEADER,
} from '../../hpack';
import { HandleKind, handleGet, handleNew, handleRelease } from '../handles';
import { validRange } from '../memory';
import {
  H2E_ERROR,
  H2E_INVALID_ARG,
  H2E_INVALID_PEER_MESSAGE,
  H2E_LIMIT_EXCEEDED,
  H2E_OK,
  H2E_OUT_OF_MEMORY,
} from '../errors';
import { Msg, msg } from '../../util/messages';

/** Largest output an encoder or decoder buffer may grow to. */
const OUTPUT_LIMIT: u32 = 1 << 30;

const ERR_UNUSABLE = Msg.HPACK_UNUSABLE;

/** What an encoder's and a decoder's handle hold alike: the last output, the table, and
 *  whether a failure left the coder unusable. */
abstract class CoderHandle {
  out: ByteBuffer = new ByteBuffer(OUTPUT_LIMIT);
  broken: bool = false;
  abstract get table(): DynamicTable;
  abstract dispose(): void;
}

class EncoderHandle extends CoderHandle {
  encoder: Encoder = new Encoder();
  get table(): DynamicTable {
    return this.encoder.table;
  }
  dispose(): void {
    this.encoder.dispose();
    this.out.dispose();
  }
}

class DecoderHandle extends CoderHandle {
  decoder: Decoder = new Decoder();
  get table(): DynamicTable {
    return this.decoder.table;
  }
  dispose(): void {
    this.decoder.dispose();
    this.out.dispose();
  }
}

@inline function coder<T extends CoderHandle>(h: u32, kind: HandleKind): T | null {
  return changetype<T | null>(handleGet(h, kind));
}

/** A handle for a new coder; 0 (and the coder's memory freed) when the table is full. */
function newCoder(kind: HandleKind, o: CoderHandle): u32 {
  const h = handleNew(kind, o);
  if (h == 0) o.dispose();
  return h;
}

function freeCoder(h: u32, kind: HandleKind): u32 {
  const o = changetype<CoderHandle | null>(handleRelease(h, kind));
  if (o == null) return H2E_INVALID_ARG;
  o.dispose();
  return H2E_OK;
}

function resultPtr(h: u32, kind: HandleKind): usize {
  const o = coder<CoderHandle>(h, kind);
  return o == null ? 0 : o.out.ptr;
}

function resultLen(h: u32, kind: HandleKind): u32 {
  const o = coder<CoderHandle>(h, kind);
  return o == null ? 0 : o.out.len;
}

function tableSize(h: u32, kind: HandleKind): u32 {
  const o = coder<CoderHandle>(h, kind);
  return o == null ? 0 : o.table.size;
}

function tableLen(h: u32, kind: HandleKind): u32 {
  const o = coder<CoderHandle>(h, kind);
  return o == null ? 0 : o.table.count;
}

/**
 * Creates an HPACK encoder with a 4096-octet dynamic table (the peer's initial
 * SETTINGS_HEADER_TABLE_SIZE, also the encoder's cap). Returns its handle, or 0 when the
 * handle table is full. The host owns the handle; free it with h2_hpack_encoder_free.
 */
export function h2_hpack_encoder_new(): u32 {
  safepoint();
  return newCoder(HandleKind.HPACK_ENCODER, new EncoderHandle());
}

/**
 * Frees an encoder and its result buffer. H2E_INVALID_ARG for a zero, stale, freed or
 * foreign handle (a double free is harmless).
 */
export function h2_hpack_encoder_free(encoder: u32): u32 {
  return freeCoder(encoder, HandleKind.HPACK_ENCODER);
}

/**
 * Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table becomes min(n, 4096) and the
 * next block starts with the size update(s) RFC 7541 §4.2 requires.
 */
export function h2_hpack_encoder_set_max_table_size(encoder: u32, n: u32): u32 {
  const o = coder<EncoderHandle>(encoder, HandleKind.HPACK_ENCODER);
  if (o == null) return H2E_INVALID_ARG;
  o.encoder.setMaxTableSize(n);
  return H2E_OK;
}

/**
 * Encodes one header block from a flat field list at [fields, fields+len) (each field:
 * u32 name_len, u32 value_len, u32 flags, little-endian, then the name and value octets;
 * flags bit0 = never index, bit1 = do not index). The input is only read: the host keeps
 * it. H2E_INVALID_ARG for a bad handle, a range outside memory or a truncated list (the
 * encoder is unchanged); H2E_OUT_OF_MEMORY leaves the encoder unusable. The block is read
 * with h2_hpack_encoder_result / _result_len.
 */
export function h2_hpack_encode(encoder: u32, fields: usize, len: u32): u32 {
  const o = coder<EncoderHandle>(encoder, HandleKind.HPACK_ENCODER);
  if (o == null || !validRange(fields, len)) return H2E_INVALID_ARG;
  o.out.clear();
  if (o.broken) return H2E_ERROR;
  if (validateFieldList(fields, len) < 0) return H2E_INVALID_ARG;
  if (!o.encoder.encode(fields, len, o.out)) {
    o.out.clear();
    o.broken = true;
    return H2E_OUT_OF_MEMORY;
  }
  return H2E_OK;
}

/** Pointer to the last encoded block; owned by the encoder, valid until its next call. */
export function h2_hpack_encoder_result(encoder: u32): usize {
  return resultPtr(encoder, HandleKind.HPACK_ENCODER);
}

/** Length of the last encoded block (0 after a failure or for a bad handle). */
export function h2_hpack_encoder_result_len(encoder: u32): u32 {
  return resultLen(encoder, HandleKind.HPACK_ENCODER);
}

/** The encoder's dynamic table size in RFC 7541 units (Σ name + value + 32); 0 for a bad handle. */
export function h2_hpack_encoder_table_size(encoder: u32): u32 {
  return tableSize(encoder, HandleKind.HPACK_ENCODER);
}

/** Number of entries in the encoder's dynamic table; 0 for a bad handle. */
export function h2_hpack_encoder_table_len(encoder: u32): u32 {
  return tableLen(encoder, HandleKind.HPACK_ENCODER);
}

/**
 * Creates an HPACK decoder: SETTINGS_HEADER_TABLE_SIZE 4096, SETTINGS_MAX_HEADER_LIST_SIZE
 * 65536. Returns its handle, or 0 when the handle table is full. The host owns the handle;
 * free it with h2_hpack_decoder_free.
 */
export function h2_hpack_decoder_new(): u32 {
  safepoint();
  return newCoder(HandleKind.HPACK_DECODER, new DecoderHandle());
}

/** Frees a decoder and its result buffer. H2E_INVALID_ARG for a bad handle (double free is harmless). */
export function h2_hpack_decoder_free(decoder: u32): u32 {
  return freeCoder(decoder, HandleKind.HPACK_DECODER);
}

/**
 * Sets our SETTINGS_HEADER_TABLE_SIZE (apply once the peer acknowledged it): the largest
 * size update the peer may send. Lowering it below the table's maximum shrinks the table
 * now and requires the next block to start with an update to at most n.
 */
export function h2_hpack_decoder_set_max_table_size(decoder: u32, n: u32): u32 {
  const o = coder<DecoderHandle>(decoder, HandleKind.HPACK_DECODER);
  if (o == null) return H2E_INVALID_ARG;
  o.decoder.setMaxTableSize(n);
  return H2E_OK;
}

/** Sets the header list limit (Σ name + value + 32 per field, as RFC 9113 counts). */
export function h2_hpack_decoder_set_max_header_list_size(decoder: u32, n: u32): u32 {
  const o = coder<DecoderHandle>(decoder, HandleKind.HPACK_DECODER);
  if (o == null) return H2E_INVALID_ARG;
  o.decoder.setMaxHeaderListSize(n);
  return H2E_OK;
}

/**
 * Decodes one complete header block at [block, block+len) (fragments joined); the input is
 * only read. On H2E_OK the fields are in h2_hpack_decoder_result / _result_len as a flat
 * field list (flags bit0 = the field arrived never-indexed). H2E_INVALID_PEER_MESSAGE: the
 * block is malformed (HTTP/2 COMPRESSION_ERROR); H2E_OUT_OF_MEMORY: the output could not
 * grow; after either the decoder is unusable (later calls answer H2E_ERROR).
 * H2E_LIMIT_EXCEEDED: the header list is over the limit; the block was still consumed, so
 * the decoder stays usable, but no fields are returned. H2E_INVALID_ARG: bad handle or
 * range. h2_hpack_decoder_error_print tells what went wrong.
 */
export function h2_hpack_decode(decoder: u32, block: usize, len: u32): u32 {
  const o = coder<DecoderHandle>(decoder, HandleKind.HPACK_DECODER);
  if (o == null || !validRange(block, len)) return H2E_INVALID_ARG;
  o.out.clear();
  if (o.broken) {
    o.decoder.error = msg(ERR_UNUSABLE);
    return H2E_ERROR;
  }
  const status = o.decoder.decode(block, len, o.out);
  if (status == DecodeStatus.OK) return H2E_OK;
  if (status == DecodeStatus.LIST_TOO_LARGE) return H2E_LIMIT_EXCEEDED;
  o.broken = true;
  return status == DecodeStatus.OUT_OF_MEMORY ? H2E_OUT_OF_MEMORY : H2E_INVALID_PEER_MESSAGE;
}

/** Pointer to the last decoded field list; owned by the decoder, valid until its next call. */
export function h2_hpack_decoder_result(decoder: u32): usize {
  return resultPtr(decoder, HandleKind.HPACK_DECODER);
}

/** Length of the last decoded field list (0 after a failure or for a bad handle). */
export function h2_hpack_decoder_result_len(decoder: u32): u32 {
  return resultLen(decoder, HandleKind.HPACK_DECODER);
}

/**
 * Copies the message of the decoder's last failure (ASCII, not NUL-terminated) into the
 * host's [buf, buf+cap), truncated to cap. Returns the octets written (0 when none or for a
 * bad handle or range). Like hyper_error_print.
 */
export function h2_hpack_decoder_error_print(decoder: u32, buf: usize, cap: u32): u32 {
  const o = coder<DecoderHandle>(decoder, HandleKind.HPACK_DECODER);
  if (o == null || !validRange(buf, cap)) return 0;
  const msg = o.decoder.error;
  const n = min<u32>(cap, <u32>msg.length);
  // Messages are ASCII: one octet per UTF-16 unit.
  for (let i: u32 = 0; i < n; i++) store<u8>(buf + <usize>i, <u8>msg.charCodeAt(<i32>i));
  return n;
}

/** The decoder's dynamic table size in RFC 7541 units; 0 for a bad handle. */
export function h2_hpack_decoder_table_size(decoder: u32): u32 {
  return tableSize(decoder, HandleKind.HPACK_DECODER);
}

/** Number of entries in the decoder's dynamic table; 0 for a bad handle. */
export function h2_hpack_decoder_table_len(decoder: u32): u32 {
  return tableLen(decoder, HandleKind.HPACK_DECODER);
}

/**
 * Writes dynamic table entry `index` (1 = newest) as a one-field flat list into the host's
 * [buf, buf+cap). Returns the octets the entry needs (written only when ≤ cap), 0 when the
 * index or handle is invalid.
 */
export function h2_hpack_decoder_table_entry(decoder: u32, index: u32, buf: usize, cap: u32): u32 {
  const o = coder<DecoderHandle>(decoder, HandleKind.HPACK_DECODER);
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
