// Malformed blocks, limits and size-update rules (each fault with its message, never a
// trap), and misuse of the ABI (bad handles and ranges answer H2E_INVALID_ARG and leave the
// instance usable).
import { describe, it, expect } from 'vitest';
import { loadModule, hex, type Exports } from '../support/wasm.js';
import { AbiDecoder, AbiEncoder, flatten } from './support.js';

const OK = 0,
  ERROR = 1,
  INVALID_ARG = 2,
  INVALID_PEER_MESSAGE = 6,
  LIMIT_EXCEEDED = 8;

const malformed: [string, string, string][] = [
  ['indexed field with index 0', '80', 'index 0 is not a valid table index'],
  ['indexed field past the empty dynamic table', 'be', 'table index out of range'],
  ['literal whose name index is past the table', '7e0161', 'table index out of range'],
  ['index above 2^32-1', 'ffffffffff7f', 'integer overflow'],
  ['index with too many continuation octets', 'ff808080808000', 'integer overflow'],
  ['index cut short', 'ff', 'truncated integer'],
  ['index cut in its continuation', 'ff80', 'truncated integer'],
  ['string length above 2^32-1', '407fffffffff7f', 'integer overflow'],
  ['string length cut short', '407f', 'truncated integer'],
  ['literal without its name', '40', 'truncated string literal'],
  ['literal without its value', '04', 'truncated string literal'],
  ['string longer than the block', '400561', 'truncated string literal'],
  ['value longer than the block', '0f2805313233', 'truncated string literal'],
  ['Huffman string containing EOS', '0484ffffffff', 'Huffman-coded string contains EOS'],
  ['Huffman padding of 8 bits or more', '04821fff', 'Huffman padding longer than 7 bits'],
  ['Huffman padding that is not all ones', '048118', 'Huffman padding is not all ones'],
  [
    'size update above SETTINGS_HEADER_TABLE_SIZE',
    '3fe21f',
    'dynamic table size update larger than SETTINGS_HEADER_TABLE_SIZE',
  ],
  ['size update after a field', '8220', 'dynamic table size update must come first'],
  ['size update cut short', '3f', 'truncated integer'],
];

describe('malformed header blocks', () => {
  for (const module of ['h2wasm', 'h2wasm.debug']) {
    describe(module, () => {
      const ex = loadModule(module);
      for (const [what, block, message] of malformed) {
        it(`${what} → COMPRESSION_ERROR "${message}"`, () => {
          const d = new AbiDecoder(ex);
          const r = d.decode(hex(block));
          expect(r.code).toBe(INVALID_PEER_MESSAGE);
          expect(r.error).toContain(message);
          expect(r.error.startsWith('hpack: ')).toBe(true);
          expect(r.fields).toEqual([]);
          // The decoder is unusable from now on, and says so.
          const again = d.decode(hex('82'));
          expect(again.code).toBe(ERROR);
          expect(again.error).toContain('unusable');
          expect(d.free()).toBe(OK);
        });
      }

      it('never traps on random input, and the instance stays usable', () => {
        let seed = 7;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
        const codes = new Set<number>();
        for (let k = 0; k < 3000; k++) {
          const d = new AbiDecoder(ex);
          // Mostly plausible prefixes (a valid start) then noise.
          const block = Uint8Array.from({ length: 1 + (k % 40) }, (_, i) => (i === 0 && k % 2 ? 0x82 : rnd()));
          codes.add(d.decode(block).code);
          d.decode(Uint8Array.from({ length: k % 7 }, rnd));
          d.free();
        }
        expect([...codes].every((c) => c === OK || c === INVALID_PEER_MESSAGE || c === LIMIT_EXCEEDED)).toBe(true);
        expect(ex.h2_handle_count()).toBe(0);
        const d = new AbiDecoder(ex);
        expect(d.decode(hex('828684')).fields.map(([n, v]) => `${n}: ${v}`)).toEqual([
          ':method: GET',
          ':scheme: http',
          ':path: /',
        ]);
        d.free();
      });
    });
  }
});

