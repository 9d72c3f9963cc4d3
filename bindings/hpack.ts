// Standalone HPACK (RFC 7541) for TypeScript/JavaScript hosts: an encoder and a decoder
// over the module's h2_hpack_* exports. No `node:` import: runs in any host.
//
// One call into the module per encode or decode (plus reading the result). Names and
// values are strings, converted as UTF-8 (ASCII, the common case, takes a fast path): any
// JS string round-trips, and octets that are not valid UTF-8 in a peer's block decode to
// U+FFFD — hosts that need the exact octets use the raw ABI, whose field lists are octets.
import { H2E } from './abi.js';
import { defaultModule, type H2Exports, type H2Module } from './loader.js';

/** A header field; `sensitive` = never indexed (RFC 7541 §7.1.3), `noIndex` = not indexed. */
export interface HeaderField {
  name: string;
  value: string;
  sensitive?: boolean;
  noIndex?: boolean;
}

export type HeaderInput = [string, string] | HeaderField;

/** A decoding failure; `code` is the H2E_* code, the message names the fault. */
export class HpackError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'HpackError';
  }
}

const FLAG_NEVER_INDEX = 1;
const FLAG_NO_INDEX = 2;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');
const latin1Decoder = new TextDecoder('latin1');
// Node's Buffer has a faster one-char-per-octet slice; feature-detected, not imported.
const nodeLatin1Slice: ((this: Uint8Array, start: number, end: number) => string) | undefined = (
  globalThis as { Buffer?: { prototype?: { latin1Slice?: (start: number, end: number) => string } } }
).Buffer?.prototype?.latin1Slice;

/**
 * The whole result as one string with one char per octet (for ASCII octets, the char is the
 * octet), so that an ASCII name or value is a substring at the same offsets.
 */
function octetString(buf: Uint8Array): string {
  return nodeLatin1Slice ? nodeLatin1Slice.call(buf, 0, buf.length) : latin1Decoder.decode(buf);
}

/** What must be released when an object is freed or collected (never refers to the object). */
interface Native {
  ex: H2Exports;
  handle: number;
  free: (ex: H2Exports, handle: number) => number;
  /** A reusable h2_alloc buffer for inputs. */
  scratch: number;
  scratchCap: number;
}

function release(n: Native): void {
  if (n.handle !== 0) n.free(n.ex, n.handle);
  if (n.scratch !== 0) n.ex.h2_free(n.scratch);
  n.handle = 0;
  n.scratch = 0;
  n.scratchCap = 0;
}

// A forgotten free() is caught up with when the object is collected.
const registry: FinalizationRegistry<Native> | undefined =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry(release) : undefined;

function live(n: Native, what: string): H2Exports {
  if (n.handle === 0) throw new Error(`h2wasm: ${what} used after free()`);
  return n.ex;
}

/** Makes the scratch buffer hold `len` octets; answers its pointer. */
function scratch(n: Native, len: number): number {
  if (len > n.scratchCap) {
    const cap = Math.max(len, n.scratchCap * 2, 1024);
    const p = n.ex.h2_alloc(cap) >>> 0;
    if (p === 0) throw new RangeError(`h2wasm: cannot allocate ${cap} bytes in wasm memory`);
    if (n.scratch !== 0) n.ex.h2_free(n.scratch);
    n.scratch = p;
    n.scratchCap = cap;
  }
  return n.scratch;
}

/** Writes `s` at `at` as UTF-8; answers octets written. `buf` has room for 3 × s.length. */
function writeString(buf: Uint8Array, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return i + utf8Encoder.encodeInto(s.slice(i), buf.subarray(at + i)).written;
    buf[at + i] = c;
  }
  return n;
}

/**
 * An HPACK encoder with its own dynamic table (4096 octets, the peer's initial
 * SETTINGS_HEADER_TABLE_SIZE). Blocks must be sent in the order they were encoded.
 */
export class HpackEncoder {
  readonly module: H2Module;
  readonly #n: Native;

