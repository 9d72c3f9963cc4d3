// Seven floods, one after another, against ONE `h2wasm serve` process with its default
// settings, the way it is deployed: each attacker writes as fast as the server takes its
// bytes and never reads what comes back (so the server's ACKs, RST_STREAMs and GOAWAY
// cannot leave), and reconnects whenever it is cut off, for the whole attack. Meanwhile a
// node:http2 client on its own connection asks for / every 50 ms. What must hold:
//   - every attack is cut off (the server closes the attacker's connection);
//   - the good client gets every answer;
//   - the server's RSS stays under 256 MiB throughout and ends within 64 MiB of where
//     it started.
// Before the close linger and read backpressure, a PING flood alone took the server from
// 52 MB past 500 MB and kept it there.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import type http2 from 'node:http2';
import {
  ERR,
  PREFACE,
  PeerHpack,
  concat,
  settings,
  ping,
  rstStream,
  data,
  headers,
  continuation,
  windowUpdate,
} from '../support/frames.js';
import { goodClient, get, GoodTraffic } from './attack-kit.js';
import { startServe, RssWatch, type ServeProcess } from './serve-cli.js';

// FLOOD_MS=60000 npx vitest run test/interop/flood-sequence.test.ts runs each for a minute.
const ATTACK_MS = Number(process.env.FLOOD_MS ?? 6000);
const SETTLE_MS = 2500;
const RSS_CEILING_MIB = 256;
const RSS_RETURN_MIB = 64;

const GET: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/'],
];
const POST: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/'],
];
const MAX_ID = 0x7fffffff;

/** One attacking connection: `start` opens it, `batch(n)` is its n-th write of about 500 frames. */
interface Flood {
  name: string;
  start: (hp: PeerHpack) => Uint8Array[];
  batch: (hp: PeerHpack, n: number) => Uint8Array[];
}

const times = <T>(k: number, f: (i: number) => T): T[] => Array.from({ length: k }, (_, i) => f(i));

const FLOODS: Flood[] = [
  {
    name: 'rapid reset (HEADERS + RST_STREAM)',
    start: () => [],
    batch: (hp, n) =>
      times(250, (i) => {
        const id = 1 + 2 * (n * 250 + i);
        return concat(headers(id, hp.encode(GET), true), rstStream(id, ERR.CANCEL));
      }),
  },
  {
    name: 'CONTINUATION flood (a block that never ends)',
    start: (hp) => [headers(1, hp.encode(POST).subarray(0, 1), false, false)],
    batch: () => times(500, (i) => continuation(1, Uint8Array.of(0x40 | (i & 0x3f)), false)),
  },
  { name: 'PING flood', start: () => [], batch: (_hp, n) => times(500, (i) => ping(BigInt(n * 500 + i))) },
  { name: 'SETTINGS flood', start: () => [], batch: () => times(500, () => settings([[4, 65535]])) },
  {
    name: 'empty DATA flood',
    start: (hp) => [headers(1, hp.encode(POST))],
    batch: () => times(500, () => data(1, new Uint8Array(0))),
  },
  {
    name: 'window overflow (stream windows past 2^31-1)',
    start: () => [],
    batch: (hp, n) =>
      times(250, (i) => {
        const id = 1 + 2 * (n * 250 + i);
        return concat(headers(id, hp.encode(POST)), windowUpdate(id, MAX_ID));
      }),
  },
  {
    name: 'stream exhaustion (streams opened and never finished, ids run to 2^31-1)',
    start: () => [],
    // Starts 1000 ids below the end of the id space; past it, an id the server already saw.
    batch: (hp, n) =>
      times(500, (i) => {
        const k = n * 500 + i;
        const id = k < 500 ? MAX_ID - 2 * (499 - k) : 1;
        return headers(id, hp.encode(POST));
      }),
  },
];

interface Mounted {
  connections: number;
  cutOff: number;
  bytes: number;
}

/** Runs `flood` for `ms`: one connection at a time, reconnecting whenever the server cuts it off. */
async function mount(port: number, flood: Flood, ms: number): Promise<Mounted> {
  const until = Date.now() + ms;
  const out: Mounted = { connections: 0, cutOff: 0, bytes: 0 };
  while (Date.now() < until) {
    out.connections++;
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.pause(); // never reads: what the server sends stays in the kernel
    let closed = false;
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
    });
    await new Promise<void>((resolve) => {
      sock.once('connect', () => resolve());
      sock.once('close', () => resolve());
    });
    const hp = new PeerHpack();
    const write = (parts: Uint8Array[]) => {
      const b = concat(...parts);
      out.bytes += b.length;
      return sock.write(b);
    };
    write([PREFACE, settings(), ...flood.start(hp)]);
    for (let n = 0; !closed && Date.now() < until; n++) {
      if (!write(flood.batch(hp, n))) {
        // The server stopped reading: wait for it to take more, to close, or for the end.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(0, until - Date.now()));
          const done = () => {
            clearTimeout(t);
            resolve();
          };
          sock.once('drain', done);
          sock.once('close', done);
        });
      } else if (n % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    if (closed) out.cutOff++;
    sock.destroy();
  }
  return out;
}

describe('seven floods in a row against one h2wasm serve process (defaults)', () => {
  let server: ServeProcess;
  let session: http2.ClientHttp2Session;
  beforeAll(async () => {
    server = await startServe();
    session = await goodClient(server.url);
  });
  afterAll(async () => {
    session?.destroy();
    await server?.stop();
  });

  it(
    'cuts off every flood, answers the good client throughout, and gives the memory back',
    async () => {
      expect((await get(session)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      const start = server.rssMiB();
      const watch = new RssWatch(server.proc.pid!);
      const traffic = new GoodTraffic(session, '/', 'hello from h2wasm\n');
      const rows: string[] = [];
      try {
        for (const flood of FLOODS) {
          const before = watch.sample();
          const peakBefore = watch.peak;
          watch.peak = before;
          const m = await mount(server.port, flood, ATTACK_MS);
          await new Promise((r) => setTimeout(r, SETTLE_MS));
          const after = watch.sample();
          const peak = watch.peak;
          watch.peak = Math.max(peakBefore, peak);
          rows.push(
            `${flood.name}: ${m.connections} connections, ${m.cutOff} cut off, ${(m.bytes / 2 ** 20).toFixed(1)} MiB sent; ` +
              `RSS before ${before.toFixed(1)} MiB, peak ${peak.toFixed(1)}, after ${after.toFixed(1)}`,
          );
          expect(m.cutOff, `${flood.name}: the server never closed an attacker's connection`).toBeGreaterThan(0);
        }
      } finally {
        watch.stop();
        await traffic.stop();
        console.log(
          `flood sequence against h2wasm serve (pid ${server.proc.pid}), RSS at start ${start.toFixed(1)} MiB:\n  ${rows.join('\n  ')}\n` +
            `  good client: ${traffic.ok} answers, ${traffic.failures.length} failures; RSS peak ${watch.peak.toFixed(1)} MiB, end ${server.rssMiB().toFixed(1)} MiB`,
        );
      }
      expect(traffic.failures, 'the good client lost answers').toEqual([]);
      expect(traffic.ok).toBeGreaterThan((FLOODS.length * ATTACK_MS) / 50 / 2);
      expect(watch.peak).toBeLessThan(RSS_CEILING_MIB);
      expect(server.rssMiB() - start).toBeLessThan(RSS_RETURN_MIB);
      expect(server.stderr()).not.toMatch(/RangeError|unreachable|trap/i);
    },
    120_000 + 10 * FLOODS.length * ATTACK_MS,
  );
});
