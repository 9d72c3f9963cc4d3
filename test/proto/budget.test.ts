// The instance's memory budget (proto/budget.ts), shared by every connection of an
// instance: what it accounts comes back to zero, and each action as it fills — send
// refused, streams refused, connections refused, the worst holder shed — happens at its
// threshold. Engines here share a budget of their own, so the counts are exact.
import { describe, it, expect } from 'vitest';
import { Engine, TestBudget, harness, pump, EV, PHASE, RESULT, POST } from './engine.js';
import {
  ERR,
  PREFACE,
  FRAME,
  PeerHpack,
  concat,
  settings,
  settingsAck,
  headers,
  data,
  windowUpdate,
  parseFrames,
  errorCodeOf,
} from '../support/frames.js';

const ex = harness();
const MiB = 1 << 20;
const CONNECTION_COST = 32 << 10;
const STREAM_COST = 2 << 10;
const GET_REQ: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'x'],
  [':path', '/'],
];
const POST_REQ: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':authority', 'x'],
  [':path', '/up'],
];

/** A client and a server sharing `budget`, handshaken. */
function pairOn(budget: TestBudget, clientOptions = {}, serverOptions = {}) {
  const client = new Engine(ex, 'client', clientOptions, { now: 1000, current: true }, budget);
  const server = new Engine(ex, 'server', serverOptions, { now: 1000, current: true }, budget);
  pump(client, server);
  return { client, server };
}

/** A server on `budget` greeted by a raw peer (whose stream windows are `window`). */
function serverOn(budget: TestBudget, window = 65535, options = {}): Engine {
  const server = new Engine(ex, 'server', options, { now: 1000, current: true }, budget);
  server.receive(concat(PREFACE, settings([[4, window]]), settingsAck()));
  server.takeOutput();
  return server;
}