describe('limits and size updates', () => {
  const ex = loadModule('h2wasm');

  it('several size updates may open a block; the table follows each', () => {
    const d = new AbiDecoder(ex);
    expect(d.decode(hex('4001610162')).code).toBe(OK); // 'a': 'b', indexed
    expect(ex.h2_hpack_decoder_table_len(d.h)).toBe(1);
    const r = d.decode(hex('20 3f e1 1f 82'.replace(/ /g, '')));
    expect(r.code).toBe(OK);
    expect(ex.h2_hpack_decoder_table_len(d.h)).toBe(0); // the update to 0 emptied it
    expect(d.decode(hex('be')).error).toContain('out of range');
    d.free();
  });

  it('after SETTINGS_HEADER_TABLE_SIZE is lowered, the next block must start with an update to at most the lowest value', () => {
    const d = new AbiDecoder(ex);
    expect(ex.h2_hpack_decoder_set_max_table_size(d.h, 100)).toBe(OK);
    expect(d.decode(hex('82')).error).toBe(
      'hpack: dynamic table size update required after SETTINGS_HEADER_TABLE_SIZE was lowered',
    );
    d.free();

    const d2 = new AbiDecoder(ex);
    ex.h2_hpack_decoder_set_max_table_size(d2.h, 100);
    ex.h2_hpack_decoder_set_max_table_size(d2.h, 4096);
    expect(d2.decode(hex('3fe11f82')).error).toBe(
      'hpack: first dynamic table size update above the lowered SETTINGS_HEADER_TABLE_SIZE',
    );
    d2.free();

    const d3 = new AbiDecoder(ex);
    ex.h2_hpack_decoder_set_max_table_size(d3.h, 100);
    ex.h2_hpack_decoder_set_max_table_size(d3.h, 4096);
    expect(d3.decode(hex('3f453fe11f82')).code).toBe(OK); // 100, then 4096
    expect(d3.decode(hex('82')).code).toBe(OK); // only the first block after must
    d3.free();

    const d4 = new AbiDecoder(ex);
    ex.h2_hpack_decoder_set_max_table_size(d4.h, 8192); // raising needs no update
    expect(d4.decode(hex('82')).code).toBe(OK);
    expect(d4.decode(hex('3fe13f')).code).toBe(OK); // 8192 now allowed
    expect(d4.decode(hex('3fe23f')).error).toContain('larger than SETTINGS_HEADER_TABLE_SIZE');
    d4.free();
  });

  it('a header list over the limit is refused as soon as it is exceeded, without losing table sync', () => {
    const d = new AbiDecoder(ex);
    expect(ex.h2_hpack_decoder_set_max_header_list_size(d.h, 100)).toBe(OK);
    // 'x-a': 40 × 'v' (indexed; 3 + 40 + 32 = 75), then 'x-b': 'w' (3 + 1 + 32 = 36) → 111 > 100.
    const big = `4003782d6128${'76'.repeat(40)}`;
    const r = d.decode(hex(big + '4003782d620177'));
    expect(r.code).toBe(LIMIT_EXCEEDED);
    expect(r.error).toBe('hpack: header list larger than SETTINGS_MAX_HEADER_LIST_SIZE');
    expect(r.fields).toEqual([]);
    // Both entries were still added, as the peer's encoder assumes.
    expect(ex.h2_hpack_decoder_table_len(d.h)).toBe(2);
    const next = d.decode(hex('be'));
    expect(next.code).toBe(OK);
    expect(next.fields).toEqual([['x-b', 'w', 0]]);
    d.free();
  });

  it('a list exactly at the limit passes', () => {
    const d = new AbiDecoder(ex);
    ex.h2_hpack_decoder_set_max_header_list_size(d.h, 42 + 42);
    // ':method: GET' = 7 + 3 + 32 = 42, twice.
    expect(d.decode(hex('8282')).code).toBe(OK);
    expect(d.decode(hex('828282')).code).toBe(LIMIT_EXCEEDED);
    d.free();
  });

  it('a huge allowed table costs only what the peer fills; growth keeps every entry', () => {
    const d = new AbiDecoder(ex);
    const pages = ex.memory.buffer.byteLength;
    ex.h2_hpack_decoder_set_max_table_size(d.h, 0xffffffff);
    // Update to 2^32-1, then 300 distinct 100-octet entries (the table grows past 4096 twice).
    const update = '3fe0ffffff0f';
    const fields: [string, string, number][] = [];
    let block = update;
    for (let i = 0; i < 300; i++) {
      const v = `v${String(i).padStart(3, '0')}`.padEnd(90, '.');
      fields.push(['x-entry', v, 0]);
      block += '4007782d656e747279' + (90).toString(16) + Buffer.from(v).toString('hex');
    }
    const r = d.decode(hex(block));
    expect(r.code).toBe(OK);
    expect(r.fields).toEqual(fields);
    expect(ex.h2_hpack_decoder_table_len(d.h)).toBe(300);
    expect(ex.h2_hpack_decoder_table_size(d.h)).toBe(300 * (7 + 90 + 32));
    // Index 361 is the oldest entry, still there after two relayouts.
    const oldest = d.decode(hex('ffea01')); // 61 + 300
    expect(oldest.fields).toEqual([fields[0]]);
    expect(ex.memory.buffer.byteLength - pages).toBeLessThan(1 << 20);
    d.free();
  });

  it('reports never-indexed fields with flag bit 0', () => {
    const d = new AbiDecoder(ex);
    expect(d.decode(hex('1003782d610176140173')).fields).toEqual([
      ['x-a', 'v', 1],
      [':path', 's', 1],
    ]);
    d.free();
  });
});

