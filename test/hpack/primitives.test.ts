// Integers (RFC 7541 §5.1, C.1), the Huffman code (§5.2, Appendix B) and the static table.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { hex, toHex } from '../support/wasm.js';
import { Harness } from './harness-support.js';
import { RFC7541 } from './support.js';

let h: Harness;
beforeAll(() => {
  h = new Harness();
});

const intDecode = (bytes: Uint8Array, prefix: number) =>
  h.with(bytes, (p, n) => ({ v: h.ex.intDecode(p, n, prefix) as bigint, end: (h.ex.intDecodeEnd() >>> 0) - p }));
const intEncode = (v: number, prefix: number, high = 0) => {
  h.ex.intEncode(v >>> 0, prefix, high);
  return toHex(h.out());
};

describe('prefix integers', () => {
  it('RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 on an octet boundary', () => {
    expect(intEncode(10, 5)).toBe('0a');
    expect(intEncode(1337, 5)).toBe('1f9a0a');
    expect(intEncode(42, 8)).toBe('2a');
    expect(intDecode(hex('0a'), 5)).toEqual({ v: 10n, end: 1 });
    expect(intDecode(hex('1f9a0a'), 5)).toEqual({ v: 1337n, end: 3 });
    expect(intDecode(hex('2a'), 8)).toEqual({ v: 42n, end: 1 });
    // Bits above the prefix are ignored by the decoder and kept by the encoder.
    expect(intDecode(hex('ea'), 5).v).toBe(10n);
    expect(intEncode(10, 5, 0xe0)).toBe('ea');
  });

  it('round-trips edges of every prefix width, with the length integerLength predicts', () => {
    for (let prefix = 1; prefix <= 8; prefix++) {
      const m = (1 << prefix) - 1;
      for (const v of [0, 1, m - 1, m, m + 1, m + 127, m + 128, 16383, 2 ** 21, 2 ** 28, 2 ** 32 - 1]) {
        h.ex.intEncode(v >>> 0, prefix, 0);
        const bytes = h.out();
        expect(bytes.length).toBe(h.ex.intLength(v >>> 0, prefix));
        expect(intDecode(bytes, prefix)).toEqual({ v: BigInt(v), end: bytes.length });
      }
    }
  });

  it('refuses values above 2^32-1, too many continuation octets, and truncation', () => {
    expect(intDecode(hex('1fe0ffffff0f'), 5).v).toBe(BigInt(2 ** 32 - 1)); // 31 + 0xffffffe0
    expect(intDecode(hex('1fe1ffffff0f'), 5).v).toBe(-2n); // 2^32
    expect(intDecode(hex('ffffffffff7f'), 8).v).toBe(-2n); // far above
    expect(intDecode(hex('1f8080808080'), 5).v).toBe(-2n); // 6th continuation octet
    expect(intDecode(hex('1f808080808000'), 5).v).toBe(-2n);
    expect(intDecode(hex('1f9a'), 5).v).toBe(-1n);
    expect(intDecode(hex('1f'), 5).v).toBe(-1n);
  });
});

/** Appendix B, parsed from the RFC's xml2rfc source. */
function specHuffman(): { code: number; len: number }[] {
  const xml = readFileSync(RFC7541, 'utf8');
  const re = /^\s*(?:'.*?'\s*|EOS\s*)?\(\s*(\d+)\)\s+\|([01|]+)\s+([0-9a-f]+)\s+\[\s*(\d+)\]/gm;
  const out: { code: number; len: number }[] = [];
  for (const m of xml.matchAll(re)) {
    const bits = m[2].replace(/\|/g, '');
    expect(bits.length).toBe(Number(m[4]));
    expect(parseInt(bits, 2)).toBe(parseInt(m[3], 16));
    out[Number(m[1])] = { code: parseInt(m[3], 16), len: Number(m[4]) };
  }
  return out;
}

const huffEncode = (bytes: Uint8Array) => {
  h.with(bytes, (p, n) => h.ex.huffEncode(p, n));
  return h.out();
};
const huffDecode = (bytes: Uint8Array): number | Uint8Array =>
  h.with(bytes, (p, n) => {
    const r = h.ex.huffDecode(p, n);
    return r < 0 ? r : h.out();
  });

