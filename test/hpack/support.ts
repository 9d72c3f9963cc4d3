// Shared helpers of the HPACK suites: the flat field-list format in JS, the stories of
// hpack-test-case, and small wrappers over the harness and the ABI.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, type Exports } from '../support/wasm.js';

export type Field = [string, string];
export interface Case {
  wire?: string;
  headers: Record<string, string>[];
  header_table_size?: number | null;
}
export interface Story {
  name: string;
  cases: Case[];
}

export const STORIES = join(SHARED, 'data', 'hpack-test-case');
export const RFC7541 = join(SHARED, 'spec', 'rfc7541.xml');

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

export function storyDirs(): string[] {
  return readdirSync(STORIES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export function loadStories(dir: string): Story[] {
  const d = join(STORIES, dir);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, cases: JSON.parse(readFileSync(join(d, f), 'utf8')).cases }));
}

export const caseFields = (c: Case): Field[] => c.headers.map((h) => Object.entries(h)[0] as Field);

/** Flat field list: u32 name_len, u32 value_len, u32 flags, name, value. */
export function flatten(fields: (Field | [string, string, number])[]): Uint8Array {
  const parts = fields.map(([n, v, f]) => [utf8.encode(n), utf8.encode(v), f ?? 0] as const);
  const total = parts.reduce((s, [n, v]) => s + 12 + n.length + v.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [n, v, f] of parts) {
    dv.setUint32(at, n.length, true);
    dv.setUint32(at + 4, v.length, true);
    dv.setUint32(at + 8, f, true);
    out.set(n, at + 12);
    out.set(v, at + 12 + n.length);
    at += 12 + n.length + v.length;
  }
  return out;
}

/** Parses a flat field list; with `withFlags`, each field carries its flags third. */
export function unflatten(bytes: Uint8Array): [string, string, number][] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [string, string, number][] = [];
  let at = 0;
  while (at < bytes.length) {
    const nl = dv.getUint32(at, true);
    const vl = dv.getUint32(at + 4, true);
    const fl = dv.getUint32(at + 8, true);
    at += 12;
    out.push([utf8d.decode(bytes.subarray(at, at + nl)), utf8d.decode(bytes.subarray(at + nl, at + nl + vl)), fl]);
    at += nl + vl;
  }
  return out;
}

export const fieldsOnly = (l: [string, string, number][]): Field[] => l.map(([n, v]) => [n, v]);

/** The module's own exports through the ABI: one encoder or decoder handle. */
export class AbiDecoder {
  readonly h: number;
  constructor(readonly ex: Exports) {
    this.h = ex.h2_hpack_decoder_new() >>> 0;
  }
  decode(block: Uint8Array): { code: number; fields: [string, string, number][]; error: string } {
    const ex = this.ex;
    const p = ex.h2_alloc(block.length) >>> 0;
    new Uint8Array(ex.memory.buffer, p, block.length).set(block);
    const code = ex.h2_hpack_decode(this.h, p, block.length);
    ex.h2_free(p);
    const rp = ex.h2_hpack_decoder_result(this.h) >>> 0;
    const rl = ex.h2_hpack_decoder_result_len(this.h) >>> 0;
    const fields = unflatten(new Uint8Array(ex.memory.buffer, rp, rl).slice());
    return { code, fields, error: code === 0 ? '' : this.error() };
  }
  error(): string {
    const ex = this.ex;
    const b = ex.h2_alloc(256) >>> 0;
    const n = ex.h2_hpack_decoder_error_print(this.h, b, 256) >>> 0;
    const s = utf8d.decode(new Uint8Array(ex.memory.buffer, b, n));
    ex.h2_free(b);
    return s;
  }
  free() {
    return this.ex.h2_hpack_decoder_free(this.h);
  }
}

export class AbiEncoder {
  readonly h: number;
  constructor(readonly ex: Exports) {
    this.h = ex.h2_hpack_encoder_new() >>> 0;
  }
  encode(fields: (Field | [string, string, number])[]): Uint8Array {
    const ex = this.ex;
    const flat = flatten(fields);
    const p = ex.h2_alloc(flat.length) >>> 0;
    new Uint8Array(ex.memory.buffer, p, flat.length).set(flat);
    const code = ex.h2_hpack_encode(this.h, p, flat.length);
    ex.h2_free(p);
    if (code !== 0) throw new Error(`h2_hpack_encode: ${code}`);
    const rp = ex.h2_hpack_encoder_result(this.h) >>> 0;
    const rl = ex.h2_hpack_encoder_result_len(this.h) >>> 0;
    return new Uint8Array(ex.memory.buffer, rp, rl).slice();
  }
  setMaxTableSize(n: number) {
    return this.ex.h2_hpack_encoder_set_max_table_size(this.h, n);
  }
  free() {
    return this.ex.h2_hpack_encoder_free(this.h);
  }
}
