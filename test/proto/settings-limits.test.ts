// SETTINGS honoured in both directions, every engine limit with its default and its
// setting, the fair scheduler, and the deadlines the engine exposes.
import { describe, it, expect } from 'vitest';
import { Engine, harness, pump, connectedPair, EV, HEAD_KIND, PHASE, RESULT, STATE, GET, POST, OK } from './engine.js';
import {
  FRAME,
  ERR,
  SETTING,
  PREFACE,
  PeerHpack,
  concat,
  settings,
  settingsAck,
  headers,
  parseFrames,
  blockOf,
  errorCodeOf,
  windowUpdate,
} from '../support/frames.js';

const ex = harness();
const REQ: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/'],
];
const POSTREQ: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/'],
];

function rawServer(options = {}, peerSettings: [number, number][] = []) {
  const engine = new Engine(ex, 'server', options);
  engine.receive(concat(PREFACE, settings(peerSettings), settingsAck()));
  engine.takeOutput();
  return engine;
}

describe('SETTINGS_HEADER_TABLE_SIZE both ways', () => {
  it("the peer's value bounds our encoder: a size update opens the next block", () => {
    const server = rawServer({}, [[SETTING.HEADER_TABLE_SIZE, 0]]);
    const hp = new PeerHpack();
    server.receive(headers(1, hp.encode(REQ), true));
    server.respond(
      server.streamByWireId(1),
      [
        [':status', '200'],
        ['x-a', 'b'],
      ],
      true,
    );
    const f = parseFrames(server.takeOutput()).frames.find((x) => x.type === FRAME.HEADERS)!;
    expect(blockOf(f)[0]).toBe(0x20); // dynamic table size update to 0 (RFC 7541 §6.3)
  });

  it('our value bounds the peer: a size update above it is a COMPRESSION_ERROR', () => {
    const server = rawServer({ headerTableSize: 256 });
    // 0x3f 0xe1 0x1f = size update to 4096 (> 256).
    server.receive(headers(1, Uint8Array.of(0x3f, 0xe1, 0x1f, 0x82), true));
    const g = parseFrames(server.takeOutput()).frames.find((x) => x.type === FRAME.GOAWAY)!;
    expect(errorCodeOf(g)).toBe(ERR.COMPRESSION_ERROR);
  });
});

describe('SETTINGS_MAX_HEADER_LIST_SIZE both ways', () => {
  it('we refuse to send a head larger than the peer allows (LIMIT), the connection goes on', () => {
    const { client, server } = connectedPair(ex, {}, { maxHeaderListSize: 200 });
    expect(client.open([...GET, ['x-big', 'v'.repeat(300)]], true)).toBe(0);
    expect(client.lastResult).toBe(RESULT.LIMIT);
    expect(client.open(GET, true)).toBeGreaterThan(0);
    pump(client, server);
    expect(server.of(EV.REQUEST)).toHaveLength(1);
  });
});

describe('SETTINGS_MAX_FRAME_SIZE ours', () => {
  it('accepts frames up to our announced size once the peer acknowledged it', () => {
    const { client, server } = connectedPair(
      ex,
      {},
      { maxFrameSize: 65536, initialWindowSize: 1 << 20, connectionWindow: 1 << 22 },
    );
    const s = client.open(POST);
    client.sendData(s, new Uint8Array(60000), true);
    const out = client.takeOutput();
    const frames = parseFrames(out).frames.filter((f) => f.type === FRAME.DATA);
    expect(Math.max(...frames.map((f) => f.payload.length))).toBe(60000);
    server.receive(out);
    expect(server.body(server.streamByWireId(1))).toHaveLength(60000);
    expect(server.errorCode).toBe(ERR.NO_ERROR);
  });
});

