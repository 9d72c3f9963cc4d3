// The TypeScript classes (bindings/hpack.ts), run from source by vitest, and once from the
// built package (dist/) the way a user imports it.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { loadModule, hex, ROOT } from '../support/wasm.js';
import { H2Module } from '../../bindings/loader.js';
import { HpackEncoder, HpackDecoder, HpackError } from '../../bindings/hpack.js';
import * as entry from '../../bindings/index.js';
import { loadStories, caseFields } from './support.js';

const fresh = () => new H2Module(loadModule('h2wasm') as any);

describe('HpackEncoder / HpackDecoder', () => {
  it('round-trip tuples and objects, keep order and duplicates, report sensitive fields', () => {
    const m = fresh();
    const e = new HpackEncoder(m);
    const d = new HpackDecoder(m);
    const block = e.encode([
      [':method', 'GET'],
      ['accept', 'a'],
      { name: 'accept', value: 'b' },
      { name: 'x-token', value: 'secret', sensitive: true },
      { name: 'x-once', value: '1', noIndex: true },
    ]);
    expect(d.decode(block)).toEqual([
      [':method', 'GET'],
      ['accept', 'a'],
      ['accept', 'b'],
      ['x-token', 'secret'],
      ['x-once', '1'],
    ]);
    const again = e.encode([{ name: 'x-token', value: 'secret', sensitive: true }, ['accept', 'a']]);
    expect(d.decodeFields(again)).toEqual([
      { name: 'x-token', value: 'secret', sensitive: true },
      { name: 'accept', value: 'a' },
    ]);
    expect(again[again.length - 1]).toBeGreaterThanOrEqual(0xbe); // 'accept: a' indexed from the dynamic table
    expect(d.tableLength).toBe(2);
    expect(d.tableSize).toBe(6 + 1 + 32 + 6 + 1 + 32);
    e.free();
    d.free();
    expect(m.exports.h2_handle_count()).toBe(0);
  });

  it('carries non-ASCII values as UTF-8', () => {
    const m = fresh();
    const e = new HpackEncoder(m);
    const d = new HpackDecoder(m);
    const fields: [string, string][] = [
      ['x-name', 'café ☕ 😀'],
      ['x-ascii', 'plain'],
      ['x-empty', ''],
    ];
    const block = e.encode(fields);
    expect(d.decode(block)).toEqual(fields);
    expect(d.decode(e.encode(fields))).toEqual(fields); // now from the dynamic table
    e.free();
    d.free();
  });

  it('survives memory growth between calls (large fields)', () => {
    const m = fresh();
    const e = new HpackEncoder(m);
    const d = new HpackDecoder(m);
    d.setMaxHeaderListSize(4 << 20);
    const big = 'x'.repeat(3 << 20);
    expect(
      d.decode(
        e.encode([
          ['x-big', big],
          ['x-small', 's'],
        ]),
      ),
    ).toEqual([
      ['x-big', big],
      ['x-small', 's'],
    ]);
    e.free();
    d.free();
  });

  it('throws HpackError naming the fault; after a malformed block the decoder refuses further use', () => {
    const d = new HpackDecoder(fresh());
    expect(() => d.decode(hex('80'))).toThrow(/index 0 is not a valid table index/);
    try {
      d.decode(hex('82'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HpackError);
      expect((err as HpackError).code).toBe(1);
      expect((err as Error).message).toContain('unusable');
    }
    d.free();
  });

  it('a header list over the limit throws with code LIMIT_EXCEEDED and leaves the decoder usable', () => {
    const m = fresh();
    const e = new HpackEncoder(m);
    const d = new HpackDecoder(m);
    d.setMaxHeaderListSize(60);
    const err = (() => {
      try {
        d.decode(e.encode([['x-a', 'v'.repeat(40)]]));
      } catch (x) {
        return x as HpackError;
      }
    })();
    expect(err?.code).toBe(8);
    expect(err?.message).toBe('hpack: header list larger than SETTINGS_MAX_HEADER_LIST_SIZE');
    expect(d.decode(e.encode([[':method', 'GET']]))).toEqual([[':method', 'GET']]);
    e.free();
    d.free();
  });

  it('table size changes on both sides stay in step', () => {
    const m = fresh();
    const e = new HpackEncoder(m);
    const d = new HpackDecoder(m);
    for (const story of loadStories('raw-data').slice(0, 4)) {
      story.cases.forEach((c, i) => {
        if (i === 2) {
          d.setMaxTableSize(0);
          e.setMaxTableSize(0);
        }
        if (i === 5) {
          d.setMaxTableSize(512);
          e.setMaxTableSize(512);
        }
        expect(d.decode(e.encode(caseFields(c)))).toEqual(caseFields(c));
      });
    }
    e.free();
    d.free();
  });

  it('free() twice is harmless; use after free throws', () => {
    const m = fresh();
    const e = new HpackEncoder(m);
    e.free();
    e.free();
    expect(() => e.encode([])).toThrow(/after free/);
    const d = new HpackDecoder(m);
    d.free();
    expect(() => d.decode(new Uint8Array())).toThrow(/after free/);
    expect(m.exports.h2_handle_count()).toBe(0);
  });

  it('the package entry registers the default module', () => {
    const e = new entry.HpackEncoder();
    const d = new entry.HpackDecoder();
    expect(d.decode(e.encode([['x-a', 'b']]))).toEqual([['x-a', 'b']]);
    e.free();
    d.free();
  });
});

describe('built package', () => {
  it("import('h2wasm') from dist round-trips a block", () => {
    const script = `
      import { HpackEncoder, HpackDecoder } from 'h2wasm';
      const e = new HpackEncoder(), d = new HpackDecoder();
      const out = d.decode(e.encode([[':method', 'GET'], ['x-a', 'b']]));
      console.log(JSON.stringify(out));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([
      [':method', 'GET'],
      ['x-a', 'b'],
    ]);
  });
});
