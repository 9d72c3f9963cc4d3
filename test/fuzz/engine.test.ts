// Fuzzing a whole server engine (assembly/proto via build/test/proto.wasm) with fast-check.
// Replay a failure:  FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz/engine.test.ts
// Hunt longer:       FUZZ_RUNS=5000 npx vitest run test/fuzz/engine.test.ts
// The seed is a captured exchange, captured from our own client engine (new Engine(ex,
// 'client') + takeOutput()) standing in for h2load/curl captures: its preface + SETTINGS,
// then the frames of a few requests (GET, POST with a body, a PING, a reset, GOAWAY).
// Properties: the real preface + SETTINGS, then random / mutated frames in random chunks:
// never a trap/abort; the engine is OPEN (or draining), or CLOSED having sent a GOAWAY whose
// code is a valid RFC 9113 code; every GOAWAY / RST_STREAM it sends has a valid code; the
// heap after freeing the engine is back within a bound of the baseline.
import { describe, it, expect } from 'vitest';
import { Engine, harness, PHASE, GET, POST } from '../proto/engine.js';
import * as F from '../support/frames.js';
import { fc, params, mutationArb, mutate, chunked, describeThrow } from './common.js';

const RUNS = 8000;
const HEAP_SLACK = 16 * 1024;
let ex = harness(true);
/** The test harness keeps every engine's slot (engines.push, never reused): its tables grow,
 *  by doubling, which is not the engine's memory. A fresh instance every SLOTS engines keeps
 *  that growth out of the heap bound. */
const SLOTS = 1000;
let made = 0;
function freshHarness(): void {
  ex = harness(true);
  made = 0;
  run([CAP.body], false);
  run([Uint8Array.of(0, 0, 0, 9, 0, 0, 0, 0, 1)], false);
}

function capture() {
  const client = new Engine(ex, 'client');
  const hello = client.takeOutput(); // preface + SETTINGS (+ WINDOW_UPDATE)
  client.open(GET, true);
  const post = client.open(POST);
  client.sendData(post, 'hello, server', true);
  client.ping();
  client.open([...GET.slice(0, 3), [':path', '/cancel'], ['accept', '*/*']], true);
  const rest = client.takeOutput();
  const third = client.open(GET, false);
  const opened = client.takeOutput();
  client.reset(third, F.ERR.CANCEL);
  const reset = F.concat(opened, client.takeOutput());
  client.goaway(0);
  const bye = client.takeOutput();
  client.free();
  const body = F.concat(rest, reset, bye);
  return { hello, body, frames: splitFrames(body) };
}
function splitFrames(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + 9 <= b.length;) {
    const n = 9 + ((b[at] << 16) | (b[at + 1] << 8) | b[at + 2]);
    out.push(b.slice(at, at + n));
    at += n;
  }
  return out;
}
export const CAP = capture();
expect(CAP.hello.subarray(0, F.PREFACE.length)).toEqual(F.PREFACE);

/** Runs a server over `chunks` (after the real hello); checks the properties. */
export function run(chunks: Uint8Array[], checkHeap = true): { phase: number; goaways: number[] } {
  if (checkHeap && ++made >= SLOTS) freshHarness();
  const base = ex.engine_heap_used() >>> 0;
  const server = new Engine(ex, 'server');
  const out: Uint8Array[] = [];
  let phase: number;
  let err: number;
  try {
    server.receive(CAP.hello);
    out.push(server.takeOutput());
    for (const c of chunks) {
      server.receive(c);
      out.push(server.takeOutput());
    }
    server.eof();
    out.push(server.takeOutput());
    phase = server.phase;
    err = server.errorCode;
  } catch (e) {
    throw new Error(`engine ${describeThrow(e)}`, { cause: e });
  } finally {
    server.free();
  }
  const { frames } = F.parseFrames(F.concat(...out));
  const goaways = frames.filter((f) => f.type === F.FRAME.GOAWAY).map(F.errorCodeOf);
  for (const code of goaways) expect(code, 'GOAWAY code').toBeLessThanOrEqual(0xd);
  for (const f of frames.filter((f) => f.type === F.FRAME.RST_STREAM))
    expect(F.errorCodeOf(f), 'RST_STREAM code').toBeLessThanOrEqual(0xd);
  expect([PHASE.OPEN, PHASE.DRAINING_PING, PHASE.DRAINING, PHASE.CLOSED]).toContain(phase);
  if (goaways.some((c) => c !== 0)) expect(phase, 'closed after an error GOAWAY').toBe(PHASE.CLOSED);
  if (err !== 0 && !goaways.includes(err)) {
    // Not our error: the peer's GOAWAY code, passed through as is (RFC 9113 §7 allows unknown codes).
    const sent = F.parseFrames(F.concat(...chunks))
      .frames.filter((f) => f.type === F.FRAME.GOAWAY && f.payload.length >= 8)
      .map(F.errorCodeOf);
    expect(sent, `errorCode ${err} neither sent by us nor by the peer`).toContain(err);
  }
  if (err !== 0 && goaways.includes(err)) expect(phase).toBe(PHASE.CLOSED);
  if (checkHeap) expect(ex.engine_heap_used() >>> 0).toBeLessThanOrEqual(base + HEAP_SLACK);
  return { phase, goaways };
}

// Warm-up: one-time growth (tables, the module's engine slots) before any baseline.
freshHarness();

const cutsArb = fc.array(fc.nat(), { maxLength: 10 });

/** A well-framed frame of any type (0..10), random flags, a small stream id, a short payload
 *  that is sometimes a real field block: gets past the framing layer into the engine. */
const frameArb = fc
  .record({
    type: fc.integer({ min: 0, max: 10 }),
    flags: fc.constantFrom(0, 1, 4, 5, 8, 0x20, 0x25, 0x2d, 0xff),
    stream: fc.constantFrom(0, 1, 2, 3, 5, 7, 0x7fffffff),
    payload: fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.constantFrom(...CAP.frames.map((f) => f.subarray(9)))),
  })
  .map((f) => F.frame(f.type, f.flags, f.stream, f.payload));

describe('fuzz: server engine', () => {
  it('the captured exchange is served without a connection error', () => {
    const r = run([CAP.body]);
    expect(CAP.frames.length).toBeGreaterThanOrEqual(6);
    expect(r.goaways.every((c) => c === 0)).toBe(true);
  });

  it('random bytes after the real preface + SETTINGS, in random chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cutsArb, (b, cuts) => {
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

  it('mutated captured frames, reordered and repeated, in random chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 14 }),
        fc.array(mutationArb, { maxLength: 8 }),
        cutsArb,
        (order, muts, cuts) => {
          const stream = mutate(F.concat(...order.map((i) => CAP.frames[i % CAP.frames.length])), muts, CAP.frames);
          run(chunked(stream, cuts));
        },
      ),
      params(RUNS),
    );
  });
});
