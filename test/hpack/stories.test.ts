// The hpack-test-case stories: every encoder's wire blocks decode to their header lists;
// every raw-data story round-trips through our encoder and decoder at several table sizes
// and through hpack.js (an independent decoder); and our encoder is measured against
// nghttp2's encodings of the same stories.
import { describe, it, expect, beforeAll } from 'vitest';
import { createRequire } from 'node:module';
import { loadModule, hex, type Exports } from '../support/wasm.js';
import { storyDirs, loadStories, caseFields, fieldsOnly, AbiDecoder, AbiEncoder, type Field } from './support.js';

const hpack = createRequire(import.meta.url)('hpack.js');

let ex: Exports;
beforeAll(() => {
  ex = loadModule('h2wasm');
});

const encoderDirs = storyDirs().filter((d) => d !== 'raw-data');

describe("hpack-test-case: decoding every encoder's stories", () => {
  it('has the six corpora', () => {
    expect(encoderDirs.length).toBeGreaterThanOrEqual(5);
    expect(storyDirs()).toContain('raw-data');
  });
  for (const dir of encoderDirs) {
    it(dir, () => {
      let blocks = 0;
      for (const story of loadStories(dir)) {
        const d = new AbiDecoder(ex);
        story.cases.forEach((c, i) => {
          // header_table_size: the size in force from this block on (a SETTINGS change).
          if (c.header_table_size != null)
            expect(ex.h2_hpack_decoder_set_max_table_size(d.h, c.header_table_size)).toBe(0);
          const r = d.decode(hex(c.wire!));
          expect(r.error, `${story.name} #${i}`).toBe('');
          expect(fieldsOnly(r.fields), `${story.name} #${i}`).toEqual(caseFields(c));
          blocks++;
        });
        expect(d.free()).toBe(0);
      }
      expect(blocks).toBeGreaterThan(0);
      expect(ex.h2_handle_count()).toBe(0);
    });
  }
});

const raw = () => loadStories('raw-data');

function roundTrip(sizes: { at: number; encoder: number[]; decoder: number[] }[] = []) {
  let octets = 0;
  for (const story of raw()) {
    const e = new AbiEncoder(ex);
    const d = new AbiDecoder(ex);
    story.cases.forEach((c, i) => {
      for (const s of sizes) {
        if (s.at < 0 ? i === story.cases.length + s.at : i === s.at) {
          for (const n of s.decoder) ex.h2_hpack_decoder_set_max_table_size(d.h, n);
          for (const n of s.encoder) e.setMaxTableSize(n);
        }
      }
      const fields = caseFields(c);
      const wire = e.encode(fields);
      octets += wire.length;
      const r = d.decode(wire);
      expect(r.error, `${story.name} #${i}`).toBe('');
      expect(fieldsOnly(r.fields), `${story.name} #${i}`).toEqual(fields);
      expect(ex.h2_hpack_decoder_table_size(d.h), `${story.name} #${i}`).toBe(ex.h2_hpack_encoder_table_size(e.h));
      expect(ex.h2_hpack_decoder_table_len(d.h)).toBe(ex.h2_hpack_encoder_table_len(e.h));
    });
    e.free();
    d.free();
  }
  expect(ex.h2_handle_count()).toBe(0);
  return octets;
}

describe('hpack-test-case raw-data: our encoder → our decoder', () => {
  it('table 4096 (the default)', () => {
    roundTrip();
  });
  it('table 256', () => {
    roundTrip([{ at: 0, encoder: [256], decoder: [256] }]);
  });
  it('table 0 (no dynamic table at all)', () => {
    roundTrip([{ at: 0, encoder: [0], decoder: [0] }]);
  });
  it('size changes mid-story: lowered, then lowered to 0 and raised back between two blocks', () => {
    roundTrip([
      { at: 3, encoder: [1024], decoder: [1024] },
      { at: 7, encoder: [0, 4096], decoder: [0, 4096] },
      { at: -2, encoder: [300, 200, 8192], decoder: [300, 200, 8192] },
    ]);
  });
});

describe('hpack-test-case raw-data: our encoder → hpack.js', () => {
  it('hpack.js decodes every block to the same fields', () => {
    for (const story of raw()) {
      const e = new AbiEncoder(ex);
      const d = hpack.decompressor.create({ table: { size: 4096 } });
      story.cases.forEach((c, i) => {
        const fields = caseFields(c);
        d.write(Buffer.from(e.encode(fields)));
        d.execute();
        const got: Field[] = [];
        for (let f; (f = d.read()) !== null;) got.push([f.name, f.value]);
        expect(got, `${story.name} #${i}`).toEqual(fields);
      });
      e.free();
    }
  });
});

describe('compression', () => {
  it('our encoder spends no more octets on raw-data than nghttp2 did', () => {
    const ours = roundTrip();
    const nghttp2 = loadStories('nghttp2').reduce(
      (s, st) => s + st.cases.reduce((t, c) => t + c.wire!.length / 2, 0),
      0,
    );
    const fields = raw().reduce((s, st) => s + st.cases.reduce((t, c) => t + c.headers.length, 0), 0);
    console.log(
      `raw-data (${fields} fields): h2wasm ${ours} octets, nghttp2 ${nghttp2} octets (${((ours / nghttp2) * 100).toFixed(2)}%)`,
    );
    expect(ours).toBeLessThanOrEqual(nghttp2);
  });
});
