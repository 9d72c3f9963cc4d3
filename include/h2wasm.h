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

#endif /* H2WASM_H */
