// Floods against an in-process serve() over real sockets: a raw TCP attacker (frames.ts
// builders, HPACK from hpack.js) mounts each attack on its own connection while a
// well-behaved node:http2 client on another connection keeps getting 200s. The attacker
// must receive GOAWAY ENHANCE_YOUR_CALM, and the wasm heap must stay under a stated bound.
//
// Thresholds come from the settings (small, 100), and every attack sends at least 10× the
// limit in one write (a few ms on loopback), so the 1 s rate windows cannot hide it.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import type http2 from 'node:http2';
import { serve, type Server } from '../../bindings/index.js';
import {
  FRAME,
  ERR,
  PeerHpack,
  frame,
  settings,
  ping,
  rstStream,
  data,
  headers,
  continuation,
  errorCodeOf,
  type Frame,
} from '../support/frames.js';
import { REQ, POSTREQ } from '../proto/raw-peer.js';
import { Attacker, HeapWatch, goodClient, get as getOn } from './attack-kit.js';

const LIMIT = 100;
const FLOOD = 2000; // frames per attack: 20× every limit below
// Stated bound: the heap in use after (and sampled during) an attack stays within 1 MiB of
// the baseline taken with the server idle and one client connected (measured ~+45 KB).
const HEAP_BOUND = 1 << 20;

let server: Server;
let good: http2.ClientHttp2Session;

beforeAll(async () => {
  server = await serve({
    port: 0,
    hostname: '127.0.0.1',
    // The attacker's streams are reset under the handler: its respond() then rejects.
    handler: (_req, res) => {
      res.respond(200, [['content-type', 'text/plain']], 'ok').catch(() => {});
    },
    settings: {
      maxResetsPerSecond: LIMIT,
      maxGlitchesPerSecond: LIMIT,
      maxQueuedControlFrames: LIMIT,
      maxContinuations: 64,
    },
  });
  good = await goodClient(server.url);
});

afterAll(async () => {
  good?.destroy();
  await server?.close();
});

afterEach(() => Attacker.destroyAll());

/** One GET on the well-behaved connection: its status and body. */
const get = () => getOn(good);

interface Outcome {
  goaway?: Frame;
  frames: Frame[];
  closed: boolean;
}

/**
 * Connects, writes the preface and `attack` (all of it at once, optionally without reading
 * until it is written), then reads until GOAWAY arrives or the socket closes (10 s at most).
 */
async function mount(attack: (hp: PeerHpack) => Uint8Array[], readWhileSending = true): Promise<Outcome> {
  const a = await Attacker.open(server.port, !readWhileSending);
  await a.preface([], ...attack(a.hp));
  if (!readWhileSending) setTimeout(() => a.resume(), 50);
  await a.ended();
  return { goaway: a.goaway(), frames: a.frames, closed: a.closed };
}

/** Runs an attack while the good client keeps asking; checks all three observations. */
async function underAttack(why: RegExp, attack: (hp: PeerHpack) => Uint8Array[], readWhileSending = true) {
  const warm = await get();
  expect(warm.status).toBe(200);
  const watch = new HeapWatch();
  let stopped = false;
  try {
    const during = Array.from({ length: 20 }, () => get());
    const outcome = await mount(attack, readWhileSending);
    watch.sample();
    const responses = await Promise.all(during);
    const after = await Promise.all(Array.from({ length: 5 }, () => get()));
    for (const r of [...responses, ...after]) expect(r).toEqual({ status: 200, body: 'ok' });
    expect(outcome.goaway, 'attacker received GOAWAY').toBeDefined();
    expect(errorCodeOf(outcome.goaway!)).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(
      new TextDecoder().decode(outcome.goaway!.payload.subarray(8)),
      'GOAWAY debug data names the defence',
    ).toMatch(why);
    const { baseline, peak, after: end } = watch.stop();
    stopped = true;
    expect(peak - baseline, `heap peak ${peak} vs baseline ${baseline}`).toBeLessThan(HEAP_BOUND);
    expect(end - baseline).toBeLessThan(HEAP_BOUND);
    console.log(`${why}: heap baseline ${baseline}, peak +${peak - baseline}, frames back ${outcome.frames.length}`);
    return outcome;
  } finally {
    if (!stopped) watch.stop();
  }
}

const priority = (id: number, dep: number) =>
  frame(FRAME.PRIORITY, 0, id, [dep >>> 24, dep >>> 16, dep >>> 8, dep, 16]);

describe('floods against serve() over TCP', () => {
  it('Rapid Reset (HEADERS + RST_STREAM loop, CVE-2023-44487)', async () => {
    await underAttack(/stream resets/, (hp) => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < FLOOD / 2; i++) {
        const id = 1 + 2 * i;
        out.push(headers(id, hp.encode(REQ), true), rstStream(id, ERR.CANCEL));
      }
      return out;
    });
  });

  it('CONTINUATION flood (never END_HEADERS, CVE-2024-27316)', async () => {
    await underAttack(/too many CONTINUATION/, (hp) => {
      const block = hp.encode([...POSTREQ, ['x-pad', 'a'.repeat(10)]]);
      const out: Uint8Array[] = [headers(1, block.subarray(0, 1), false, false)];
      for (let i = 0; i < FLOOD; i++) out.push(continuation(1, Uint8Array.of(0x40 | (i & 0x3f)), false));
      return out;
    });
  });

  it('PING flood without reading (ACKs pile up, CVE-2019-9512)', async () => {
    await underAttack(/control frames queued/, () => Array.from({ length: FLOOD }, (_, i) => ping(BigInt(i))), false);
  });

  it('SETTINGS flood (CVE-2019-9515)', async () => {
    await underAttack(/control frames queued/, () => Array.from({ length: FLOOD }, () => settings()), false);
  });

  it('empty-DATA flood (CVE-2019-9518)', async () => {
    await underAttack(/glitch/, (hp) => [
      headers(1, hp.encode(POSTREQ)),
      ...Array.from({ length: FLOOD }, () => data(1, new Uint8Array(0))),
    ]);
  });

  it('PRIORITY flood (CVE-2019-9513)', async () => {
    await underAttack(/glitch/, () => Array.from({ length: FLOOD }, (_, i) => priority(1 + 2 * (i % 500), 0)));
  });
});
