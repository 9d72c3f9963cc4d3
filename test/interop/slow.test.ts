// The slow family against serve() over real sockets, with its timeouts scaled down: what
// the engine tests hold at the millisecond, here through the whole stack — the driver that
// tells the engine when the host could not write (the write stall), the runtime's timer
// that wakes for each deadline, the socket that closes. Each attack must end in its
// GOAWAY or RST_STREAM, not before its threshold, and not long after.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { serve, runtime, type Server } from '../../bindings/index.js';
import { until } from '../bindings/support.js';
import { ERR, FRAME, headers, windowUpdate, errorCodeOf } from '../support/frames.js';
import { REQ, POSTREQ } from '../proto/raw-peer.js';
import { Attacker } from './attack-kit.js';

const T = 400; // every scaled timeout, ms
const LATE = 3000; // how long after its threshold a timeout may take to show on a loaded machine

let server: Server;
beforeAll(async () => {
  server = await serve({
    port: 0,
    handler: async (req, res) => {
      for await (const _ of req.body()) void _; // a POST's body is read to its end, as an upload's would be
      await res.respond(
        200,
        [],
        req.path === '/big'
          ? (function* () {
              for (let i = 0; i < 1024; i++) yield new Uint8Array(64 << 10);
            })() // 64 MiB
          : 'ok',
      );
    },
    onStreamsLost: () => {},
    settings: {
      handshakeTimeoutMs: T,
      headerTimeoutMs: T,
      sendStallTimeoutMs: T,
      writeStallTimeoutMs: T,
      recvIdleTimeoutMs: T,
    },
  });
});
afterAll(() => server?.close());
afterEach(() => Attacker.destroyAll());

const GET_BIG: [string, string][] = [...REQ.slice(0, 3), [':path', '/big']];

/** Waits for what `done` says, then how long it took from `t0`. */
async function after(a: Attacker, t0: number, done: () => boolean, what: string): Promise<number> {
  await a.until(done, what, T + LATE);
  return performance.now() - t0;
}

describe('the slow family against serve() over TCP (timeouts at 400 ms)', () => {
  it('handshake: a socket that sends nothing gets GOAWAY SETTINGS_TIMEOUT', async () => {
    const a = await Attacker.open(server.port);
    const t0 = performance.now();
    const ms = await after(a, t0, () => a.goaway() !== undefined, 'GOAWAY');
    expect(errorCodeOf(a.goaway()!)).toBe(ERR.SETTINGS_TIMEOUT);
    expect(ms).toBeGreaterThanOrEqual(T - 20);
  });

  it('header block: HEADERS without END_HEADERS and no CONTINUATION gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const a = await Attacker.open(server.port);
    const block = a.hp.encode(REQ);
    await a.preface([], headers(1, block.subarray(0, 2), true, false));
    const t0 = performance.now();
    const ms = await after(a, t0, () => a.goaway() !== undefined, 'GOAWAY');
    expect(errorCodeOf(a.goaway()!)).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(ms).toBeGreaterThanOrEqual(T - 20);
  });

  it('send stall: a response whose window is held at 0 gets RST_STREAM CANCEL, the connection going on', async () => {
    const a = await Attacker.open(server.port);
    await a.preface([[4, 0]], headers(1, a.hp.encode(GET_BIG), true));
    const t0 = performance.now();
    const ms = await after(a, t0, () => a.rst(1) !== undefined, 'RST_STREAM');
    expect(errorCodeOf(a.rst(1)!)).toBe(ERR.CANCEL);
    expect(a.of(FRAME.DATA, 1)).toHaveLength(0);
    expect(a.goaway()).toBeUndefined();
    expect(ms).toBeGreaterThanOrEqual(T - 20);
  });

  it('write stall: a peer that never reads its socket is cut off, its connection closed', async () => {
    // The earlier attackers' connections have gone (the server saw them close), so the
    // instance's connection count tells when this one is open and when it was let go.
    await until('earlier connections gone', () => runtime().budget().connections === 0, 10_000);
    const a = await Attacker.open(server.port, true); // never reads: the kernel buffers fill
    await a.preface([[4, 0x7fffffff]], windowUpdate(0, 0x7fffffff - 65535), headers(1, a.hp.encode(GET_BIG), true));
    const t0 = performance.now();
    await until('the connection open', () => runtime().budget().connections > 0, 5000);
    // The kernel takes a few MiB before the server's writes block; then the clock runs, and
    // the server lets the connection go (a paused socket cannot see that itself).
    await until('the server to let the connection go', () => runtime().budget().connections === 0, 30_000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(T - 20);
    // Reading now, the attacker finds the end: far less than the 64 MiB it asked for.
    a.resume();
    await a.until(() => a.closed, 'the end of the connection', 10_000);
    expect(a.received).toBeLessThan(32 << 20);
  });

  it('send stall: the connection window held shut gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const a = await Attacker.open(server.port);
    // Stream windows wide open, the connection's left at 65,535: the response stops there.
    await a.preface([[4, 0x7fffffff]], headers(1, a.hp.encode(GET_BIG), true));
    const t0 = performance.now();
    const ms = await after(a, t0, () => a.goaway() !== undefined, 'GOAWAY');
    expect(errorCodeOf(a.goaway()!)).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(a.of(FRAME.DATA, 1).reduce((n, f) => n + f.payload.length, 0)).toBe(65_535);
    expect(ms).toBeGreaterThanOrEqual(T - 20);
  });

  it('receive idle: a POST whose body never comes gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const a = await Attacker.open(server.port);
    await a.preface([], headers(1, a.hp.encode(POSTREQ)));
    const t0 = performance.now();
    const ms = await after(a, t0, () => a.goaway() !== undefined, 'GOAWAY');
    expect(errorCodeOf(a.goaway()!)).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(ms).toBeGreaterThanOrEqual(T - 20);
  });
});