describe('limits: default and setting', () => {
  it('connection-wide send buffer cap refuses past it across streams', () => {
    const { client, server } = connectedPair(ex, { maxConnectionSendBuffer: 10000 }, { initialWindowSize: 0 });
    const a = client.open(POST);
    const b = client.open(POST);
    pump(client, server);
    expect(client.sendData(a, new Uint8Array(6000))).toBe(RESULT.OK);
    expect(client.sendData(b, new Uint8Array(5000))).toBe(RESULT.LIMIT);
    expect(client.sendData(b, new Uint8Array(4000))).toBe(RESULT.OK);
    expect(client.bufferedTotal).toBe(10000);
  });

  it('the send-buffer cap counts only unsent bytes: framed ones make room again', () => {
    const { client, server } = connectedPair(
      ex,
      { maxStreamSendBuffer: 4096 },
      { initialWindowSize: 2000, autoRelease: false },
    );
    const s = client.open(POST);
    expect(client.sendData(s, new Uint8Array(4096))).toBe(RESULT.OK);
    pump(client, server); // 2000 framed (the window), 2096 still buffered
    expect(client.buffered(s)).toBe(2096);
    expect(client.sendData(s, new Uint8Array(2000))).toBe(RESULT.OK);
    expect(client.sendData(s, new Uint8Array(1))).toBe(RESULT.LIMIT);
    expect(client.buffered(s)).toBe(4096);
  });

  it('our queued streams are bounded by maxPendingStreams', () => {
    const { client, server } = connectedPair(ex, { maxPendingStreams: 2 }, { maxConcurrentStreams: 1 });
    expect(client.open(GET)).toBeGreaterThan(0);
    expect(client.open(GET)).toBeGreaterThan(0);
    expect(client.open(GET)).toBeGreaterThan(0);
    expect(client.open(GET)).toBe(0);
    expect(client.lastResult).toBe(RESULT.LIMIT);
    expect(client.pending).toBe(2);
    void server;
  });

  it('defaults are what the README table says', () => {
    const server = new Engine(ex, 'server');
    const client = new Engine(ex, 'client');
    const sent = (e: Engine) => {
      const out = e.takeOutput();
      const start = out[0] === 0x50 ? 24 : 0;
      return parseFrames(out.subarray(start)).frames;
    };
    const sf = sent(server);
    const cf = sent(client);
    const settingsOf = (f: { payload: Uint8Array }) => {
      const m = new Map<number, number>();
      const v = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.length);
      for (let i = 0; i < f.payload.length; i += 6) m.set(v.getUint16(i), v.getUint32(i + 2));
      return m;
    };
    expect(Object.fromEntries(settingsOf(sf[0]))).toEqual({
      [SETTING.ENABLE_PUSH]: 0,
      [SETTING.MAX_CONCURRENT_STREAMS]: 100,
      [SETTING.MAX_HEADER_LIST_SIZE]: 65536,
    });
    expect(Object.fromEntries(settingsOf(cf[0]))).toEqual({
      [SETTING.ENABLE_PUSH]: 0,
      [SETTING.MAX_HEADER_LIST_SIZE]: 65536,
    });
    // The connection window is raised to 1 MiB at once.
    for (const f of [sf, cf]) {
      const wu = f.find((x) => x.type === FRAME.WINDOW_UPDATE)!;
      expect(new DataView(wu.payload.buffer, wu.payload.byteOffset).getUint32(0)).toBe((1 << 20) - 65535);
    }
  });
});

describe('the scheduler is fair (§5.3: no starvation)', () => {
  it('small responses finish while a large body is still being sent', () => {
    const { client, server } = connectedPair(ex, { connectionWindow: 1 << 24, initialWindowSize: 1 << 24 });
    const big = client.open(GET, true);
    const small = [1, 2, 3].map(() => client.open(GET, true));
    pump(client, server);
    const reqs = server.of(EV.REQUEST);
    server.respond(reqs[0].stream, OK);
    server.sendData(reqs[0].stream, new Uint8Array(1 << 20), true);
    for (const r of reqs.slice(1)) {
      server.respond(r.stream, OK);
      server.sendData(r.stream, new Uint8Array(20000), true);
    }
    // Deliver in slices of the server's output and watch the order streams finish in.
    let order: number[] = [];
    for (let i = 0; i < 200 && order.length < 4; i++) {
      client.receive(server.takeOutput(32 * 1024));
      order = client.events.filter((e) => e.kind === EV.CLOSED).map((e) => e.stream);
      server.receive(client.takeOutput());
    }
    expect(order.slice(0, 3).sort()).toEqual([...small].sort());
    expect(order[3]).toBe(big);
  });
});

