// The ABI: Standalone HPACK (RFC 7541), as nghttp2_hd_*.
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { safepoint } from '../../util/gc';
import * as hpack from '../hpack';

/**
 * Creates an HPACK encoder with a 4096-octet dynamic table (the peer's initial
 * SETTINGS_HEADER_TABLE_SIZE, also the encoder's cap). Returns its handle, or 0 when the
 * handle table is full. The host owns the handle; free it with h2_hpack_encoder_free.
 */
export function h2_hpack_encoder_new(): u32 {
  safepoint();
  return hpack.encoderNew();
}

/**
 * Frees an encoder and its result buffer. H2E_INVALID_ARG for a zero, stale, freed or
 * foreign handle (a double free is harmless).
 */
export function h2_hpack_encoder_free(encoder: u32): u32 {
  return hpack.encoderFree(encoder);
}

/**
 * Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table becomes min(n, 4096) and the
 * next block starts with the size update(s) RFC 7541 §4.2 requires.
 */
export function h2_hpack_encoder_set_max_table_size(encoder: u32, n: u32): u32 {
  return hpack.encoderSetMaxTableSize(encoder, n);
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
  return hpack.encode(encoder, fields, len);
}

/** Pointer to the last encoded block; owned by the encoder, valid until its next call. */
export function h2_hpack_encoder_result(encoder: u32): usize {
  return hpack.encoderResult(encoder);
}

/** Length of the last encoded block (0 after a failure or for a bad handle). */
export function h2_hpack_encoder_result_len(encoder: u32): u32 {
  return hpack.encoderResultLen(encoder);
}

/** The encoder's dynamic table size in RFC 7541 units (Σ name + value + 32); 0 for a bad handle. */
export function h2_hpack_encoder_table_size(encoder: u32): u32 {
  return hpack.encoderTableSize(encoder);
}

/** Number of entries in the encoder's dynamic table; 0 for a bad handle. */
export function h2_hpack_encoder_table_len(encoder: u32): u32 {
  return hpack.encoderTableLen(encoder);
}

/**
 * Creates an HPACK decoder: SETTINGS_HEADER_TABLE_SIZE 4096, SETTINGS_MAX_HEADER_LIST_SIZE
 * 65536. Returns its handle, or 0 when the handle table is full. The host owns the handle;
 * free it with h2_hpack_decoder_free.
 */
export function h2_hpack_decoder_new(): u32 {
  safepoint();
  return hpack.decoderNew();
}

/** Frees a decoder and its result buffer. H2E_INVALID_ARG for a bad handle (double free is harmless). */
export function h2_hpack_decoder_free(decoder: u32): u32 {
  return hpack.decoderFree(decoder);
}

/**
 * Sets our SETTINGS_HEADER_TABLE_SIZE (apply once the peer acknowledged it): the largest
 * size update the peer may send. Lowering it below the table's maximum shrinks the table
 * now and requires the next block to start with an update to at most n.
 */
export function h2_hpack_decoder_set_max_table_size(decoder: u32, n: u32): u32 {
  return hpack.decoderSetMaxTableSize(decoder, n);
}

/** Sets the header list limit (Σ name + value + 32 per field, as RFC 9113 counts). */
export function h2_hpack_decoder_set_max_header_list_size(decoder: u32, n: u32): u32 {
  return hpack.decoderSetMaxHeaderListSize(decoder, n);
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
  return hpack.decode(decoder, block, len);
}

/** Pointer to the last decoded field list; owned by the decoder, valid until its next call. */
export function h2_hpack_decoder_result(decoder: u32): usize {
  return hpack.decoderResult(decoder);
}

/** Length of the last decoded field list (0 after a failure or for a bad handle). */
export function h2_hpack_decoder_result_len(decoder: u32): u32 {
  return hpack.decoderResultLen(decoder);
}

/**
 * Copies the message of the decoder's last failure (ASCII, not NUL-terminated) into the
 * host's [buf, buf+cap), truncated to cap. Returns the octets written (0 when none or for a
 * bad handle or range). Like hyper_error_print.
 */
export function h2_hpack_decoder_error_print(decoder: u32, buf: usize, cap: u32): u32 {
  return hpack.decoderErrorPrint(decoder, buf, cap);
}

/** The decoder's dynamic table size in RFC 7541 units; 0 for a bad handle. */
export function h2_hpack_decoder_table_size(decoder: u32): u32 {
  return hpack.decoderTableSize(decoder);
}

/** Number of entries in the decoder's dynamic table; 0 for a bad handle. */
export function h2_hpack_decoder_table_len(decoder: u32): u32 {
  return hpack.decoderTableLen(decoder);
}

/**
 * Writes dynamic table entry `index` (1 = newest) as a one-field flat list into the host's
 * [buf, buf+cap). Returns the octets the entry needs (written only when ≤ cap), 0 when the
 * index or handle is invalid.
 */
export function h2_hpack_decoder_table_entry(decoder: u32, index: u32, buf: usize, cap: u32): u32 {
  return hpack.decoderTableEntry(decoder, index, buf, cap);
}
