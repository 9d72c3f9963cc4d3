// Fuzzing sequences of ABI calls on the release module (build/h2wasm.wasm) with fast-check.
// Replay a failure:  FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz/abi.test.ts
// Hunt longer:       FUZZ_RUNS=3000 npx vitest run test/fuzz/abi.test.ts
// test/ffi/safety.test.ts makes single calls with bad arguments; here each run is a sequence
// of 1..50 calls to any export (from the binary), with arguments mixing handles returned
// earlier in the sequence, a scratch buffer, small values and random values. Properties: no
// call traps or throws; afterwards, once what the sequence created is freed (leaves first, the
// executor last), h2_handle_count is back to its baseline (bounded: see HANDLE_SLACK), and a
// real HPACK round trip and HTTP/2 GET still work on the same instance.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { readSignatures } from '../support/wasm-signatures.js';
import { MemHost, stillWorks, WASM_PATH } from '../ffi/mem-host.js';
import { fc, params, describeThrow } from './common.js';

const RUNS = 1000;

const SIGS = readSignatures(readFileSync(WASM_PATH)).exports;
const HEADER = readFileSync(join(ROOT, 'include', 'h2wasm.h'), 'utf8');
/** Return type of each export, from the header (h2_code, h2_ptr, a handle type, uint32_t…). */
const RET = new Map<string, string>();
for (const m of HEADER.matchAll(/H2_EXPORT\s+(\w+)\s+(\w+)\(/g)) RET.set(m[2], m[1]);
const NAMES = [...SIGS.keys()].filter((n) => typeof n === 'string').sort();
const isHandleType = (t: string | undefined) => !!t && t.startsWith('h2_') && t !== 'h2_code' && t !== 'h2_ptr';
/** Exports that make a handle (half the calls pick one of these, so later calls have handles to use). */
const MAKERS = NAMES.filter((n) => isHandleType(RET.get(n)));
/** Free order: leaves first, connections, the executor last. */
const FREE_ORDER = [
  'h2_waker',
  'h2_buf',
  'h2_error',
  'h2_headers',
  'h2_body',
  'h2_send_stream',
  'h2_respond',
  'h2_response',
  'h2_request',
  'h2_task',
  'h2_hpack_encoder',
  'h2_hpack_decoder',
  'h2_io',
  'h2_clientconn_options',
  'h2_serverconn_options',
  'h2_clientconn',
  'h2_serverconn',
  'h2_executor',
];

type ArgChoice =
  | { k: 'made'; i: number }
  | { k: 'scratch'; off: number }
  | { k: 'small'; v: number }
  | { k: 'u32'; v: number }
  | { k: 'i64'; v: bigint };
interface Call {
  fn: number;
  ctor: boolean;
  args: ArgChoice[];
}

const argArb: fc.Arbitrary<ArgChoice> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('made' as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('scratch' as const), off: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('small' as const), v: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('u32' as const), v: fc.nat({ max: 0xffffffff }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('i64' as const),
      v: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    }),
  },
);
const callArb: fc.Arbitrary<Call> = fc.record({
  fn: fc.nat(),
  ctor: fc.boolean(),
  args: fc.array(argArb, { minLength: 6, maxLength: 6 }),
});

/** Runs one sequence on a fresh instance; throws on a property failure. */
function runSequence(calls: Call[]): void {
  const h = new MemHost();
  const ex = h.ex;
  // The constructors first: the sequence's calls pick from these and from what they return.
  const base = ex.h2_handle_count() >>> 0;
  const scratch = ex.h2_alloc(256) >>> 0;
  const made: [string, number][] = [];
  const log: string[] = [];
  for (const c of calls) {
    const name = c.ctor ? MAKERS[c.fn % MAKERS.length] : NAMES[c.fn % NAMES.length];
    const sig = SIGS.get(name)!;
    const args = sig.params.map((t, i) => {
      const a = c.args[i % c.args.length];
      let v: number | bigint;
      switch (a.k) {
        case 'made':
          v = made.length ? made[a.i % made.length][1] : a.i;
          break;
        case 'scratch':
          v = scratch + a.off;
          break;
        case 'small':
          v = a.v;
          break;
        case 'u32':
          v = a.v;
          break;
        case 'i64':
          v = a.v;
          break;
      }
      return t === 'i64' ? BigInt.asIntN(64, BigInt(v)) : Number(BigInt.asIntN(32, BigInt(v)));
    });
    log.push(`${name}(${args.join(', ')})`);
    let r: unknown;
    try {
      r = ex[name](...args);
    } catch (e) {
      throw new Error(`${name} ${describeThrow(e)}; calls: ${log.join('; ')}`, { cause: e });
    }
    const ret = RET.get(name);
    if (typeof r === 'number' && r !== 0 && isHandleType(ret)) made.push([ret!, r >>> 0]);
  }
  // Free what the sequence made (double frees are harmless by contract).
  const tryCall = (name: string, ...args: number[]) => {
    try {
      return ex[name](...args);
    } catch (e) {
      throw new Error(`cleanup ${name} ${describeThrow(e)}; calls: ${log.join('; ')}`, { cause: e });
    }
  };
  for (const kind of FREE_ORDER) {
    if (kind === 'h2_executor') {
      // Drain the executors' tasks before freeing them.
      for (const [k, v] of made)
        if (k === 'h2_executor')
          for (let t, n = 0; n < 1000 && (t = tryCall('h2_executor_poll', v)) !== 0; n++) tryCall('h2_task_free', t);
    }
    for (const [k, v] of made) if (k === kind && SIGS.has(`${kind}_free`)) tryCall(`${kind}_free`, v);
  }
  // The sequence may have freed the scratch buffer itself (h2_free is among the exports).
  expect([0, 2]).toContain(tryCall('h2_free', scratch));
  const after = ex.h2_handle_count() >>> 0;
  expect(after, `handles after cleanup; calls: ${log.join('; ')}`).toBeLessThanOrEqual(base);
  stillWorks(h);
  expect(ex.h2_handle_count() >>> 0).toBeLessThanOrEqual(base);
}

describe('fuzz: sequences of ABI calls (release module)', () => {
  it('reads the exports and their return types', () => {
    expect(NAMES.length).toBeGreaterThan(100);
    expect([...RET.values()].filter(isHandleType).length).toBeGreaterThan(15);
  });

  it('the check itself: a clean instance serves a GET and keeps its handle count', () => {
    runSequence([]);
  });

  it('1..50 random calls mixing earlier handles and random values: no trap, handles back to baseline, a request still works', () => {
    fc.assert(
      fc.property(fc.array(callArb, { minLength: 1, maxLength: 50 }), (calls) => {
        runSequence(calls);
      }),
      params(RUNS),
    );
  });
});