describe('encoder rules', () => {
  const ex = loadModule('h2wasm');
  const encodeOnce = (fields: [string, string, number?][]) => {
    const e = new AbiEncoder(ex);
    const w = e.encode(fields.map(([n, v, f]) => [n, v, f ?? 0]));
    const size = ex.h2_hpack_encoder_table_size(e.h);
    e.free();
    return { first: w[0], size, w };
  };

  it('never indexes sensitive fields: the flag, authorization, proxy-authorization, short cookies', () => {
    expect(encodeOnce([['x-secret', 'abc', 1]]).first & 0xf0).toBe(0x10);
    expect(encodeOnce([['authorization', 'Basic abc']]).first).toBe(0x1f); // never indexed, name 23
    expect(encodeOnce([['proxy-authorization', 'x']]).first).toBe(0x1f);
    expect(encodeOnce([['cookie', 'id=1']]).first).toBe(0x1f);
    // A long cookie is indexed (name 32).
    expect(encodeOnce([['cookie', 'id=0123456789abcdefghij']])).toMatchObject({ first: 0x60, size: 6 + 23 + 32 });
    expect(encodeOnce([['x-a', 'b', 2]])).toMatchObject({ first: 0x00, size: 0 }); // NO_INDEX
  });

  it('does not index volatile names or entries above 3/4 of the table', () => {
    for (const n of [':path', 'content-length', 'etag', 'set-cookie', 'age', 'if-none-match', 'if-modified-since']) {
      expect(encodeOnce([[n, '/x?1']]).size).toBe(0);
    }
    expect(encodeOnce([['x-big', 'v'.repeat(3072 - 32 - 5)]]).size).toBe(3072);
    expect(encodeOnce([['x-big', 'v'.repeat(3072 - 32 - 4)]]).size).toBe(0);
  });

  it('emits the smallest then the final size when the peer lowered and raised between blocks', () => {
    const e = new AbiEncoder(ex);
    e.encode([['x-a', 'b']]);
    e.setMaxTableSize(0);
    e.setMaxTableSize(4096);
    expect(Buffer.from(e.encode([[':method', 'GET']])).toString('hex')).toBe('203fe11f82');
    expect(Buffer.from(e.encode([[':method', 'GET']])).toString('hex')).toBe('82');
    e.setMaxTableSize(1 << 20); // capped at 4096: nothing to announce
    expect(Buffer.from(e.encode([[':method', 'GET']])).toString('hex')).toBe('82');
    e.setMaxTableSize(256);
    expect(Buffer.from(e.encode([])).toString('hex')).toBe('3fe101');
    e.free();
  });
});

