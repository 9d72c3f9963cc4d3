// Attacks against an in-process serve() over real sockets, beyond the floods of
// floods.test.ts: HPACK bombs, zero-length HEADERS, 1-byte WINDOW_UPDATE loops and window
// overflow, a slow reader holding a zero window (CVE-2019-9517), stream-id exhaustion,
// and a client that opens many streams and never reads. Each runs on its own raw TCP
// connection (attack-kit.ts) while a well-behaved node:http2 client on another
// connection keeps getting 200s, and the wasm heap is sampled against a stated bound.
//
// Where the RFC's answer is not a GOAWAY — a field block over the header-list limit is a
// stream error (§10.5.1), a stream window overflow is RST_STREAM FLOW_CONTROL_ERROR
// (§6.9.1), a peer that does not open its window simply gets no DATA (§5.2) — the test
// asserts exactly that, and then that repeating it is cut off with ENHANCE_YOUR_CALM.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import type http2 from 'node:http2';
import { serve, type Server } from '../../bindings/index.js';
import {
  FRAME,
  ERR,
  SETTING,
  concat,
  windowUpdate,
  headers,
  continuation,
  errorCodeOf,
  lastStreamOf,
  type Frame,
} from '../support/frames.js';
import { REQ, POSTREQ } from '../proto/raw-peer.js';
import { Attacker, HeapWatch, goodClient, get } from './attack-kit.js';
import { sleep } from '../bindings/support.js';

const LIMIT = 100; // maxResetsPerSecond, maxGlitchesPerSecond, maxQueuedControlFrames
const STREAMS = 20; // maxConcurrentStreams
const STREAM_BUFFER = 256 << 10; // maxStreamSendBuffer
const CONN_BUFFER = 1 << 20; // maxConnectionSendBuffer
const CHUNK = 64 << 10; // what the /big handler writes at a time
/**
 * Stated bound: the heap in use during (sampled every ms) and after each attack stays
 * within 2 MiB of the baseline taken with the server idle and the good client connected —
 * the send-buffer cap of one connection as configured here (1 MiB) plus 1 MiB for the
 * rest (the attacker's streams, HPACK tables, decode scratch, output buffer).
 */
const HEAP_BOUND = 2 << 20;
const MAX_ID = 0x7fffffff;

/** What the /big/<tag>/<MiB> handler did for each tag. */
interface Big {
  started: boolean;
  pulled: number;
  finished: boolean;
  failed: boolean;
}
const bigs = new Map<string, Big>();

let server: Server;
let good: http2.ClientHttp2Session;

beforeAll(async () => {
  server = await serve({
    port: 0,
    hostname: '127.0.0.1',
    handler: async (req, res) => {
      const [, route, tag, mib] = req.path.split('/');
      if (route !== 'big') {
        await res.respond(200, [['content-type', 'text/plain']], 'ok').catch(() => {});
        return;
      }
      // A large response pulled chunk by chunk: `pulled` shows how far backpressure let it go.
      const b: Big = { started: true, pulled: 0, finished: false, failed: false };
      bigs.set(tag, b);
      const total = Number(mib) << 20;
      const chunk = new Uint8Array(CHUNK).fill(0x62);
      async function* body() {
        while (b.pulled < total) {
          b.pulled += CHUNK;
          yield chunk;
        }
      }
      try {
        await res.respond(200, [], body());
        b.finished = true;
      } catch {
        b.failed = true;
      }
    },
    settings: {
      maxResetsPerSecond: LIMIT,
      maxGlitchesPerSecond: LIMIT,
      maxQueuedControlFrames: LIMIT,
      maxConcurrentStreams: STREAMS,
      maxStreamSendBuffer: STREAM_BUFFER,
      maxConnectionSendBuffer: CONN_BUFFER,
    },
  });
  good = await goodClient(server.url);
});

afterAll(async () => {
  good?.destroy();
  await server?.close();
});

afterEach(() => Attacker.destroyAll());

const debugOf = (g: Frame) => new TextDecoder().decode(g.payload.subarray(8));
/** Polls `done` every 10 ms for at most `ms`; true once it holds. */
async function eventually(done: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = performance.now() + ms; !done() && performance.now() < end;) await sleep(10);
  return done();
}

/**
 * Runs `attack` while the good client asks (20 GETs during, 5 after: every one 200 "ok"),
 * with the heap sampled against HEAP_BOUND; returns what the attack returned.
 */
