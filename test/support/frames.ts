// A scripted raw-frame peer's tools, written independently of assembly/frame: build
// exact frames to send, and split and parse whatever the engine wrote back. HPACK for
// the peer's heads comes from hpack.js (an implementation nobody here wrote).
import hpack from 'hpack.js';

export const FRAME = {
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
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4, PADDED: 8, PRIORITY: 0x20 } as const;
export const ERR = {
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
  CONNECT_ERROR: 10,
  ENHANCE_YOUR_CALM: 11,
  INADEQUATE_SECURITY: 12,
  HTTP_1_1_REQUIRED: 13,
} as const;
export const SETTING = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
  ENABLE_CONNECT_PROTOCOL: 8,
} as const;
export const PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

export function frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const out = new Uint8Array(9 + p.length);
  out[0] = (p.length >>> 16) & 0xff;
  out[1] = (p.length >>> 8) & 0xff;
  out[2] = p.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId >>> 0);
  out.set(p, 9);
  return out;
}

const u32be = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
};
export const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

export const settings = (entries: [number, number][] = []) =>
  frame(FRAME.SETTINGS, 0, 0, concat(...entries.map(([id, v]) => concat(Uint8Array.of(id >> 8, id & 0xff), u32be(v)))));
export const settingsAck = () => frame(FRAME.SETTINGS, FLAG.ACK, 0);
export const ping = (data = 0n, ack = false) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, data);
  return frame(FRAME.PING, ack ? FLAG.ACK : 0, 0, b);
};
export const windowUpdate = (id: number, inc: number) => frame(FRAME.WINDOW_UPDATE, 0, id, u32be(inc));
export const rstStream = (id: number, code: number) => frame(FRAME.RST_STREAM, 0, id, u32be(code));
export const goaway = (last: number, code: number, debug = '') =>
  frame(FRAME.GOAWAY, 0, 0, concat(u32be(last), u32be(code), new TextEncoder().encode(debug)));
export const data = (id: number, body: Uint8Array | string, endStream = false, flags = 0) =>
  frame(
    FRAME.DATA,
    (endStream ? FLAG.END_STREAM : 0) | flags,
    id,
    typeof body === 'string' ? new TextEncoder().encode(body) : body,
  );

/** The peer's HPACK contexts (hpack.js), one per direction. */
export class PeerHpack {
  private comp = hpack.compressor.create({ table: { size: 4096 } });
  private decomp = hpack.decompressor.create({ table: { size: 4096 } });

  encode(fields: [string, string][]): Uint8Array {
    this.comp.write(fields.map(([name, value]) => ({ name, value })));
    const chunks: Buffer[] = [];
    let c: Buffer | null;
    while ((c = this.comp.read())) chunks.push(c);
    return Uint8Array.from(Buffer.concat(chunks));
  }

  decode(block: Uint8Array): [string, string][] {
    this.decomp.write(Buffer.from(block));
    this.decomp.execute();
    const out: [string, string][] = [];
    let f: { name: string; value: string } | null;
    while ((f = this.decomp.read())) out.push([f.name, f.value]);
    return out;
  }
}

export const headers = (id: number, block: Uint8Array, endStream = false, endHeaders = true, extraFlags = 0) =>
  frame(FRAME.HEADERS, (endStream ? FLAG.END_STREAM : 0) | (endHeaders ? FLAG.END_HEADERS : 0) | extraFlags, id, block);
export const continuation = (id: number, block: Uint8Array, endHeaders = true) =>
  frame(FRAME.CONTINUATION, endHeaders ? FLAG.END_HEADERS : 0, id, block);

/** Splits a byte stream into frames; returns them and the unparsed rest. */
export function parseFrames(bytes: Uint8Array): { frames: Frame[]; rest: Uint8Array } {
  const frames: Frame[] = [];
  let at = 0;
  while (bytes.length - at >= 9) {
    const len = (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2];
    if (bytes.length - at < 9 + len) break;
    const streamId = new DataView(bytes.buffer, bytes.byteOffset + at + 5, 4).getUint32(0) & 0x7fffffff;
    frames.push({ type: bytes[at + 3], flags: bytes[at + 4], streamId, payload: bytes.slice(at + 9, at + 9 + len) });
    at += 9 + len;
  }
  return { frames, rest: bytes.slice(at) };
}

export const errorCodeOf = (f: Frame) =>
  new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(f.type === FRAME.GOAWAY ? 4 : 0);
export const lastStreamOf = (f: Frame) =>
  new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0) & 0x7fffffff;
export const incrementOf = (f: Frame) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0) & 0x7fffffff;
export function settingsOf(f: Frame): Map<number, number> {
  const m = new Map<number, number>();
  const v = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.length);
  for (let i = 0; i + 6 <= f.payload.length; i += 6) m.set(v.getUint16(i), v.getUint32(i + 2));
  return m;
}
/** The field block of a HEADERS / PUSH_PROMISE frame (padding and priority stripped). */
export function blockOf(f: Frame): Uint8Array {
  let p = f.payload;
  let pad = 0;
  if (f.flags & FLAG.PADDED) {
    pad = p[0];
    p = p.subarray(1);
  }
  if (f.type === FRAME.HEADERS && f.flags & FLAG.PRIORITY) p = p.subarray(5);
  if (f.type === FRAME.PUSH_PROMISE) p = p.subarray(4);
  return p.subarray(0, p.length - pad);
}

/** Field list in the flat ABI format: u32 name_len, u32 value_len, u32 flags, name, value. */
export function fieldList(fields: [string, string, number?][]): Uint8Array {
  const enc = new TextEncoder();
  const parts = fields.map(([n, v, flags = 0]) => {
    const nb = enc.encode(n),
      vb = enc.encode(v);
    const out = new Uint8Array(12 + nb.length + vb.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, nb.length, true);
    dv.setUint32(4, vb.length, true);
    dv.setUint32(8, flags, true);
    out.set(nb, 12);
    out.set(vb, 12 + nb.length);
    return out;
  });
  return concat(...parts);
}

export function readFieldList(bytes: Uint8Array): [string, string][] {
  const dec = new TextDecoder();
  const out: [string, string][] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 0;
  while (at < bytes.length) {
    const nl = dv.getUint32(at, true),
      vl = dv.getUint32(at + 4, true);
    out.push([
      dec.decode(bytes.subarray(at + 12, at + 12 + nl)),
      dec.decode(bytes.subarray(at + 12 + nl, at + 12 + nl + vl)),
    ]);
    at += 12 + nl + vl;
  }
  return out;
}