describe('ABI misuse', () => {
  const ex: Exports = loadModule('h2wasm');
  const memEnd = () => ex.memory.buffer.byteLength;

  it('zero, freed, stale and foreign handles answer H2E_INVALID_ARG (or 0) and change nothing', () => {
    const e = ex.h2_hpack_encoder_new() >>> 0;
    const d = ex.h2_hpack_decoder_new() >>> 0;
    expect(e).not.toBe(0);
    expect(d).not.toBe(0);
    const buf = ex.h2_alloc(64) >>> 0;
    for (const bad of [0, e, 0xffffffff, (d & 0xfffff) | 0x7ff00000]) {
      expect(ex.h2_hpack_decode(bad, buf, 1)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_decoder_set_max_table_size(bad, 1)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_decoder_set_max_header_list_size(bad, 1)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_decoder_result(bad)).toBe(0);
      expect(ex.h2_hpack_decoder_result_len(bad)).toBe(0);
      expect(ex.h2_hpack_decoder_error_print(bad, buf, 64)).toBe(0);
      expect(ex.h2_hpack_decoder_table_size(bad)).toBe(0);
      expect(ex.h2_hpack_decoder_table_entry(bad, 1, buf, 64)).toBe(0);
    }
    for (const bad of [0, d, 0xffffffff]) {
      expect(ex.h2_hpack_encode(bad, buf, 0)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_encoder_set_max_table_size(bad, 1)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_encoder_result_len(bad)).toBe(0);
      expect(ex.h2_hpack_encoder_free(bad)).toBe(INVALID_ARG);
    }
    expect(ex.h2_hpack_decoder_free(e)).toBe(INVALID_ARG);
    expect(ex.h2_hpack_encoder_free(e)).toBe(OK);
    expect(ex.h2_hpack_encoder_free(e)).toBe(INVALID_ARG); // double free
    expect(ex.h2_hpack_encode(e, buf, 0)).toBe(INVALID_ARG); // freed
    expect(ex.h2_hpack_decoder_free(d)).toBe(OK);
    expect(ex.h2_hpack_decoder_free(d)).toBe(INVALID_ARG);
    // The slot is reused with a new generation: the old handle stays dead.
    const d2 = ex.h2_hpack_decoder_new() >>> 0;
    expect(ex.h2_hpack_decode(d, buf, 0)).toBe(INVALID_ARG);
    expect(ex.h2_hpack_decode(d2, buf, 0)).toBe(OK);
    ex.h2_hpack_decoder_free(d2);
    ex.h2_free(buf);
    expect(ex.h2_handle_count()).toBe(0);
  });

  it('ranges outside memory, or at address 0, answer H2E_INVALID_ARG', () => {
    const e = new AbiEncoder(ex);
    const d = new AbiDecoder(ex);
    for (const [p, n] of [
      [memEnd() - 4, 8],
      [0, 1],
      [memEnd(), 1],
      [0xfffffff0, 0x20],
    ]) {
      expect(ex.h2_hpack_decode(d.h, p, n)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_encode(e.h, p, n)).toBe(INVALID_ARG);
      expect(ex.h2_hpack_decoder_error_print(d.h, p, n)).toBe(0);
      expect(ex.h2_hpack_decoder_table_entry(d.h, 1, p, n)).toBe(0);
    }
    // Both still work.
    expect(d.decode(e.encode([['x-a', 'b']])).fields).toEqual([['x-a', 'b', 0]]);
    e.free();
    d.free();
  });

  it('a truncated field list is H2E_INVALID_ARG and leaves the encoder as it was', () => {
    const e = new AbiEncoder(ex);
    const flat = flatten([
      ['x-a', 'b'],
      ['x-c', 'd'],
    ]);
    for (const cut of [1, 11, 12, 15, flat.length - 1]) {
      const p = ex.h2_alloc(cut) >>> 0;
      new Uint8Array(ex.memory.buffer, p, cut).set(flat.subarray(0, cut));
      expect(ex.h2_hpack_encode(e.h, p, cut)).toBe(INVALID_ARG);
      ex.h2_free(p);
      expect(ex.h2_hpack_encoder_table_len(e.h)).toBe(0);
    }
    // A length field pointing past the end (and past 2^32).
    const lie = new Uint8Array(12);
    new DataView(lie.buffer).setUint32(0, 0xffffffff, true);
    const p = ex.h2_alloc(12) >>> 0;
    new Uint8Array(ex.memory.buffer, p, 12).set(lie);
    expect(ex.h2_hpack_encode(e.h, p, 12)).toBe(INVALID_ARG);
    ex.h2_free(p);
    expect(e.encode([['x-a', 'b']]).length).toBeGreaterThan(0);
    e.free();
  });

  it('error_print truncates to the buffer and table_entry reports the size it needs', () => {
    const d = new AbiDecoder(ex);
    d.decode(hex('400378'));
    const buf = ex.h2_alloc(300) >>> 0;
    expect(ex.h2_hpack_decoder_error_print(d.h, buf, 5)).toBe(5);
    expect(Buffer.from(new Uint8Array(ex.memory.buffer, buf, 5)).toString()).toBe('hpack');
    d.free();
    const d2 = new AbiDecoder(ex);
    d2.decode(hex('4003782d610162'));
    expect(ex.h2_hpack_decoder_table_entry(d2.h, 1, buf, 4)).toBe(12 + 4);
    expect(ex.h2_hpack_decoder_table_entry(d2.h, 1, buf, 300)).toBe(16);
    expect(Buffer.from(new Uint8Array(ex.memory.buffer, buf + 12, 4)).toString()).toBe('x-ab');
    expect(ex.h2_hpack_decoder_table_entry(d2.h, 2, buf, 300)).toBe(0);
    expect(ex.h2_hpack_decoder_table_entry(d2.h, 0, buf, 300)).toBe(0);
    ex.h2_free(buf);
    d2.free();
  });
});