async function whileGoodClientAsks<T>(attack: () => Promise<T>): Promise<T> {
  expect((await get(good)).status).toBe(200);
  const watch = new HeapWatch();
  try {
    const during = Array.from({ length: 20 }, () => get(good));
    const result = await attack();
    watch.sample();
    const responses = await Promise.all(during);
    const after = await Promise.all(Array.from({ length: 5 }, () => get(good)));
    for (const r of [...responses, ...after]) expect(r).toEqual({ status: 200, body: 'ok' });
    return result;
  } finally {
    const { baseline, peak, after } = watch.stop();
    console.log(
      `${expect.getState().currentTestName}: heap baseline ${baseline}, peak +${peak - baseline}, after +${after - baseline}`,
    );
    expect(peak - baseline, `heap peak ${peak} vs baseline ${baseline}`).toBeLessThan(HEAP_BOUND);
    expect(after - baseline).toBeLessThan(HEAP_BOUND);
  }
}

/** The attacker was cut off with GOAWAY `code` whose debug data matches `why`. */
async function expectGoaway(a: Attacker, code: number, why?: RegExp) {
  await a.ended();
  const g = a.goaway();
  expect(g, 'attacker received GOAWAY').toBeDefined();
  expect(errorCodeOf(g!)).toBe(code);
  if (why) expect(debugOf(g!), 'GOAWAY debug data names the defence').toMatch(why);
}

/** The request on `id` was answered with a response head (`:status` 200). */
async function expectAnswered(a: Attacker, id: number) {
  await a.until(() => a.of(FRAME.HEADERS, id).length > 0 || a.closed, `response on stream ${id}`);
  const h = a.of(FRAME.HEADERS, id)[0];
  expect(h, `response on stream ${id}`).toBeDefined();
  expect(a.hp.decode(h.payload)).toContainEqual([':status', '200']);
}

/** RST_STREAM on `id` with `code`. */
async function expectReset(a: Attacker, id: number, code: number) {
  await a.until(() => a.rst(id) !== undefined || a.closed, `RST_STREAM on stream ${id}`);
  expect(a.rst(id), `RST_STREAM on stream ${id}`).toBeDefined();
  expect(errorCodeOf(a.rst(id)!)).toBe(code);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function int(prefixBits: number, first: number, v: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  for (v -= max; v >= 128; v = Math.floor(v / 128)) out.push((v & 127) | 128);
  out.push(v);
  return out;
}
/** Literal field with incremental indexing, new name (§6.2.1): it enters the dynamic table. */
function literalIndexed(name: string, value: string): Uint8Array {
  const n = new TextEncoder().encode(name);
  const v = new TextEncoder().encode(value);
  return concat(Uint8Array.of(0x40), Uint8Array.from(int(7, 0, n.length)), n, Uint8Array.from(int(7, 0, v.length)), v);
}
/** GET http://localhost/ without touching the dynamic table (static indexes, literal :authority not indexed). */
const PLAIN_GET = concat(Uint8Array.of(0x82, 0x86, 0x84, 0x01, 9), new TextEncoder().encode('localhost'));
/** A field block of `n` one-byte references to table entry `index` after PLAIN_GET, as HEADERS + CONTINUATIONs. */
function bomb(id: number, index: number, n: number): Uint8Array {
  const block = concat(PLAIN_GET, new Uint8Array(n).fill(0x80 | index));
  const out: Uint8Array[] = [];
  for (let at = 0; at < block.length; at += 16000) {
    const last = at + 16000 >= block.length;
    const frag = block.subarray(at, at + 16000);
    out.push(at === 0 ? headers(id, frag, true, last) : continuation(id, frag, last));
  }
  return concat(...out);
}

describe('HPACK bomb (RFC 9113 §10.5.1, RFC 7541 §7.3)', () => {
  it('a 2 KB block of static references expanding to 84 KB: the request is refused, the connection goes on', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      // 2000 × ":method: GET" (index 2): 42 bytes each as the limit counts them, 84 KB > 64 KiB.
      // §10.5.1: the block MUST still be decoded (HPACK state), and the server may answer
      // 431 or reset the stream: we reset it (PROTOCOL_ERROR) — a stream error, no GOAWAY.
      await a.preface([], bomb(1, 2, 2000));
      await expectReset(a, 1, ERR.PROTOCOL_ERROR);
      // The connection and its HPACK state are intact: the next request is answered.
      await a.send(headers(3, a.hp.encode(REQ), true));
      await expectAnswered(a, 3);
      expect(a.goaway()).toBeUndefined();
    });
  });

  it('one 3.9 KB dynamic-table entry re-referenced 60,000 times per block, in a loop: refused each time, then ENHANCE_YOUR_CALM', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      // Request 1 puts `x-bomb: a×3900` in the table (it fits the list: answered).
      await a.preface([], headers(1, concat(a.hp.encode(REQ), literalIndexed('x-bomb', 'a'.repeat(3900))), true));
      await expectAnswered(a, 1);
      // Request 3: 60 KB naming it 60,000 times, 236 MB of header list: refused, and the
      // table stays in step — request 5 naming the entry once is answered.
      await a.send(bomb(3, 62, 60_000));
      await expectReset(a, 3, ERR.PROTOCOL_ERROR);
      await a.send(headers(5, concat(PLAIN_GET, Uint8Array.of(0x80 | 62)), true));
      await expectAnswered(a, 5);
      // In a loop (150 × 60 KB in one write): each refusal counts as a reset.
      const t0 = performance.now();
      await a.send(...Array.from({ length: 150 }, (_, i) => bomb(7 + 2 * i, 62, 60_000)));
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /stream resets|control frames queued/);
      console.log(`HPACK bomb loop cut off after ${(performance.now() - t0).toFixed(0)} ms`);
    });
  });
});

