/*
 * h2wasm.h — the contract of h2wasm.wasm: every export and import of the module, with
 * wasm32 types and the ownership rule of each function. A test holds this file against
 * the compiled module in both directions (names, parameter and result types).
 *
 * How to read it
 * - The module's linear memory is exported as `memory`. A `h2_ptr` is an offset into it.
 *   Bytes cross as (h2_ptr, length) pairs; the callee copies them unless a function
 *   says otherwise. Every pair is bounds-checked: an out-of-range one is H2E_INVALID_ARG.
 * - Objects are handles: u32 values with a generation. A zero, stale, freed or wrong-kind
 *   handle is H2E_INVALID_ARG (or 0 where a handle is returned), never a trap. Freeing
 *   twice is harmless.
 * - One ownership rule: a call that takes ownership takes it whether it succeeds or not.
 * - Through wasm2c, an export `h2_x` is `w2c_h2wasm_h2_x(instance, ...)`; an import
 *   `h2_host.y` is the host function `w2c_h2__host_y(...)` you provide.
 */
#ifndef H2WASM_H
#define H2WASM_H

#include <stdint.h>

/** Marks a function the module exports under its own name. */
#define H2_EXPORT
/** Marks a function the module imports as `h2_host.<name without h2_host_>`. */
#define H2_IMPORT

/** An offset into the module's linear memory. */
typedef uint32_t h2_ptr;

/* ---- Result codes (0..6 have hyper_code's values) ---------------------------------- */
typedef uint32_t h2_code;
#define H2E_OK                  0 /* all is well */
#define H2E_ERROR               1 /* general error, details in the error object */
#define H2E_INVALID_ARG         2 /* a zero/stale/wrong-kind handle, an out-of-range pointer, a bad value */
#define H2E_UNEXPECTED_EOF      3 /* the IO transport returned EOF when not expected */
#define H2E_ABORTED_BY_CALLBACK 4 /* a host callback asked to abort */
#define H2E_FEATURE_NOT_ENABLED 5 /* an optional feature was not enabled */
#define H2E_INVALID_PEER_MESSAGE 6 /* the peer sent something malformed (e.g. an HPACK COMPRESSION_ERROR) */
#define H2E_OUT_OF_MEMORY       7 /* linear memory could not grow to hold what was asked */
#define H2E_LIMIT_EXCEEDED      8 /* a configured limit would be exceeded */

/* ---- Memory ------------------------------------------------------------------------ */

/** Allocates `len` bytes of linear memory for the host to write into; 0 when memory
 *  cannot grow (or len > 1 GiB). The host owns the buffer until it passes it to h2_free. */
H2_EXPORT h2_ptr h2_alloc(uint32_t len);

/** Frees a buffer from h2_alloc. Anything else (0, a foreign or already freed pointer)
 *  is H2E_INVALID_ARG and changes nothing. */
H2_EXPORT h2_code h2_free(h2_ptr ptr);

/** The number of live handles of every kind: a leak check for hosts and tests. */
H2_EXPORT uint32_t h2_handle_count(void);

/** The ABI version, major << 16 | minor. */
H2_EXPORT uint32_t h2_version(void);

/* ---- Field lists --------------------------------------------------------------------
 * A header list crosses the boundary in one flat buffer: for each field,
 *   uint32_t name_len, uint32_t value_len, uint32_t flags   (little-endian)
 * then the name octets, then the value octets, no padding. Flags: */
#define H2_FIELD_NEVER_INDEX 1u /* sensitive: HPACK never-indexed literal (on decode: arrived so) */
#define H2_FIELD_NO_INDEX    2u /* HPACK literal without indexing */

/* ---- Standalone HPACK (RFC 7541), like nghttp2_hd_* ------------------------------------
 * An encoder and a decoder usable without a connection. Handles are owned by the host
 * and freed with the matching _free. Results (_result / _result_len) are owned by the
 * codec and valid until its next call. */

typedef uint32_t h2_hpack_encoder;
typedef uint32_t h2_hpack_decoder;

/** New encoder, 4096-octet dynamic table (also its cap). 0 when the handle table is full. */
H2_EXPORT h2_hpack_encoder h2_hpack_encoder_new(void);

/** Frees an encoder and its result buffer. H2E_INVALID_ARG for a bad handle (double free is harmless). */
H2_EXPORT h2_code h2_hpack_encoder_free(h2_hpack_encoder encoder);

/** Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table becomes min(n, 4096) and the
 *  next block opens with the size update(s) RFC 7541 §4.2 requires. */
H2_EXPORT h2_code h2_hpack_encoder_set_max_table_size(h2_hpack_encoder encoder, uint32_t n);

/** Encodes one header block from the field list [fields, fields+len) (only read; the host
 *  keeps it). Sensitive fields (H2_FIELD_NEVER_INDEX, authorization, short cookies) are
 *  never indexed; Huffman is used only where shorter. H2E_INVALID_ARG for a bad handle,
 *  range or truncated list (encoder unchanged); H2E_OUT_OF_MEMORY leaves it unusable. */
H2_EXPORT h2_code h2_hpack_encode(h2_hpack_encoder encoder, h2_ptr fields, uint32_t len);

/** The last encoded block (owned by the encoder, valid until its next call). */
H2_EXPORT h2_ptr h2_hpack_encoder_result(h2_hpack_encoder encoder);
/** Its length; 0 after a failure or for a bad handle. */
H2_EXPORT uint32_t h2_hpack_encoder_result_len(h2_hpack_encoder encoder);

/** The encoder's dynamic table size in RFC 7541 units (sum of name + value + 32); 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_encoder_table_size(h2_hpack_encoder encoder);
/** Entries in the encoder's dynamic table; 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_encoder_table_len(h2_hpack_encoder encoder);

/** New decoder: SETTINGS_HEADER_TABLE_SIZE 4096, header list limit 65536. 0 when the handle table is full. */
H2_EXPORT h2_hpack_decoder h2_hpack_decoder_new(void);

/** Frees a decoder and its result buffer. H2E_INVALID_ARG for a bad handle (double free is harmless). */
H2_EXPORT h2_code h2_hpack_decoder_free(h2_hpack_decoder decoder);

/** Sets our SETTINGS_HEADER_TABLE_SIZE (once the peer acknowledged it): the largest size
 *  update the peer may send. Lowering it requires the next block to open with an update. */
H2_EXPORT h2_code h2_hpack_decoder_set_max_table_size(h2_hpack_decoder decoder, uint32_t n);

/** Sets the header list limit, counted as RFC 9113 does (name + value + 32 per field). */
H2_EXPORT h2_code h2_hpack_decoder_set_max_header_list_size(h2_hpack_decoder decoder, uint32_t n);

/** Decodes one whole header block [block, block+len) (only read). H2E_OK: the fields are
 *  in _result as a field list. H2E_INVALID_PEER_MESSAGE: malformed (COMPRESSION_ERROR)
 *  and H2E_OUT_OF_MEMORY: the decoder is unusable afterwards (later calls: H2E_ERROR).
 *  H2E_LIMIT_EXCEEDED: the list is over the limit; the block was consumed so the decoder
 *  stays in step, but no fields are returned. h2_hpack_decoder_error_print says why. */
H2_EXPORT h2_code h2_hpack_decode(h2_hpack_decoder decoder, h2_ptr block, uint32_t len);

/** The last decoded field list (owned by the decoder, valid until its next call). */
H2_EXPORT h2_ptr h2_hpack_decoder_result(h2_hpack_decoder decoder);
/** Its length; 0 after a failure or for a bad handle. */
H2_EXPORT uint32_t h2_hpack_decoder_result_len(h2_hpack_decoder decoder);

/** Copies the last failure's message (ASCII, no NUL) into [buf, buf+cap), truncated;
 *  returns the octets written. Like hyper_error_print. */
H2_EXPORT uint32_t h2_hpack_decoder_error_print(h2_hpack_decoder decoder, h2_ptr buf, uint32_t cap);

/** The decoder's dynamic table size in RFC 7541 units; 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_decoder_table_size(h2_hpack_decoder decoder);
/** Entries in the decoder's dynamic table; 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_decoder_table_len(h2_hpack_decoder decoder);

/** Writes dynamic table entry `index` (1 = newest) as a one-field list into [buf, buf+cap);
 *  returns the octets it needs (written only when <= cap), 0 for a bad index or handle. */
H2_EXPORT uint32_t h2_hpack_decoder_table_entry(h2_hpack_decoder decoder, uint32_t index, h2_ptr buf, uint32_t cap);

#endif /* H2WASM_H */
