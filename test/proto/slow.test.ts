// The slow family: a peer that costs us by being slow rather than fast. Each timeout is
// held at its threshold and one millisecond before it, with its default, and with a
// control where the peer is slow but legitimately so.
import { describe, it, expect } from 'vitest';
import { Engine, harness, connectedPair, pump, EV, PHASE, GET } from './engine.js';
import {
  ERR,
  PREFACE,
  PeerHpack,
  FRAME,
  concat,
  settings,
  settingsAck,
  headers,
  continuation,
  windowUpdate,
  parseFrames,
  errorCodeOf,
} from '../support/frames.js';

const ex = harness();
const REQ: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':authority', 'x'],
  [':path', '/up'],
];
const GET_REQ: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'x'],
  [':path', '/'],
];

/** A server created at 1000 (the host's present), whose peer sent its preface and SETTINGS
 *  (with `peerSettings`) and acknowledged ours. */
function greeted(options = {}, peerSettings: [number, number][] = []): Engine {
  const server = new Engine(ex, 'server', options, { now: 1000, current: true });
  server.receive(concat(PREFACE, settings(peerSettings), settingsAck()));
  server.takeOutput();
  return server;
}

/** `e`'s next deadline is `at`: one millisecond before it, it is open; at it, closed. */
function closesAt(e: Engine, at: number): void {
  expect(e.nextDeadline()).toBe(at);
  e.tick(at - 1);
  expect(e.phase).toBe(PHASE.OPEN);
  e.tick(at);
  expect(e.phase).toBe(PHASE.CLOSED);
}

const goawayCode = (e: Engine) => {
  const g = parseFrames(e.takeOutput()).frames.find((f) => f.type === FRAME.GOAWAY);
  return g ? errorCodeOf(g) : -1;
};

describe('handshake timeout (10 s): preface and first SETTINGS', () => {
  it('closes a connection whose peer sent nothing, at the threshold and not before', () => {
    const server = new Engine(ex, 'server', { settingsTimeout: 0 }, { now: 1000, current: true });
    closesAt(server, 11_000);
    expect(server.errorCode).toBe(ERR.SETTINGS_TIMEOUT);
  });

  it('control: a peer that sent its preface and SETTINGS is not timed', () => {
    const server = greeted({ settingsTimeout: 0 });
    server.tick(11_000);
    expect(server.phase).toBe(PHASE.OPEN);
  });
});

describe('header timeout (10 s): a header block waiting for its CONTINUATION', () => {
  it('ends the connection at the threshold', () => {
    const server = greeted();
    const block = new PeerHpack().encode(GET_REQ);
    server.receive(headers(1, block.subarray(0, 2), true, false));
    closesAt(server, 11_000);
    expect(goawayCode(server)).toBe(ERR.ENHANCE_YOUR_CALM);
  });

  it('control: a block finished in time is not timed any more', () => {
    const server = greeted();
    const block = new PeerHpack().encode(GET_REQ);
    server.receive(headers(1, block.subarray(0, 2), true, false));
    server.tick(9000);
    server.receive(continuation(1, block.subarray(2), true));
    server.tick(11_000);
    expect(server.phase).toBe(PHASE.OPEN);
    expect(server.of(EV.REQUEST)).toHaveLength(1);
  });
});