describe('Huffman code', () => {
  it('matches Appendix B of the RFC, all 257 symbols', () => {
    const spec = specHuffman();
    expect(spec.length).toBe(257);
    for (let s = 0; s <= 256; s++) {
      expect([s, h.ex.huffCode(s) >>> 0, h.ex.huffLength(s)]).toEqual([s, spec[s].code, spec[s].len]);
    }
  });

  it('encodes the RFC examples (C.4.1, C.6.1)', () => {
    const t = new TextEncoder();
    expect(toHex(huffEncode(t.encode('www.example.com')))).toBe('f1e3c2e5f23a6ba0ab90f4ff');
    expect(toHex(huffEncode(t.encode('no-cache')))).toBe('a8eb10649cbf');
    expect(toHex(huffEncode(t.encode('Mon, 21 Oct 2013 20:13:21 GMT')))).toBe(
      'd07abe941054d444a8200595040b8166e082a62d1bff',
    );
  });

  it('round-trips every octet value alone, all of them together, and random strings', roundTrips);

  it('refuses padding that is not all ones, padding of 8 bits or more, and EOS', refusals);

  it('decodes the same with the octet table an instance builds after 32 KiB of input', () => {
    // Until then the decoder steps through a nibble table; this string takes it past.
    const big = Uint8Array.from({ length: 40 * 1024 }, (_, i) => 0x20 + ((i * 7) % 95));
    expect(huffDecode(huffEncode(big))).toEqual(big);
    roundTrips();
    refusals();
    expect(huffDecode(huffEncode(big))).toEqual(big);
  });
});

function roundTrips(): void {
  for (let b = 0; b < 256; b++) {
    const one = Uint8Array.of(b);
    expect(huffDecode(huffEncode(one))).toEqual(one);
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  expect(huffDecode(huffEncode(all))).toEqual(all);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let k = 0; k < 300; k++) {
    const s = Uint8Array.from({ length: k % 97 }, () => (k % 3 === 0 ? rnd() : 0x20 + (rnd() % 95)));
    const enc = huffEncode(s);
    const bits = [...s].reduce((n, c) => n + (h.ex.huffLength(c) as number), 0);
    expect(enc.length).toBe(Math.ceil(bits / 8));
    expect(huffDecode(enc)).toEqual(s);
  }
  expect(huffDecode(new Uint8Array(0))).toEqual(new Uint8Array(0));
}

function refusals(): void {
  // 'a' = 00011 (5 bits): padded with 111 → 0x1f.
  expect(huffDecode(hex('1f'))).toEqual(Uint8Array.of(0x61));
  expect(huffDecode(hex('18'))).toBe(-3); // padded with 000
  expect(huffDecode(hex('1c'))).toBe(-3); // 100
  expect(huffDecode(hex('1fff'))).toBe(-2); // 11 bits of ones
  expect(huffDecode(hex('ff'))).toBe(-2); // 8 ones alone
  expect(huffDecode(hex('fe'))).toBe(-3); // an incomplete code, not ones
  expect(huffDecode(hex('ffffffff'))).toBe(-1); // EOS (30 ones) then 2 ones
  expect(huffDecode(hex('1fffffffff'))).toBe(-1); // 'a', then EOS inside the string
}

describe('static table lookup', () => {
  it('finds every entry by name and value, and each name at its first index', () => {
    const xml = readFileSync(RFC7541, 'utf8');
    const entries = [...xml.matchAll(/<c>(\d+)<\/c><c>([^<]*)<\/c>(?:<c\/>|<c>([^<]*)<\/c>)/g)].map(
      (m) => [Number(m[1]), m[2], m[3] ?? ''] as const,
    );
    expect(entries.length).toBe(61);
    const t = new TextEncoder();
    const first = new Map<string, number>();
    for (const [i, name, value] of entries) {
      if (!first.has(name)) first.set(name, i);
      const n = t.encode(name);
      const v = t.encode(value);
      const found = h.with(n, (np, nl) => h.with(v, (vp, vl) => h.ex.staticField(np, nl, vp, vl)));
      expect([name, value, found]).toEqual([name, value, i]);
      expect(h.with(n, (p, l) => h.ex.staticName(p, l))).toBe(first.get(name));
    }
    const none = t.encode('x-custom');
    expect(h.with(none, (p, l) => h.ex.staticName(p, l))).toBe(0);
    expect(h.with(t.encode(':Method'), (p, l) => h.ex.staticName(p, l))).toBe(0);
  });
});