describe('zero-length HEADERS flood (CVE-2019-9518) and 0-length fields (CVE-2019-9516)', () => {
  it('empty field blocks with END_HEADERS: each request refused, ENHANCE_YOUR_CALM past the reset limit', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      await a.preface([], ...Array.from({ length: 2000 }, (_, i) => headers(1 + 2 * i, new Uint8Array(0), true)));
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /stream resets|control frames queued/);
      expect(a.of(FRAME.RST_STREAM).length).toBeLessThanOrEqual(LIMIT + 1);
    });
  });

  it('fields with a 0-length name and value (CVE-2019-9516): malformed, refused, nothing kept; in a loop, ENHANCE_YOUR_CALM', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      // 1000 × literal-with-indexing, new name "" = "" (0x40 0x00 0x00): 32 bytes each as the
      // list counts them (under the limit), and each enters the dynamic table (bounded by
      // its 4096 bytes: the oldest are evicted). An empty name is malformed (§8.2.1).
      const empties = (id: number) =>
        headers(
          id,
          concat(
            PLAIN_GET,
            new Uint8Array(3000).fill(0).map((_, i) => (i % 3 === 0 ? 0x40 : 0)),
          ),
          true,
        );
      await a.preface([], empties(1));
      await expectReset(a, 1, ERR.PROTOCOL_ERROR);
      expect(a.goaway()).toBeUndefined();
      await a.send(...Array.from({ length: 2 * LIMIT }, (_, i) => empties(3 + 2 * i)));
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /stream resets|control frames queued/);
    });
  });

  it('empty HEADERS not ending the block (the block follows in CONTINUATION): glitches, ENHANCE_YOUR_CALM', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      const out: Uint8Array[] = [];
      for (let i = 0; i < 2000; i++) {
        const id = 1 + 2 * i;
        out.push(headers(id, new Uint8Array(0), true, false), continuation(id, a.hp.encode(REQ), true));
      }
      await a.preface([], ...out);
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /glitch/);
    });
  });
});

