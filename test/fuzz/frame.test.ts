// Fuzzing the frame decoder (assembly/frame via build/test/frame.wasm) with fast-check.
// Replay a failure:  FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz/frame.test.ts
// Hunt longer:       FUZZ_RUNS=20000 npx vitest run test/fuzz/frame.test.ts
// Properties: random and mutated frame streams (a realistic client stream after the preface,
// built with test/support/frames.ts), in random chunkings: never a trap/abort; every status is
// NEED_MORE / FRAME / STREAM_ERROR / CONNECTION_ERROR; NEED_MORE only with the chunk consumed;
// after CONNECTION_ERROR no more bytes are taken; the decoder's buffer stays bounded.
import { describe, it, expect } from 'vitest';
import { load, S, ROLE } from '../frame/codec.js';
import { putBytes } from '../support/wasm.js';
import * as F from '../support/frames.js';
import { fc, params, mutationArb, mutate, chunked, describeThrow } from './common.js';

const RUNS = 8000;
const MAX_FRAME = 16384;
const BUFFER_BOUND = 4 * (MAX_FRAME + 9);

// Seed: a client's frames after the preface (what a server's frame decoder sees).
const peer = new F.PeerHpack();
const GET: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];
const POST: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/upload'],
  ['content-type', 'text/plain'],
];
const SEED_FRAMES: Uint8Array[] = [
  F.settings([
    [F.SETTING.INITIAL_WINDOW_SIZE, 1 << 20],
    [F.SETTING.MAX_CONCURRENT_STREAMS, 100],
  ]),
  F.windowUpdate(0, 1 << 20),
  F.headers(1, peer.encode(GET), true),
  F.settingsAck(),
  F.headers(3, peer.encode(POST), false),
  F.data(3, 'hello '),
  F.data(3, 'world', true),
  F.ping(0x0102030405060708n),
  F.headers(5, peer.encode(GET), false, false),
  F.continuation(5, peer.encode([['x-more', 'yes']])),
  F.rstStream(5, F.ERR.CANCEL),
  F.windowUpdate(3, 4096),
  F.goaway(5, 0, 'bye'),
];
const POOL = SEED_FRAMES;
const SEED = F.concat(...SEED_FRAMES);

const ex = load();
const VALID = new Set([S.NEED_MORE, S.FRAME, S.STREAM_ERROR, S.CONNECTION_ERROR]);

/** Feeds `chunks` to a fresh server-role decoder, checking the properties; returns the statuses seen. */
function run(chunks: Uint8Array[]): number[] {
  ex.dec_new(ROLE.SERVER, 0);
  const seen: number[] = [];
  let dead = false;
  for (const chunk of chunks) {
    if (!chunk.length) continue;
    const ptr = putBytes(ex, chunk, 'alloc');
    try {
      let off = 0;
      for (let guard = 0; off < chunk.length; guard++) {
        if (guard > chunk.length + 10) throw new Error('decoder made no progress');
        let used: number;
        try {
          used = ex.dec_push(ptr + off, chunk.length - off) >>> 0;
        } catch (e) {
          throw new Error(`dec_push ${describeThrow(e)}`, { cause: e });
        }
        const status = ex.dec_status();
        if (dead) {
          expect(used, 'bytes taken after CONNECTION_ERROR').toBe(0);
          expect(status).toBe(S.CONNECTION_ERROR);
          break;
        }
        expect(used).toBeLessThanOrEqual(chunk.length - off);
        off += used;
        expect(VALID.has(status), `status ${status}`).toBe(true);
        seen.push(status);
        expect(ex.dec_buffer_cap() >>> 0).toBeLessThanOrEqual(BUFFER_BOUND);
        if (status === S.NEED_MORE) {
          expect(off).toBe(chunk.length);
          break;
        }
        if (status === S.STREAM_ERROR || status === S.CONNECTION_ERROR) {
          const code = ex.dec_err_code() >>> 0;
          expect(code, 'RFC 9113 error code').toBeGreaterThan(0);
          expect(code).toBeLessThanOrEqual(0xd);
          expect(!!ex.dec_err_conn()).toBe(status === S.CONNECTION_ERROR);
        }
        if (status === S.CONNECTION_ERROR) {
          dead = true;
          if (off === chunk.length) break;
        }
      }
    } finally {
      ex.free(ptr);
    }
  }
  return seen;
}

const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

/** A well-framed frame of any type (0..10), random flags and stream id, a short payload: tests
 *  the per-type checks (lengths, padding, stream 0 rules) rather than the 9-byte header. */
const frameArb = fc
  .record({
    type: fc.integer({ min: 0, max: 10 }),
    flags: fc.nat({ max: 0xff }),
    stream: fc.constantFrom(0, 1, 2, 3, 0x7fffffff, 0x80000001),
    payload: fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.constantFrom(...SEED_FRAMES.map((f) => f.subarray(9)))),
  })
  .map((f) => F.frame(f.type, f.flags, f.stream >>> 0, f.payload));

describe('fuzz: frame decoder', () => {
  it('the seed stream decodes to frames only', () => {
    const seen = run([SEED]);
    expect(seen.filter((s) => s === S.FRAME).length).toBe(SEED_FRAMES.length);
    expect(seen.every((s) => s === S.FRAME || s === S.NEED_MORE)).toBe(true);
  });

  it('random byte streams in random chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), cutsArb, (b, cuts) => {
        run(chunked(b, cuts));
      }),
      params(RUNS),
    );
  });

  it('random well-framed frames of every type, in random chunks', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 16 }), cutsArb, (frames, cuts) => {
        run(chunked(F.concat(...frames), cuts));
      }),
      params(RUNS),
    );
  });

  it('random sequences of seed frames, mutated, in random chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 16 }),
        fc.array(mutationArb, { maxLength: 8 }),
        cutsArb,
        (order, muts, cuts) => {
          const stream = mutate(F.concat(...order.map((i) => POOL[i % POOL.length])), muts, POOL);
          run(chunked(stream, cuts));
        },
      ),
      params(RUNS),
    );
  });
});
