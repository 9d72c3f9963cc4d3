// Soak: 10,000 requests between client and server engines in memory, with random body
// sizes (0 B – 1 MiB, log-uniform), random windows and frame sizes per connection, and
// the byte stream cut at random points; every body checked byte for byte both ways,
// and linear memory not growing past what the first round needed (no leak).
// SOAK_REQUESTS overrides the count (longer local runs).
import { describe, it, expect } from 'vitest';
import { Engine, harness, EV, RESULT, OK } from './engine.js';
import { rng, logUniform } from '../support/rng.js';

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 10000);
const CONNECTIONS = 10;
const IN_FLIGHT = 50;

/** The body of request/response `n`: bytes derived from n, so the receiver can check them. */
function body(n: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (n * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

function runConnection(ex: ReturnType<typeof harness>, seed: number, requests: number) {
  const r = rng(seed);
  const window = [16384, 65535, 262144, 1 << 20][Math.floor(r() * 4)];
  const frame = [16384, 32768, 1 << 20][Math.floor(r() * 3)];
  const client = new Engine(ex, 'client', {
    initialWindowSize: window,
    maxFrameSize: frame,
    connectionWindow: Math.max(65535, window),
  });
  const server = new Engine(ex, 'server', {
    initialWindowSize: window,
    maxFrameSize: frame,
    maxConcurrentStreams: IN_FLIGHT,
  });
  const chunk = () => Math.max(1, logUniform(r, 65536));

  let started = 0;
  let finished = 0;
  const want = new Map<number, { n: number; reqLen: number; resLen: number }>(); // client stream index → plan
  const serverSeen = new Set<number>();
  const move = (from: Engine, to: Engine) => {
    const bytes = from.takeOutput();
    for (let at = 0; at < bytes.length;) {
      const n = Math.min(chunk(), bytes.length - at);
      to.receive(bytes.subarray(at, at + n));
      at += n;
    }
    return bytes.length;
  };

  for (let round = 0; finished < requests; round++) {
    if (round > 20000)
      throw new Error(
        `seed ${seed}: no progress: started ${started} finished ${finished} client live ${client.liveStreams} server live ${server.liveStreams} buffered ${server.bufferedTotal} conn send window ${server.sendWindow} client recv ${client.recvWindow} cbuf ${client.bufferedTotal} csend ${client.sendWindow} windows ${[...want.keys()].map((s) => [client.streamId(s), client.streamSendWindow(s), client.buffered(s), client.streamState(s), server.streamRecvWindow(server.streamByWireId(client.streamId(s))), server.streamState(server.streamByWireId(client.streamId(s)))].join(':')).join(' ')}`,
      );
    while (started < requests && started - finished < IN_FLIGHT) {
      const n = seed * 100000 + started++;
      const reqLen = r() < 0.3 ? logUniform(r, 1 << 20) : 0;
      const resLen = logUniform(r, 1 << 20);
      const method = reqLen > 0 ? 'POST' : 'GET';
      const s = client.open(
        [
          [':method', method],
          [':scheme', 'https'],
          [':authority', 'soak'],
          [':path', `/${n}/${resLen}`],
        ],
        reqLen === 0,
      );
      expect(s, `seed ${seed}: open`).toBeGreaterThan(0);
      if (reqLen > 0) expect(client.sendData(s, body(n, reqLen), true)).toBe(RESULT.OK);
      want.set(s, { n, reqLen, resLen });
    }
    const moved = move(client, server) + move(server, client);
    // The server answers each request once its body is complete.
    for (const req of server.events.filter((e) => e.kind === EV.REQUEST && !serverSeen.has(e.stream))) {
      const ended = req.a === 1 || server.of(EV.DATA, req.stream).some((d) => d.a === 1);
      if (!ended) continue;
      serverSeen.add(req.stream);
      const [, n, resLen] = req
        .fields!.find(([k]) => k === ':path')![1]
        .split('/')
        .map(Number);
      const got = server.body(req.stream);
      const method = req.fields!.find(([k]) => k === ':method')![1];
      if (method === 'POST') {
        expect(got.length, `seed ${seed}: request ${n} body length`).toBeGreaterThan(0);
        expect(equal(got, body(n, got.length)), `seed ${seed}: request ${n} body`).toBe(true);
      }
      expect(server.respond(req.stream, OK, resLen === 0)).toBe(RESULT.OK);
      if (resLen > 0) expect(server.sendData(req.stream, body(n + 1, resLen), true)).toBe(RESULT.OK);
      // Forget what this stream received: the log would otherwise grow with every body.
      server.events.splice(
        0,
        server.events.length,
        ...server.events.filter((e) => e.stream !== req.stream || e.kind === EV.REQUEST),
      );
    }
    for (const [s, plan] of want) {
      if (client.of(EV.CLOSED, s).length === 0) continue;
      expect(client.of(EV.RESET, s), `seed ${seed}: request ${plan.n} reset`).toHaveLength(0);
      expect(equal(client.body(s), body(plan.n + 1, plan.resLen)), `seed ${seed}: response ${plan.n}`).toBe(true);
      want.delete(s);
      finished++;
      client.events.splice(0, client.events.length, ...client.events.filter((e) => e.stream !== s));
    }
    if (moved === 0 && finished < requests) {
      throw new Error(`seed ${seed}: stalled with ${started - finished} in flight`);
    }
  }
  expect(client.liveStreams).toBe(0);
  expect(server.liveStreams).toBe(0);
  expect(client.errorCode).toBe(0);
  expect(server.errorCode).toBe(0);
  client.free();
  server.free();
}

describe('soak', () => {
  it(`moves ${TOTAL} requests with random bodies, windows and chunking, every byte checked, memory back where it started`, () => {
    const ex = harness(true);
    const per = Math.ceil(TOTAL / CONNECTIONS);
    // A short first connection builds the module's lazily made global tables, and the
    // Huffman decoder's octet table is built too (it comes after 32 KiB of input); the
    // baseline is taken after them.
    runConnection(ex, 1000, 5);
    ex.engine_build_huffman_tables();
    const before = ex.engine_heap_used() >>> 0;
    for (let c = 1; c <= CONNECTIONS; c++) runConnection(ex, c, per);
    const after = ex.engine_heap_used() >>> 0;
    // What stays is the harness's own tables: one null slot per engine and config.
    expect(after - before).toBeLessThanOrEqual(CONNECTIONS * 64);
  }, 600_000);
});