  constructor(module: H2Module = defaultModule()) {
    this.module = module;
    const ex = module.exports;
    const handle = ex.h2_hpack_encoder_new() >>> 0;
    if (handle === 0) throw new Error('h2wasm: h2_hpack_encoder_new failed');
    this.#n = { ex, handle, free: (e, h) => e.h2_hpack_encoder_free(h), scratch: 0, scratchCap: 0 };
    registry?.register(this, this.#n, this.#n);
  }

  /** Applies the peer's SETTINGS_HEADER_TABLE_SIZE (the table is capped at 4096). */
  setMaxTableSize(n: number): void {
    live(this.#n, 'HpackEncoder').h2_hpack_encoder_set_max_table_size(this.#n.handle, n >>> 0);
  }

  /** Encodes one header block. Names should be lowercase (HTTP/2); they are not folded. */
  encode(fields: readonly HeaderInput[]): Uint8Array {
    const n = this.#n;
    const ex = live(n, 'HpackEncoder');
    let max = 0;
    for (const f of fields) {
      const name = Array.isArray(f) ? f[0] : f.name;
      const value = Array.isArray(f) ? f[1] : f.value;
      max += 12 + 3 * (name.length + value.length);
    }
    const ptr = scratch(n, max);
    const buf = new Uint8Array(ex.memory.buffer, ptr, max);
    let at = 0;
    for (const f of fields) {
      let name: string,
        value: string,
        flags = 0;
      if (Array.isArray(f)) {
        name = f[0];
        value = f[1];
      } else {
        name = f.name;
        value = f.value;
        if (f.sensitive) flags |= FLAG_NEVER_INDEX;
        if (f.noIndex) flags |= FLAG_NO_INDEX;
      }
      const nl = writeString(buf, at + 12, String(name));
      const vl = writeString(buf, at + 12 + nl, String(value));
      buf[at] = nl;
      buf[at + 1] = nl >>> 8;
      buf[at + 2] = nl >>> 16;
      buf[at + 3] = nl >>> 24;
      buf[at + 4] = vl;
      buf[at + 5] = vl >>> 8;
      buf[at + 6] = vl >>> 16;
      buf[at + 7] = vl >>> 24;
      buf[at + 8] = flags;
      buf[at + 9] = 0;
      buf[at + 10] = 0;
      buf[at + 11] = 0;
      at += 12 + nl + vl;
    }
    const code = ex.h2_hpack_encode(n.handle, ptr, at);
    if (code !== H2E.OK) throw new HpackError(`h2wasm: h2_hpack_encode failed (code ${code})`, code);
    const rp = ex.h2_hpack_encoder_result(n.handle) >>> 0;
    const rl = ex.h2_hpack_encoder_result_len(n.handle) >>> 0;
    return new Uint8Array(ex.memory.buffer, rp, rl).slice();
  }

  /** Releases the encoder in the module. Calling it again is harmless. */
  free(): void {
    registry?.unregister(this.#n);
    release(this.#n);
  }
}

/**
 * An HPACK decoder with its own dynamic table: SETTINGS_HEADER_TABLE_SIZE 4096,
 * SETTINGS_MAX_HEADER_LIST_SIZE 65536. After a decoding error (an HpackError with code
 * H2E.INVALID_PEER_MESSAGE) the decoder is unusable (HTTP/2: COMPRESSION_ERROR). An
 * HpackError with code H2E.LIMIT_EXCEEDED (header list too large) leaves it usable.
 */
export class HpackDecoder {
  readonly module: H2Module;
  readonly #n: Native;

  constructor(module: H2Module = defaultModule()) {
    this.module = module;
    const ex = module.exports;
    const handle = ex.h2_hpack_decoder_new() >>> 0;
    if (handle === 0) throw new Error('h2wasm: h2_hpack_decoder_new failed');
    this.#n = { ex, handle, free: (e, h) => e.h2_hpack_decoder_free(h), scratch: 0, scratchCap: 0 };
    registry?.register(this, this.#n, this.#n);
  }

  /** Sets our SETTINGS_HEADER_TABLE_SIZE (once the peer acknowledged it). */
  setMaxTableSize(n: number): void {
    live(this.#n, 'HpackDecoder').h2_hpack_decoder_set_max_table_size(this.#n.handle, n >>> 0);
  }

  /** Sets the header list limit (Σ name + value + 32 octets per field). */
  setMaxHeaderListSize(n: number): void {
    live(this.#n, 'HpackDecoder').h2_hpack_decoder_set_max_header_list_size(this.#n.handle, n >>> 0);
  }

  /** The dynamic table's size in RFC 7541 units and its number of entries. */
  get tableSize(): number {
    return live(this.#n, 'HpackDecoder').h2_hpack_decoder_table_size(this.#n.handle) >>> 0;
  }
  get tableLength(): number {
    return live(this.#n, 'HpackDecoder').h2_hpack_decoder_table_len(this.#n.handle) >>> 0;
  }

  /** Decodes one complete header block into [name, value] pairs, in order. Throws HpackError. */
  decode(block: Uint8Array): [string, string][] {
    const out: [string, string][] = [];
    this.#decode(block, (name, value) => {
      out.push([name, value]);
    });
    return out;
  }

  /** As decode(), with `sensitive` set on fields that arrived never-indexed. */
  decodeFields(block: Uint8Array): HeaderField[] {
    const out: HeaderField[] = [];
    this.#decode(block, (name, value, flags) => {
      out.push((flags & FLAG_NEVER_INDEX) !== 0 ? { name, value, sensitive: true } : { name, value });
    });
    return out;
  }

  #decode(block: Uint8Array, emit: (name: string, value: string, flags: number) => void): void {
    const n = this.#n;
    const ex = live(n, 'HpackDecoder');
    const ptr = scratch(n, block.length);
    new Uint8Array(ex.memory.buffer, ptr, block.length).set(block);
    const code = ex.h2_hpack_decode(n.handle, ptr, block.length);
    if (code !== H2E.OK) throw new HpackError(this.#message(code), code);
    const rp = ex.h2_hpack_decoder_result(n.handle) >>> 0;
    const rl = ex.h2_hpack_decoder_result_len(n.handle) >>> 0;
    const buf = new Uint8Array(ex.memory.buffer, rp, rl);
    // One conversion for the whole list; ASCII fields are then substrings of it, and only
    // fields with other octets go through the UTF-8 decoder.
    const all = rl > 0 ? octetString(buf) : '';
    let at = 0;
    while (at < rl) {
      const nl = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
      const vl = buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24);
      const flags = buf[at + 8];
      const ns = at + 12;
      const vs = ns + nl;
      at = vs + vl;
      let high = 0;
      for (let i = ns; i < at; i++) high |= buf[i];
      if (high < 0x80) emit(all.substring(ns, vs), all.substring(vs, at), flags);
      else emit(utf8Decoder.decode(buf.subarray(ns, vs)), utf8Decoder.decode(buf.subarray(vs, at)), flags);
    }
  }

  #message(code: number): string {
    const n = this.#n;
    const ex = n.ex;
    const ptr = scratch(n, 256);
    const len = ex.h2_hpack_decoder_error_print(n.handle, ptr, 256) >>> 0;
    const text = utf8Decoder.decode(new Uint8Array(ex.memory.buffer, ptr, len));
    return text || `h2wasm: h2_hpack_decode failed (code ${code})`;
  }

  /** Releases the decoder in the module. Calling it again is harmless. */
  free(): void {
    registry?.unregister(this.#n);
    release(this.#n);
  }
}