describe('WINDOW_UPDATE abuse', () => {
  it('1-byte WINDOW_UPDATEs in a loop with nothing to send: glitches, ENHANCE_YOUR_CALM', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      await a.preface([], ...Array.from({ length: 2000 }, () => windowUpdate(0, 1)));
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /glitch/);
    });
  });

  it('1-byte WINDOW_UPDATEs while a response waits for window: one 1-byte DATA frame each, never more (no amplification), bounded', async () => {
    // With data waiting, a 1-byte increment is flow control doing its job (RFC 9113 §10.5
    // lists tiny increments only as a cost to watch): each 13-byte WINDOW_UPDATE earns at
    // most one 10-byte DATA frame. No GOAWAY; the rest of the body waits in the stream's
    // capped send buffer and the handler is held by backpressure.
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      await a.preface(
        [[SETTING.INITIAL_WINDOW_SIZE, 0]],
        headers(1, a.hp.encode([...REQ.slice(0, 3), [':path', '/big/dribble/8']]), true),
      );
      await a.until(() => a.of(FRAME.HEADERS, 1).length > 0, 'response head');
      const payload = () => a.of(FRAME.DATA, 1).reduce((n, f) => n + f.payload.length, 0);
      // One at a time (2 × LIMIT round trips, past the glitch limit if they counted as
      // glitches): each answered by exactly one DATA frame of 1 byte.
      const ONE = 2 * LIMIT;
      for (let i = 1; i <= ONE; i++) {
        await a.send(windowUpdate(1, 1));
        await a.until(() => payload() >= i, `DATA byte ${i}`);
      }
      expect(a.of(FRAME.DATA, 1).map((f) => f.payload.length)).toEqual(new Array(ONE).fill(1));
      // 2000 at once: increments read together may be answered by one larger frame; never
      // more frames than WINDOW_UPDATEs, never more bytes than the window they opened.
      const N = 2000;
      await a.send(...Array.from({ length: N }, () => windowUpdate(1, 1)));
      await a.until(() => payload() >= ONE + N, `${N} more bytes of DATA`);
      await sleep(50);
      const frames = a.of(FRAME.DATA, 1);
      expect(payload()).toBe(ONE + N);
      expect(frames.length).toBeLessThanOrEqual(ONE + N);
      console.log(
        `1-byte WINDOW_UPDATEs: ${ONE} one at a time, then ${N} at once: ${frames.length} DATA frames carrying ${payload()} bytes`,
      );
      expect(a.goaway()).toBeUndefined();
      const b = bigs.get('dribble')!;
      expect(b.pulled).toBeLessThanOrEqual(STREAM_BUFFER + 2 * CHUNK);
      expect(b.finished).toBe(false);
    });
  });

  it('connection window overflow past 2^31-1: GOAWAY FLOW_CONTROL_ERROR (§6.9.1)', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      await a.preface([], windowUpdate(0, MAX_ID));
      await expectGoaway(a, ERR.FLOW_CONTROL_ERROR);
    });
  });

  it('stream window overflow: RST_STREAM FLOW_CONTROL_ERROR, the connection goes on; in a loop, ENHANCE_YOUR_CALM', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      // §6.9.1: for a stream the sender "sends a RST_STREAM with an error code of
      // FLOW_CONTROL_ERROR" — a stream error, not a connection error.
      await a.preface([], headers(1, a.hp.encode(POSTREQ)), windowUpdate(1, MAX_ID));
      await expectReset(a, 1, ERR.FLOW_CONTROL_ERROR);
      await a.send(headers(3, a.hp.encode(REQ), true));
      await expectAnswered(a, 3);
      expect(a.goaway()).toBeUndefined();
      // Each round starts a request and costs an RST_STREAM (CVE-2019-9514): counted with resets.
      const out: Uint8Array[] = [];
      for (let i = 0; i < 2 * LIMIT; i++)
        out.push(headers(5 + 2 * i, a.hp.encode(POSTREQ)), windowUpdate(5 + 2 * i, MAX_ID));
      await a.send(...out);
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /stream resets|control frames queued/);
    });
  });
});

describe('slow reader (CVE-2019-9517)', () => {
  it('a zero stream window held forever: no DATA, the handler held by backpressure, buffered bytes capped', async () => {
    // §5.2 / §6.9: a peer that never opens its window gets no DATA; that is not an error.
    // The defence is that what we buffer for it is capped (maxStreamSendBuffer).
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      await a.preface(
        [[SETTING.INITIAL_WINDOW_SIZE, 0]],
        headers(1, a.hp.encode([...REQ.slice(0, 3), [':path', '/big/zero/64']]), true),
      );
      await a.until(() => a.of(FRAME.HEADERS, 1).length > 0, 'response head');
      await sleep(300);
      const b = bigs.get('zero')!;
      expect(a.of(FRAME.DATA)).toHaveLength(0);
      expect(b.pulled, 'the handler waited for capacity').toBeLessThanOrEqual(STREAM_BUFFER + 2 * CHUNK);
      expect(b.finished).toBe(false);
      console.log(`zero window: the handler pulled ${b.pulled} bytes, then waited`);
      a.destroy();
      expect(await eventually(() => b.failed), 'the handler learned the stream ended').toBe(true);
    });
  });

  it('large HTTP/2 windows but a TCP window held shut (never reading): output capped, the handler held', async () => {
    // The RFC's second case (§10.5): flow-control credit given at the HTTP/2 layer, withheld
    // at TCP. What waits in the kernel's socket buffers is bounded by them; what waits in
    // ours by the output high-water mark and the send-buffer caps.
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port, true);
      await a.preface(
        [[SETTING.INITIAL_WINDOW_SIZE, MAX_ID]],
        windowUpdate(0, MAX_ID - 65535),
        headers(1, a.hp.encode([...REQ.slice(0, 3), [':path', '/big/tcp/256']]), true),
      );
      const b = () => bigs.get('tcp');
      // Wait until the handler stops making progress (the kernel buffers are full).
      let last = -1;
      for (let i = 0; i < 50 && b()?.pulled !== last; i++) {
        last = b()?.pulled ?? -1;
        await sleep(200);
      }
      expect(b()!.finished).toBe(false);
      expect(b()!.pulled, 'stalled far short of 256 MiB').toBeLessThan(64 << 20);
      console.log(
        `TCP window held: the handler got ${(b()!.pulled / 1048576).toFixed(1)} MiB out (kernel buffers) before backpressure held it`,
      );
    });
  });
});

