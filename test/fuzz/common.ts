// Shared by the fuzz suites: run counts and seed from the environment, byte mutators.
//   FUZZ_RUNS=n   runs per property (CI default per file is small, tuned to ≤ 15 s)
//   FUZZ_SEED=s   replay a reported failure (fast-check prints seed and path on failure)
import fc from 'fast-check';

export { fc };

/** fast-check parameters: CI-sized unless FUZZ_RUNS / FUZZ_SEED say otherwise. */
export function params(defaultRuns: number): fc.Parameters<unknown> {
  const p: fc.Parameters<unknown> = { numRuns: Number(process.env.FUZZ_RUNS ?? defaultRuns) };
  if (process.env.FUZZ_SEED !== undefined) p.seed = Number(process.env.FUZZ_SEED);
  if (process.env.FUZZ_PATH !== undefined) p.path = process.env.FUZZ_PATH;
  return p;
}

/** One mutation of a byte string. */
export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'splice'; at: number; from: number; other: number; n: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x3f, 0x40, 0x20, 0x1f),
  }),
  fc.record({
    op: fc.constant('splice' as const),
    at: fc.nat(),
    from: fc.nat(),
    other: fc.nat(),
    n: fc.integer({ min: 1, max: 64 }),
  }),
);

/** Applies mutations in order; `pool` is what splices copy from. */
export function mutate(input: Uint8Array, muts: Mutation[], pool: Uint8Array[]): Uint8Array {
  let b = Array.from(input);
  for (const m of muts) {
    const at = b.length ? m.at % (b.length + 1) : 0;
    switch (m.op) {
      case 'flip':
        if (b.length) b[at % b.length] ^= 1 << m.bit;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert':
        b.splice(at, 0, ...m.bytes);
        break;
      case 'delete':
        b.splice(at, m.n);
        break;
      case 'set':
        if (b.length) b[at % b.length] = m.value;
        break;
      case 'splice': {
        const src = pool[m.other % pool.length];
        if (!src.length) break;
        const from = m.from % src.length;
        b.splice(at, 0, ...src.subarray(from, from + m.n));
        break;
      }
    }
  }
  return Uint8Array.from(b);
}

/** Splits `b` into chunks at the given (sorted, deduplicated, in-range) cut points. */
export function chunked(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const cs = [...new Set(cuts.map((c) => (b.length ? c % b.length : 0)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cs) {
    if (c > prev) {
      out.push(b.subarray(prev, c));
      prev = c;
    }
  }
  out.push(b.subarray(prev));
  return out;
}

/** True when `e` is a wasm trap or an abort (the module's abort import throws). */
export function describeThrow(e: unknown): string {
  return `${e instanceof WebAssembly.RuntimeError ? 'wasm trap' : 'threw'}: ${(e as Error)?.message ?? e}`;
}
