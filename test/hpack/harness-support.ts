// The HPACK test harness module (build/test/hpack.wasm) with byte helpers.
import { loadModule, type Exports } from '../support/wasm.js';
import { unflatten } from './support.js';

export class Harness {
  readonly ex: Exports;
  constructor() {
    this.ex = loadModule('test/hpack');
  }
  /** Copies bytes in, runs f(ptr, len), frees. */
  with<T>(bytes: Uint8Array, f: (p: number, n: number) => T): T {
    const p = this.ex.alloc(bytes.length) >>> 0;
    new Uint8Array(this.ex.memory.buffer, p, bytes.length).set(bytes);
    try {
      return f(p, bytes.length);
    } finally {
      this.ex.free(p);
    }
  }
  out(): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer, this.ex.outPtr() >>> 0, this.ex.outLen() >>> 0).slice();
  }
  outText(): string {
    return new TextDecoder().decode(this.out());
  }
  decoder(maxTable = 4096, maxList = 65536) {
    const ex = this.ex;
    const d = ex.decoderNew(maxTable, maxList);
    return {
      id: d,
      decode: (block: Uint8Array): { status: number; fields: [string, string, number][]; error: string } => {
        const status = this.with(block, (p, n) => ex.decode(d, p, n));
        const fields = unflatten(this.out());
        ex.decoderError(d);
        return { status, fields, error: this.outText() };
      },
      setMaxTableSize: (n: number) => ex.decoderSetMaxTableSize(d, n),
      tableSize: () => ex.decoderTableSize(d) >>> 0,
      tableMax: () => ex.decoderTableMax(d) >>> 0,
      table: (): [string, string][] => {
        const out: [string, string][] = [];
        const len = ex.decoderTableLen(d) >>> 0;
        for (let i = 1; i <= len; i++) {
          ex.decoderTableEntry(d, i);
          const [[n, v]] = unflatten(this.out());
          out.push([n, v]);
        }
        return out;
      },
    };
  }
  encoder(cap = 4096) {
    const ex = this.ex;
    const e = ex.encoderNew(cap);
    return {
      id: e,
      encode: (flat: Uint8Array): Uint8Array => {
        const ok = this.with(flat, (p, n) => ex.encode(e, p, n));
        if (!ok) throw new Error('encode failed');
        return this.out();
      },
      setMaxTableSize: (n: number) => ex.encoderSetMaxTableSize(e, n),
      tableSize: () => ex.encoderTableSize(e) >>> 0,
      tableLen: () => ex.encoderTableLen(e) >>> 0,
    };
  }
}
