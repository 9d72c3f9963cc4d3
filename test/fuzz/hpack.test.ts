// Fuzzing the standalone HPACK decoder of the release module (h2_hpack_decode) with fast-check.
// Replay a failure:  FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz/hpack.test.ts
// Hunt longer:       FUZZ_RUNS=20000 npx vitest run test/fuzz/hpack.test.ts
// Properties: never a trap/abort; the code is OK / INVALID_PEER_MESSAGE / LIMIT_EXCEEDED, or
// ERROR once the decoder failed; on OK a well-formed field list within the list limit; the
// heap is back near its baseline after the decoder is freed.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { MemHost } from '../ffi/mem-host.js';
import { buildHuffmanTables } from '../support/huffman-tables.js';
import { H2E } from '../../bindings/abi.js';
import { fc, params, mutationArb, mutate, describeThrow } from './common.js';

const RUNS = 10000;
const HEAP_SLACK = 1024;

// Seed corpus: the first blocks of a few stories from each encoder in hpack-test-case.
const CASES = join(ROOT, '..', 'shared', 'data', 'hpack-test-case');
const STORIES: Uint8Array[][] = [];
if (existsSync(CASES)) {
  for (const dir of ['nghttp2', 'go-hpack', 'python-hpack', 'haskell-http2-static-huffman', 'raw-data']) {
    if (!existsSync(join(CASES, dir))) continue;
    for (const f of readdirSync(join(CASES, dir)).sort().slice(0, 3)) {
      const story = JSON.parse(readFileSync(join(CASES, dir, f), 'utf8')) as { cases: { wire?: string }[] };
      const blocks = story.cases
        .slice(0, 8)
        .filter((c) => c.wire)
        .map((c) => Uint8Array.from(Buffer.from(c.wire!, 'hex')));
      if (blocks.length) STORIES.push(blocks);
    }
  }
}
const POOL = STORIES.flat();

/** Parses a result field list; returns its RFC 9113 size or throws when malformed. */
function checkFieldList(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let at = 0;
  let size = 0;
  while (at < b.length) {
    if (b.length - at < 12) throw new Error(`field list: ${b.length - at} trailing octets`);
    const nl = dv.getUint32(at, true),
      vl = dv.getUint32(at + 4, true),
      flags = dv.getUint32(at + 8, true);
    if (flags & ~3) throw new Error(`field list: flags ${flags}`);
    if (nl + vl > b.length - at - 12) throw new Error('field list: lengths past the end');
    size += nl + vl + 32;
    at += 12 + nl + vl;
  }
  return size;
}

const host = new MemHost();
const ex = host.ex;
// Warm-up: one-time growth (lazy tables, the handle table) happens before any baseline.
for (const s of STORIES) {
  const d = ex.h2_hpack_decoder_new();
  for (const b of s) host.with(b, (p, n) => ex.h2_hpack_decode(d, p, n));
  ex.h2_hpack_decoder_free(d);
}
buildHuffmanTables(ex); // and the Huffman decoder's octet table (after 32 KiB of input)

/** Decodes `blocks` in order on a fresh decoder; returns the codes. Throws on a property failure. */
function run(blocks: Uint8Array[], limit: number | null, tableSize: number | null): number[] {
  const base = ex.h2_heap_used() >>> 0;
  const dec = ex.h2_hpack_decoder_new();
  expect(dec).not.toBe(0);
  if (limit !== null) expect(ex.h2_hpack_decoder_set_max_header_list_size(dec, limit)).toBe(0);
  if (tableSize !== null) ex.h2_hpack_decoder_set_max_table_size(dec, tableSize);
  const codes: number[] = [];
  let failed = false;
  for (const b of blocks) {
    let code: number;
    try {
      code = host.with(b, (p, n) => ex.h2_hpack_decode(dec, p, n)) >>> 0;
    } catch (e) {
      throw new Error(`h2_hpack_decode ${describeThrow(e)} on ${Buffer.from(b).toString('hex')}`, { cause: e });
    }
    codes.push(code);
    if (failed) expect(code).toBe(H2E.ERROR);
    else expect([H2E.OK, H2E.INVALID_PEER_MESSAGE, H2E.LIMIT_EXCEEDED]).toContain(code);
    if (code === H2E.INVALID_PEER_MESSAGE) failed = true;
    const len = ex.h2_hpack_decoder_result_len(dec) >>> 0;
    if (code === H2E.OK) {
      const size = checkFieldList(host.bytes(ex.h2_hpack_decoder_result(dec), len));
      expect(size).toBeLessThanOrEqual(limit ?? 65536);
    } else expect(len).toBe(0);
    expect(ex.h2_hpack_decoder_table_size(dec) >>> 0).toBeLessThanOrEqual(tableSize ?? 4096);
  }
  expect(ex.h2_hpack_decoder_free(dec)).toBe(0);
  expect(ex.h2_heap_used() >>> 0).toBeLessThanOrEqual(base + HEAP_SLACK);
  return codes;
}

const limitArb = fc.option(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70000 })), {
  nil: null,
});
const tableArb = fc.option(fc.integer({ min: 0, max: 8192 }), { nil: null });

describe('fuzz: HPACK decoder (h2_hpack_decode)', () => {
  it('has a seed corpus', () => {
    expect(STORIES.length).toBeGreaterThanOrEqual(3);
    // The unmutated corpus decodes (the property's OK path is exercised).
    for (const s of STORIES) expect(run(s, null, null).every((c) => c === H2E.OK)).toBe(true);
  });

  it('random byte strings: no trap, a valid code, bounded heap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 4 }),
        limitArb,
        tableArb,
        (blocks, limit, table) => {
          run(blocks, limit, table);
        },
      ),
      params(RUNS),
    );
  });

  it('mutated real blocks (bit flips, truncation, insertion, deletion, splicing)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
        limitArb,
        tableArb,
        (storyIx, which, muts, limit, table) => {
          const story = STORIES[storyIx % STORIES.length];
          const k = which % story.length;
          const blocks = story.map((b, i) => (i === k ? mutate(b, muts, POOL) : b));
          run(blocks, limit, table);
        },
      ),
      params(RUNS),
    );
  });
});
