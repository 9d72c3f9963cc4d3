// Shared helpers for the frame suites: raw frames built by hand in JS (independent of the
// encoder under test), a driver that feeds the decoder chunk by chunk and snapshots every
// event, and thin wrappers over the encoder exports.
import { loadModule, putBytes, getBytes, hex, toHex, type Exports } from '../support/wasm.js';

export { hex, toHex };

export const T = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const E = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  SETTINGS_TIMEOUT: 4,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;
export const S = { NEED_MORE: 0, FRAME: 1, STREAM_ERROR: 2, CONNECTION_ERROR: 3 } as const;
export const ROLE = { ANY: 0, CLIENT: 1, SERVER: 2 } as const;
export const ENC = { OK: 0, NO_SPACE: 1, INVALID: 2 } as const;
export const MAX_STREAM = 0x7fffffff;

export function load(): Exports {
  return loadModule('test/frame');
}

/** A frame as raw bytes: 9-byte header written by hand, then `payload`. */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array | string = new Uint8Array(0),
  lengthOverride?: number,
): Uint8Array {
  const p = typeof payload === 'string' ? hex(payload) : payload;
  const len = lengthOverride ?? p.length;
  const out = new Uint8Array(9 + p.length);
  out[0] = (len >>> 16) & 0xff;
  out[1] = (len >>> 8) & 0xff;
  out[2] = len & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, stream >>> 0);
  out.set(p, 9);
  return out;
}

export const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
};
export const u16 = (v: number) => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v);
  return b;
};
export const cat = (...parts: (Uint8Array | number[])[]) => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
export const setting = (id: number, value: number) => cat(u16(id), u32(value));
export const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function readString(ex: Exports, ptr: number): string {
  ptr >>>= 0;
  if (!ptr) return '';
  const len = new Uint32Array(ex.memory.buffer, ptr - 4, 1)[0] >>> 1;
  return String.fromCharCode(...new Uint16Array(ex.memory.buffer, ptr, len));
}

/** Everything the decoder exposes after one event, copied out while the pointers are valid. */
export interface Event {
  status: number;
  ready: boolean;
  type: number;
  flags: number;
  rawFlags: number;
  stream: number;
  length: number;
  payload: string;
  pad: number;
  flow: number;
  endStream: boolean;
  endHeaders: boolean;
  ack: boolean;
  prio: { exclusive: boolean; dependency: number; weight: number } | null;
  code: number;
  last: number;
  increment: number;
  promised: number;
  ping: bigint;
  settings: [number, number][];
  expecting: number;
  err: { code: number; stream: number; conn: boolean; msg: string } | null;
}

export function snapshot(ex: Exports): Event {
  const status = ex.dec_status();
  const n = ex.dec_settings_count() >>> 0;
  const settings: [number, number][] = [];
  for (let i = 0; i < n; i++) settings.push([ex.dec_setting_id(i), ex.dec_setting_value(i) >>> 0]);
  const ready = !!ex.dec_frame_ready();
  return {
    status,
    ready,
    type: ex.dec_type(),
    flags: ex.dec_flags(),
    rawFlags: ex.dec_raw_flags(),
    stream: ex.dec_stream() >>> 0,
    length: ex.dec_length() >>> 0,
    payload: ready ? toHex(getBytes(ex, ex.dec_payload_ptr(), ex.dec_payload_len())) : '',
    pad: ex.dec_pad(),
    flow: ex.dec_flow_len() >>> 0,
    endStream: !!ex.dec_end_stream(),
    endHeaders: !!ex.dec_end_headers(),
    ack: !!ex.dec_is_ack(),
    prio: ex.dec_has_priority()
      ? { exclusive: !!ex.dec_exclusive(), dependency: ex.dec_dependency() >>> 0, weight: ex.dec_weight() }
      : null,
    code: ex.dec_code() >>> 0,
    last: ex.dec_last_stream() >>> 0,
    increment: ex.dec_increment() >>> 0,
    promised: ex.dec_promised() >>> 0,
    ping: BigInt.asUintN(64, ex.dec_ping()),
    settings,
    expecting: ex.dec_expecting() >>> 0,
    err:
      status === S.STREAM_ERROR || status === S.CONNECTION_ERROR
        ? {
            code: ex.dec_err_code() >>> 0,
            stream: ex.dec_err_stream() >>> 0,
            conn: !!ex.dec_err_conn(),
            msg: readString(ex, ex.dec_err_msg()),
          }
        : null,
  };
}

/**
 * Feeds `chunks` in order, each copied into module memory, calling push() until each chunk
 * is consumed; returns one snapshot per event (frames and errors). Stops at a connection error.
 */
export function feed(ex: Exports, chunks: Uint8Array[]): Event[] {
  const events: Event[] = [];
  for (const chunk of chunks) {
    const ptr = putBytes(ex, chunk.length ? chunk : new Uint8Array(1), 'alloc');
    let off = 0;
    let guard = 0;
    while (off < chunk.length) {
      const used = ex.dec_push(ptr + off, chunk.length - off) >>> 0;
      off += used;
      const status = ex.dec_status();
      if (status === S.NEED_MORE) {
        if (off !== chunk.length) throw new Error('NEED_MORE left bytes unconsumed');
        break;
      }
      events.push(snapshot(ex));
      if (status === S.CONNECTION_ERROR) {
        ex.free(ptr);
        return events;
      }
      if (++guard > 1e6) throw new Error('decoder made no progress');
    }
    ex.free(ptr);
  }
  return events;
}

/** Splits `b` at the given offsets. */
export function splitAt(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  out.push(b.subarray(prev));
  return out;
}

export const byteAtATime = (b: Uint8Array) => Array.from(b, (x) => Uint8Array.of(x));

/** Fresh decoder in a fresh instance. */
export function decoder(role: number = ROLE.ANY, initialBuffer = 0): Exports {
  const ex = load();
  ex.dec_new(role, initialBuffer);
  return ex;
}

/** Decodes `b` in one chunk. */
export function decode(b: Uint8Array, role: number = ROLE.ANY): Event[] {
  return feed(decoder(role), [b]);
}

/** The single event of decoding `b`, asserting there is exactly one. */
export function decodeOne(b: Uint8Array, role: number = ROLE.ANY): Event {
  const ev = decode(b, role);
  if (ev.length !== 1) throw new Error(`expected one event, got ${ev.length}`);
  return ev[0];
}

/** Runs an encoder call against a fresh output buffer; returns [result, bytes]. */
export function encode(
  ex: Exports,
  fn: (ex: Exports, put: (b: Uint8Array) => number) => number,
  limit = 0x7fffffff,
): [number, Uint8Array] {
  ex.enc_reset(limit);
  const put = (b: Uint8Array) => putBytes(ex, b.length ? b : new Uint8Array(1), 'alloc');
  const r = fn(ex, put);
  return [r, getBytes(ex, ex.enc_ptr(), ex.enc_len())];
}