describe('send stall timeout (server 30 s): the peer keeps a window shut while we have data', () => {
  /** A server answering a GET on a peer whose stream windows are 0. */
  function stalled() {
    const server = greeted({}, [[4, 0]]);
    server.receive(headers(1, new PeerHpack().encode(GET_REQ), true));
    const s = server.streamByWireId(1);
    server.respond(s, [[':status', '200']]);
    server.sendData(s, new Uint8Array(100));
    server.takeOutput();
    return { server, s };
  }

  it('resets the stream (CANCEL) at the threshold, the connection going on', () => {
    const { server } = stalled();
    expect(server.nextDeadline()).toBe(31_000);
    server.tick(30_999);
    expect(parseFrames(server.takeOutput()).frames.filter((f) => f.type === FRAME.RST_STREAM)).toHaveLength(0);
    server.tick(31_000);
    const rst = parseFrames(server.takeOutput()).frames.find((f) => f.type === FRAME.RST_STREAM);
    expect(rst && errorCodeOf(rst)).toBe(ERR.CANCEL);
    expect(server.phase).toBe(PHASE.OPEN);
  });

  it('control: a window that opens before the threshold stops the clock', () => {
    const { server } = stalled();
    server.tick(20_000);
    server.receive(windowUpdate(1, 50)); // half of it goes; the stream waits again from now
    server.takeOutput();
    server.tick(31_000);
    expect(parseFrames(server.takeOutput()).frames.filter((f) => f.type === FRAME.RST_STREAM)).toHaveLength(0);
    expect(server.nextDeadline()).toBe(50_000);
  });

  it('the connection window held shut while a stream waits for capacity (nothing buffered) ends the connection', () => {
    const server = greeted({}, [[4, 1 << 20]]);
    server.receive(headers(1, new PeerHpack().encode(GET_REQ), true));
    const s = server.streamByWireId(1);
    server.respond(s, [[':status', '200']]);
    server.reserve(s, 65_535);
    server.sendData(s, new Uint8Array(server.capacity(s))); // the whole connection window
    server.takeOutput();
    server.reserve(s, 16_384); // a body pulled on capacity asks for more: none comes
    expect(server.capacity(s)).toBe(0);
    closesAt(server, 31_000);
    expect(server.errorCode).toBe(ERR.ENHANCE_YOUR_CALM);
  });

  it('the connection window held shut ends the connection', () => {
    const server = greeted({}, [[4, 1 << 20]]);
    server.receive(headers(1, new PeerHpack().encode(GET_REQ), true));
    const s = server.streamByWireId(1);
    server.respond(s, [[':status', '200']]);
    server.sendData(s, new Uint8Array(70_000)); // past the 65,535-byte connection window
    server.takeOutput();
    closesAt(server, 31_000);
    expect(server.errorCode).toBe(ERR.ENHANCE_YOUR_CALM);
  });
});

describe('write stall timeout (30 s): the transport takes none of our bytes', () => {
  it('ends the connection at the threshold and drops what it could not write', () => {
    const server = greeted({ keepaliveTimeout: 0 });
    server.ping(); // something to write (and a PING nobody times here)
    server.writeBlocked(); // the host answered PENDING at 1000
    closesAt(server, 31_000);
    expect(server.errorCode).toBe(ERR.ENHANCE_YOUR_CALM);
    expect(server.isDone).toBe(true);
  });

  it('control: a transport that takes some bytes stops the clock', () => {
    const server = greeted({ keepaliveTimeout: 0 });
    server.ping();
    server.writeBlocked();
    server.tick(20_000);
    server.takeOutput(4);
    server.tick(31_000);
    expect(server.phase).toBe(PHASE.OPEN);
  });
});

describe('receive idle timeout (server 60 s): every open stream waits on a silent peer', () => {
  it('ends the connection at the threshold', () => {
    const server = greeted();
    server.receive(headers(1, new PeerHpack().encode(REQ))); // a POST whose body never comes
    closesAt(server, 61_000);
    expect(server.errorCode).toBe(ERR.ENHANCE_YOUR_CALM);
  });

  it("control: a request waiting for our answer (a long poll) is ours to end, not the peer's", () => {
    const server = greeted();
    server.receive(headers(1, new PeerHpack().encode(GET_REQ), true));
    server.tick(61_000);
    expect(server.phase).toBe(PHASE.OPEN);
    expect(server.nextDeadline()).toBe(121_000);
  });

  it('control: a client waits for its server as long as it takes (off by default)', () => {
    const { client, server } = connectedPair(ex);
    client.tick(1000);
    client.open(GET, true);
    pump(client, server);
    client.tick(1000 + 3600_000);
    expect(client.phase).toBe(PHASE.OPEN);
  });
});