describe('the memory budget', () => {
  it('accounts connections, streams and bytes, and gives all of it back', () => {
    const budget = new TestBudget(ex, 64 * MiB);
    const { client, server } = pairOn(budget, {}, { initialWindowSize: 1 << 20, autoRelease: false });
    expect(budget.connections).toBe(2);
    const s = client.open(POST);
    client.sendData(s, new Uint8Array(50_000));
    expect(budget.sendBytes).toBeGreaterThanOrEqual(50_000);
    expect(budget.streams).toBe(1);
    pump(client, server);
    expect(budget.streams).toBe(2);
    expect(budget.recvBytes).toBe(50_000); // received, not released by the server's host
    expect(budget.used).toBe(budget.sendBytes + 50_000 + 2 * STREAM_COST + 2 * CONNECTION_COST);
    server.release(server.of(EV.REQUEST)[0].stream, 50_000);
    expect(budget.recvBytes).toBe(0);
    client.abort(ERR.CANCEL);
    pump(client, server);
    client.free();
    server.free();
    expect({
      used: budget.used,
      streams: budget.streams,
      connections: budget.connections,
      send: budget.sendBytes,
      recv: budget.recvBytes,
    }).toEqual({ used: 0, streams: 0, connections: 0, send: 0, recv: 0 });
  });

  it('refuses send_data past the send budget, across connections', () => {
    const budget = new TestBudget(ex, 2 * MiB); // send budget 1 MiB
    const a = serverOn(budget, 0);
    const b = serverOn(budget, 0);
    const open = (e: Engine) => {
      e.receive(headers(1, new PeerHpack().encode(GET_REQ), true));
      const s = e.streamByWireId(1);
      e.respond(s, [[':status', '200']]);
      return s;
    };
    const sa = open(a);
    const sb = open(b);
    expect(a.sendData(sa, new Uint8Array(700 << 10))).toBe(RESULT.OK); // windows 0: it stays
    expect(b.sendData(sb, new Uint8Array(400 << 10))).toBe(RESULT.LIMIT); // the instance's send budget, not b's own cap
    expect(b.sendData(sb, new Uint8Array(200 << 10))).toBe(RESULT.OK);
  });

  it('assigns no send capacity past the send budget', () => {
    const budget = new TestBudget(ex, 2 * MiB); // 1 MiB to send
    // Windows, buffer caps and high water all at 4 MiB: only the budget is left to stop it.
    const a = serverOn(budget, 4 * MiB, {
      capacityHighWater: 8 * MiB,
      maxStreamSendBuffer: 4 * MiB,
      maxConnectionSendBuffer: 8 * MiB,
    });
    a.receive(concat(windowUpdate(0, 4 * MiB), headers(1, new PeerHpack().encode(GET_REQ), true)));
    const s = a.streamByWireId(1);
    a.respond(s, [[':status', '200']]);
    a.takeOutput();
    expect(budget.sendBytes).toBe(0);
    a.reserve(s, 4 * MiB);
    expect(a.capacity(s)).toBe(budget.maxSendBytes);
    expect(budget.sendBytes).toBe(budget.maxSendBytes);
  });

  it('refuses new streams with REFUSED_STREAM past its stream limit', () => {
    const budget = new TestBudget(ex, 64 * MiB);
    budget.maxStreams = 2;
    const server = serverOn(budget);
    const hp = new PeerHpack();
    // Two requests whose bodies are still coming hold their streams open; the third is refused.
    server.receive(
      concat(headers(1, hp.encode(GET_REQ)), headers(3, hp.encode(GET_REQ)), headers(5, hp.encode(GET_REQ), true)),
    );
    const rst = parseFrames(server.takeOutput()).frames.filter((f) => f.type === FRAME.RST_STREAM);
    expect(rst.map((f) => [f.streamId, errorCodeOf(f)])).toEqual([[5, ERR.REFUSED_STREAM]]);
    expect(server.of(EV.REQUEST)).toHaveLength(2);
  });

  it('past its receive limit (bytes the hosts have not taken), refuses new streams; the worst holder is shed once', () => {
    const budget = new TestBudget(ex, 64 * MiB);
    budget.maxRecvBytes = 100_000;
    const hp = new PeerHpack();
    const big = serverOn(budget, 65535, { autoRelease: false });
    const small = serverOn(budget, 65535, { autoRelease: false });
    const upload = (e: Engine, id: number, bytes: number, peer = new PeerHpack()) => {
      e.receive(headers(id, peer.encode(POST_REQ)));
      for (let sent = 0; sent < bytes; sent += 16_000)
        e.receive(data(id, new Uint8Array(Math.min(16_000, bytes - sent))));
    };
    const refused = () =>
      parseFrames(small.takeOutput())
        .frames.filter((f) => f.type === FRAME.RST_STREAM)
        .map((f) => [f.streamId, errorCodeOf(f)]);
    upload(big, 1, 64_000);
    upload(small, 1, 30_000, hp);
    upload(small, 3, 5_000, hp); // 99,000 held: under the limit, taken
    expect(small.of(EV.REQUEST)).toHaveLength(2);
    small.receive(data(3, new Uint8Array(5_000))); // 104,000: over it
    expect(budget.recvBytes).toBe(104_000);
    small.receive(headers(5, hp.encode(POST_REQ)));
    expect(refused()).toEqual([[5, ERR.REFUSED_STREAM]]);
    small.tick(1500); // refused, but nobody has stood still for a second yet
    expect(big.phase).toBe(PHASE.OPEN);
    small.receive(headers(7, hp.encode(POST_REQ)));
    small.tick(2000);
    expect(big.phase).toBe(PHASE.CLOSED);
    expect(big.errorCode).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(small.phase).toBe(PHASE.OPEN);
    expect(refused()).toEqual([[7, ERR.REFUSED_STREAM]]); // taken: small moved its bytes
    // Until its host frees it, the shed one still holds its bytes, and is not shed again.
    small.receive(headers(9, hp.encode(POST_REQ)));
    expect(refused()).toEqual([[9, ERR.REFUSED_STREAM]]);
    small.tick(2900); // small moved bytes at 2000: not a candidate; big is leaving
    expect(budget.shed).toBe(1);
    big.free();
    expect(budget.recvBytes).toBe(40_000);
    small.receive(headers(11, hp.encode(POST_REQ))); // back under it: streams open again
    expect(small.of(EV.REQUEST)).toHaveLength(3);
  });

  it('gives a new connection GOAWAY ENHANCE_YOUR_CALM past its connection limit', () => {
    const budget = new TestBudget(ex, 64 * MiB);
    budget.maxConnections = 1;
    serverOn(budget);
    const second = new Engine(ex, 'server', {}, { now: 1000, current: true }, budget);
    expect(second.phase).toBe(PHASE.CLOSED);
    const g = parseFrames(second.takeOutput()).frames.find((f) => f.type === FRAME.GOAWAY);
    expect(g && errorCodeOf(g)).toBe(ERR.ENHANCE_YOUR_CALM);
  });

  it('at the limit, closes the connection holding the most that made no progress for a second', () => {
    const budget = new TestBudget(ex, 2 * MiB);
    const fill = (e: Engine, n: number) => {
      e.receive(headers(1, new PeerHpack().encode(GET_REQ), true));
      const s = e.streamByWireId(1);
      e.respond(s, [[':status', '200']]);
      e.takeOutput();
      expect(e.sendData(s, new Uint8Array(n))).toBe(RESULT.OK);
      return s;
    };
    const big = serverOn(budget, 0);
    const small = serverOn(budget, 0);
    fill(big, 700 << 10);
    const ss = fill(small, 200 << 10);
    expect(small.sendData(ss, new Uint8Array(300 << 10))).toBe(RESULT.LIMIT); // pressed
    small.tick(1500); // neither has moved a byte for 500 ms: nobody yet
    expect(big.phase).toBe(PHASE.OPEN);
    expect(small.sendData(ss, new Uint8Array(300 << 10))).toBe(RESULT.LIMIT);
    small.tick(2000);
    expect(big.phase).toBe(PHASE.CLOSED);
    expect(big.errorCode).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(small.phase).toBe(PHASE.OPEN);
    expect(budget.shed).toBe(1);
    expect(small.sendData(ss, new Uint8Array(300 << 10))).toBe(RESULT.OK);
  });
});