describe('stream-id exhaustion (§5.1.1)', () => {
  it('a client at stream id 2^31-1 is answered; any stream after it is a PROTOCOL_ERROR (ids cannot be reused)', async () => {
    await whileGoodClientAsks(async () => {
      const a = await Attacker.open(server.port);
      // Skipping straight to the last odd id closes every lower one implicitly (§5.1.1):
      // nothing is kept per skipped id.
      await a.preface([], headers(MAX_ID, a.hp.encode(REQ), true));
      await expectAnswered(a, MAX_ID);
      expect(a.goaway()).toBeUndefined();
      // The client has no id left. A lower one (or the same) is a connection error; a
      // HEADERS with the reserved bit set is the same id space (the bit is ignored, §4.1).
      await a.send(headers(MAX_ID - 2, a.hp.encode(REQ), true));
      await expectGoaway(a, ERR.PROTOCOL_ERROR);
      expect(lastStreamOf(a.goaway()!)).toBe(MAX_ID);
    });
  });

  it('the reserved bit does not extend the id space', async () => {
    const a = await Attacker.open(server.port);
    await a.preface([], headers(MAX_ID, a.hp.encode(REQ), true));
    await expectAnswered(a, MAX_ID);
    // 0x80000001: reserved bit set, stream 1 — lower than 2^31-1.
    await a.send(headers(0x80000001, a.hp.encode(REQ), true));
    await expectGoaway(a, ERR.PROTOCOL_ERROR);
  });
});

describe('a client that opens many streams and never reads', () => {
  it(`responses held within the buffer caps; streams past ${STREAMS} refused (REFUSED_STREAM); more of them, ENHANCE_YOUR_CALM`, async () => {
    await whileGoodClientAsks(async () => {
      // It never sends WINDOW_UPDATE and never reads its socket (what we send waits in the
      // kernel; the first 64 KB of every response window is all it could take anyway).
      const a = await Attacker.open(server.port, true);
      const open = 3 * STREAMS;
      const reqs = Array.from({ length: open }, (_, i) =>
        headers(1 + 2 * i, a.hp.encode([...REQ.slice(0, 3), [':path', `/big/hold${i}/8`]]), true),
      );
      await a.preface([], ...reqs);
      const startedNow = () => [...Array(open).keys()].filter((i) => bigs.get(`hold${i}`)?.started);
      await eventually(() => startedNow().length >= STREAMS);
      await sleep(200); // time for any more to start, were the limit not enforced
      const started = startedNow();
      expect(started, 'only maxConcurrentStreams requests reach the handler').toHaveLength(STREAMS);
      const pulled = started.reduce((n, i) => n + bigs.get(`hold${i}`)!.pulled, 0);
      console.log(`${STREAMS} held responses: the handlers pulled ${pulled} bytes in all, then waited`);
      // Each stream took its 64 KB window out, the rest waits in capped buffers.
      expect(pulled).toBeLessThanOrEqual(STREAMS * 65535 + CONN_BUFFER + STREAMS * 2 * CHUNK);
      a.resume();
      await a.until(() => a.of(FRAME.RST_STREAM).length >= open - STREAMS, 'refusals');
      const refused = a.of(FRAME.RST_STREAM);
      expect(refused).toHaveLength(open - STREAMS);
      expect(refused.every((f) => errorCodeOf(f) === ERR.REFUSED_STREAM)).toBe(true);
      expect(a.goaway()).toBeUndefined();
      // Opening on regardless: every refusal counts as a reset.
      a.pause();
      const more = Array.from({ length: 2 * LIMIT }, (_, i) => headers(1 + 2 * (open + i), a.hp.encode(REQ), true));
      await a.send(...more);
      a.resume();
      await expectGoaway(a, ERR.ENHANCE_YOUR_CALM, /stream resets|control frames queued/);
    });
  });
});