describe('our INITIAL_WINDOW_SIZE taking effect mid-stream', () => {
  it('streams opened before the ACK keep flowing after our window shrinks (no stall)', () => {
    const client = new Engine(ex, 'client', { initialWindowSize: 16384, maxFrameSize: 16384, connectionWindow: 65535 });
    const server = new Engine(ex, 'server', { initialWindowSize: 16384, maxConcurrentStreams: 50 });
    // Opened and sent before any SETTINGS crossed: they start under the 65535 default.
    const streams = [0, 1, 2, 3].map(() => {
      const s = client.open(POSTREQ);
      client.sendData(s, new Uint8Array(60000), true);
      return s;
    });
    pump(client, server);
    for (const s of streams) expect(server.body(server.streamByWireId(client.streamId(s)))).toHaveLength(60000);
  });
});

describe('zero increment and stream-level window rules', () => {
  it('WINDOW_UPDATE with increment 0 on a stream is a stream PROTOCOL_ERROR (§6.9)', () => {
    const server = rawServer();
    const hp = new PeerHpack();
    server.receive(concat(headers(1, hp.encode(POSTREQ)), windowUpdate(1, 0)));
    const frames = parseFrames(server.takeOutput()).frames;
    const rst = frames.find((f) => f.type === FRAME.RST_STREAM)!;
    expect(rst.streamId).toBe(1);
    expect(errorCodeOf(rst)).toBe(ERR.PROTOCOL_ERROR);
    expect(frames.find((f) => f.type === FRAME.GOAWAY)).toBeUndefined();
  });
});

describe('deadlines', () => {
  it('graceful shutdown gives up on in-flight streams after gracefulTimeout', () => {
    const { client, server } = connectedPair(ex, {}, { gracefulTimeout: 2000 });
    client.open(GET, true);
    pump(client, server);
    server.tick(10);
    server.shutdown();
    pump(client, server);
    expect(server.phase).toBe(PHASE.DRAINING);
    expect(server.nextDeadline()).toBe(2010);
    server.tick(2010);
    expect(server.phase).toBe(PHASE.CLOSED);
    expect(server.of(EV.RESET)).toHaveLength(1);
  });

  it('reports no deadline when nothing is pending', () => {
    const { server } = connectedPair(ex, {}, { settingsTimeout: 0, idleTimeout: 0 });
    expect(server.nextDeadline()).toBe(-1);
  });
});

describe('§5.1 transitions seen from both ends', () => {
  it('walks open → half-closed → closed on both sides', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open(POST);
    expect(client.streamState(s)).toBe(STATE.OPEN);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    expect(server.streamState(ss)).toBe(STATE.OPEN);
    client.sendData(s, 'x', true);
    pump(client, server);
    expect(client.streamState(s)).toBe(STATE.HALF_CLOSED_LOCAL);
    expect(server.streamState(ss)).toBe(STATE.HALF_CLOSED_REMOTE);
    server.respond(ss, OK, true);
    pump(client, server);
    expect(client.streamState(s)).toBe(STATE.CLOSED);
    expect(server.streamState(ss)).toBe(STATE.CLOSED);
  });

  it('reserved (local) → half-closed (remote) → closed for a pushed stream', () => {
    const { client, server } = connectedPair(ex, { enablePush: true });
    client.open(GET, true);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    const p = server.push(ss, [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/p'],
    ]);
    expect(server.streamState(p)).toBe(STATE.RESERVED_LOCAL);
    pump(client, server);
    const promised = client.of(EV.PUSH)[0].a;
    expect(client.streamState(promised)).toBe(STATE.RESERVED_REMOTE);
    server.respond(p, OK);
    expect(server.streamState(p)).toBe(STATE.HALF_CLOSED_REMOTE);
    pump(client, server);
    expect(client.streamState(promised)).toBe(STATE.HALF_CLOSED_LOCAL);
    server.sendData(p, 'x', true);
    pump(client, server);
    expect(client.streamState(promised)).toBe(STATE.CLOSED);
  });

  it('classic CONNECT carries a tunnel with no content-length rules (§8.5)', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open([
      [':method', 'CONNECT'],
      [':authority', 'db.internal:5432'],
    ]);
    expect(s).toBeGreaterThan(0);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    server.respond(ss, OK);
    client.sendData(s, 'ping');
    server.sendData(ss, 'pong');
    pump(client, server);
    expect(new TextDecoder().decode(server.body(ss))).toBe('ping');
    expect(new TextDecoder().decode(client.body(s))).toBe('pong');
    expect(client.of(EV.HEAD, s)[0].b).toBe(HEAD_KIND.RESPONSE);
  });
});
