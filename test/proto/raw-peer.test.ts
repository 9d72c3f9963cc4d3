// The engine against a scripted raw-frame peer: send exact frames, expect exact frames
// back (the pattern of the h2 crate's tests/h2-support). The peer's HPACK is hpack.js.
import { describe, it, expect } from 'vitest';
import { Engine, harness, EV, HEAD_KIND, PHASE, RESULT, STATE, GET, OK, type ConfigOptions } from './engine.js';
import {
  FRAME,
  FLAG,
  ERR,
  SETTING,
  PREFACE,
  concat,
  frame,
  settings,
  settingsAck,
  ping,
  windowUpdate,
  rstStream,
  goaway,
  data,
  headers,
  continuation,
  parseFrames,
  errorCodeOf,
  lastStreamOf,
  incrementOf,
  settingsOf,
  blockOf,
} from '../support/frames.js';
import { Peer, REQ, POSTREQ, serverPeer as makeServerPeer } from './raw-peer.js';

const ex = harness();

const serverPeer = (options: ConfigOptions = {}, peerSettings: [number, number][] = []) =>
  makeServerPeer(ex, options, peerSettings);

function clientPeer(options: ConfigOptions = {}, peerSettings: [number, number][] = []): Peer {
  const peer = new Peer(new Engine(ex, 'client', options));
  const out = peer.engine.takeOutput();
  expect(out.subarray(0, 24)).toEqual(PREFACE);
  const { frames } = parseFrames(out.subarray(24));
  expect(frames[0].type).toBe(FRAME.SETTINGS);
  peer.send(settings(peerSettings), settingsAck());
  peer.read();
  return peer;
}

function expectConnectionError(peer: Peer, code: number) {
  peer.read();
  const g = peer.goaway();
  expect(g, 'GOAWAY sent').toBeDefined();
  expect(errorCodeOf(g!)).toBe(code);
  expect(peer.engine.phase).toBe(PHASE.CLOSED);
}

function expectStreamError(peer: Peer, id: number, code: number) {
  peer.read();
  const r = peer.rst(id);
  expect(r, `RST_STREAM on ${id}`).toBeDefined();
  expect(errorCodeOf(r!)).toBe(code);
  expect(peer.goaway()).toBeUndefined();
  expect(peer.engine.phase).toBe(PHASE.OPEN);
}

describe('§3.4 preface and §6.5 SETTINGS', () => {
  it('server sends SETTINGS first and ACKs the client SETTINGS', () => {
    const peer = new Peer(new Engine(ex, 'server'));
    peer.send(PREFACE, settings([[SETTING.MAX_FRAME_SIZE, 20000]]));
    const frames = peer.read();
    expect(frames[0].type).toBe(FRAME.SETTINGS);
    expect(frames[0].flags & FLAG.ACK).toBe(0);
    expect(settingsOf(frames[0]).get(SETTING.MAX_CONCURRENT_STREAMS)).toBe(100);
    expect(frames.some((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK)).toBe(true);
    expect(peer.engine.remoteSetting(SETTING.MAX_FRAME_SIZE)).toBe(20000);
  });

  it('a first frame other than SETTINGS is a connection PROTOCOL_ERROR', () => {
    const peer = new Peer(new Engine(ex, 'server'));
    peer.send(PREFACE, ping());
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('a SETTINGS ACK we did not ask for is a connection PROTOCOL_ERROR', () => {
    const peer = serverPeer();
    peer.send(settingsAck());
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('settings not acknowledged in time end the connection with SETTINGS_TIMEOUT', () => {
    const peer = new Peer(new Engine(ex, 'server', { settingsTimeout: 5000 }));
    peer.send(PREFACE, settings());
    peer.read();
    peer.engine.tick(0);
    expect(peer.engine.nextDeadline()).toBe(5000);
    peer.engine.tick(4999);
    expect(peer.engine.phase).toBe(PHASE.OPEN);
    peer.engine.tick(5000);
    expectConnectionError(peer, ERR.SETTINGS_TIMEOUT);
  });

  it('applies a mid-connection INITIAL_WINDOW_SIZE change to every open stream (§6.9.2)', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, REQ, true));
    peer.read();
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    expect(peer.engine.streamSendWindow(s)).toBe(65535);
    peer.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 1000]]));
    expect(peer.engine.streamSendWindow(s)).toBe(1000);
    peer.engine.respond(s, OK);
    peer.engine.sendData(s, new Uint8Array(1500));
    peer.read();
    // Shrink below what was sent: the window goes negative, legally (§6.9.2).
    peer.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 500]]));
    expect(peer.engine.streamSendWindow(s)).toBe(-500);
    peer.send(windowUpdate(1, 600));
    const sent = peer.read().filter((f) => f.type === FRAME.DATA);
    expect(sent.reduce((n, f) => n + f.payload.length, 0)).toBe(100);
  });

  it('an INITIAL_WINDOW_SIZE change that overflows a stream window is a FLOW_CONTROL_ERROR', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, REQ, true));
    peer.send(windowUpdate(1, 0x7fffffff - 65535));
    peer.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 65536]]));
    expectConnectionError(peer, ERR.FLOW_CONTROL_ERROR);
  });

  it('honours the peer MAX_FRAME_SIZE when framing DATA and heads', () => {
    const peer = serverPeer({}, [[SETTING.MAX_FRAME_SIZE, 16384]]);
    peer.send(peer.headers(1, REQ, true), windowUpdate(0, 1 << 20), settings([[SETTING.INITIAL_WINDOW_SIZE, 1 << 20]]));
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    peer.engine.respond(s, [
      [':status', '200'],
      ['x-big', 'v'.repeat(40000)],
    ]);
    peer.engine.sendData(s, new Uint8Array(100000), true);
    const frames = peer.read();
    expect(frames.every((f) => f.payload.length <= 16384)).toBe(true);
    expect(frames.filter((f) => f.type === FRAME.CONTINUATION).length).toBeGreaterThan(0);
    expect(frames.filter((f) => f.type === FRAME.DATA).reduce((n, f) => n + f.payload.length, 0)).toBe(100000);
  });
});

describe('§5.1 stream states', () => {
  it('DATA on an idle stream is a connection PROTOCOL_ERROR', () => {
    const peer = serverPeer();
    peer.send(data(1, 'x'));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('WINDOW_UPDATE and RST_STREAM on an idle stream are connection PROTOCOL_ERRORs (§6.4, §6.9)', () => {
    let peer = serverPeer();
    peer.send(windowUpdate(3, 1));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
    peer = serverPeer();
    peer.send(rstStream(3, ERR.CANCEL));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('DATA after the peer ended its side (half-closed remote) is a stream STREAM_CLOSED error', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, REQ, true), data(1, 'late'));
    expectStreamError(peer, 1, ERR.STREAM_CLOSED);
  });

  it('a stream id lower than one already used is a connection PROTOCOL_ERROR (§5.1.1)', () => {
    const peer = serverPeer();
    peer.send(peer.headers(5, REQ, true), peer.headers(3, REQ, true));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('a client that used 2^31-1 has no id left: the stream is answered, any later HEADERS is a PROTOCOL_ERROR', () => {
    const peer = serverPeer();
    peer.send(peer.headers(0x7fffffff, REQ, true));
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    expect(peer.engine.respond(s, OK, true)).toBe(RESULT.OK);
    peer.read();
    expect(peer.goaway()).toBeUndefined();
    peer.send(peer.headers(0x7ffffffd, REQ, true));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
    expect(lastStreamOf(peer.goaway()!)).toBe(0x7fffffff);
  });

  it('our own ids running out (§5.1.1): opening answers IDS_EXHAUSTED, the connection goes on', () => {
    const peer = clientPeer();
    peer.engine.setNextLocalId(0x7ffffffd);
    const a = peer.engine.open(REQ, true);
    const b = peer.engine.open(REQ, true);
    expect([peer.engine.streamId(a), peer.engine.streamId(b)]).toEqual([0x7ffffffd, 0x7fffffff]);
    expect(peer.engine.open(REQ, true)).toBe(0);
    expect(peer.engine.lastResult).toBe(RESULT.IDS_EXHAUSTED);
    // The streams already open finish normally.
    peer.read();
    peer.send(peer.headers(0x7fffffff, OK, true));
    expect(peer.engine.of(EV.HEAD, b)).toHaveLength(1);
    expect(peer.engine.phase).toBe(PHASE.OPEN);
  });

  it('a request queued behind MAX_CONCURRENT_STREAMS when ids run out is refused (REFUSED_STREAM: retry elsewhere)', () => {
    const peer = clientPeer({}, [[SETTING.MAX_CONCURRENT_STREAMS, 1]]);
    peer.engine.setNextLocalId(0x7ffffffd);
    peer.engine.open(REQ, true); // 0x7ffffffd
    const last = peer.engine.open(REQ, true); // queued: will get 0x7fffffff
    const queued = peer.engine.open(REQ, true); // queued: no id left for it by then
    expect(last).toBeGreaterThan(0);
    expect(queued).toBeGreaterThan(0);
    peer.read();
    peer.send(peer.headers(0x7ffffffd, OK, true));
    expect(peer.engine.streamId(last)).toBe(0x7fffffff);
    peer.read();
    peer.send(peer.headers(0x7fffffff, OK, true));
    const reset = peer.engine.of(EV.RESET, queued);
    expect(reset.map((e) => e.a)).toEqual([ERR.REFUSED_STREAM]);
    expect(peer.engine.of(EV.CLOSED, queued)).toHaveLength(1);
    expect(peer.engine.phase).toBe(PHASE.OPEN);
  });

  it('a queued request refused when its turn comes gives back the body it had buffered', () => {
    const peer = clientPeer({}, [[SETTING.MAX_CONCURRENT_STREAMS, 1]]);
    peer.engine.setNextLocalId(0x7ffffffd);
    peer.engine.open(REQ, true); // 0x7ffffffd
    peer.engine.open(REQ, true); // queued: will get 0x7fffffff, the last id
    const queued = peer.engine.open(POSTREQ); // queued: no id left for it by then
    expect(peer.engine.sendData(queued, 'x'.repeat(1000))).toBe(RESULT.OK);
    expect(peer.engine.bufferedTotal).toBe(1000);
    peer.read();
    peer.send(peer.headers(0x7ffffffd, OK, true));
    peer.read();
    peer.send(peer.headers(0x7fffffff, OK, true));
    expect(peer.engine.of(EV.RESET, queued).map((e) => e.a)).toEqual([ERR.REFUSED_STREAM]);
    expect(peer.engine.bufferedTotal).toBe(0);
    expect(peer.engine.streamState(queued)).toBe(STATE.CLOSED);
  });

  it('a server out of push ids answers IDS_EXHAUSTED to a push', () => {
    const peer = serverPeer({}, [[SETTING.ENABLE_PUSH, 1]]);
    peer.send(peer.headers(1, REQ, true));
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    expect(peer.engine.respond(s, OK)).toBe(RESULT.OK);
    peer.engine.setNextLocalId(0x7ffffffe);
    const pushed = [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'localhost'],
      [':path', '/style.css'],
    ] as [string, string][];
    const p = peer.engine.push(s, pushed);
    expect(peer.engine.streamId(p)).toBe(0x7ffffffe);
    expect(peer.engine.push(s, pushed)).toBe(0);
    expect(peer.engine.lastResult).toBe(RESULT.IDS_EXHAUSTED);
  });

  it('an even stream id from a client is a connection PROTOCOL_ERROR (§5.1.1)', () => {
    const peer = serverPeer();
    peer.send(peer.headers(2, REQ, true));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('frames that arrive after our RST_STREAM are ignored, not errors (§5.1 closed)', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, POSTREQ));
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    peer.engine.reset(s, ERR.CANCEL);
    peer.read();
    peer.send(data(1, 'in flight'), windowUpdate(1, 10), data(1, '', true));
    peer.read();
    expect(peer.goaway()).toBeUndefined();
    expect(peer.frames.filter((f) => f.type === FRAME.RST_STREAM)).toHaveLength(1);
  });

  it('DATA after both sides ended a stream is a connection STREAM_CLOSED error', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, REQ, true));
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    peer.engine.respond(s, OK, true);
    peer.read();
    peer.send(data(1, 'x'));
    expectConnectionError(peer, ERR.STREAM_CLOSED);
  });

  it('forgets closed streams past maxClosedStreams (bounded memory), treating late frames safely', () => {
    const peer = serverPeer({ maxClosedStreams: 2 });
    for (const id of [1, 3, 5]) {
      peer.send(peer.headers(id, REQ, true));
      const s = peer.engine.streamByWireId(id);
      peer.engine.respond(s, OK, true);
    }
    peer.read();
    // Stream 1 is forgotten: a late DATA gets a stream reset, not a connection error.
    peer.send(data(1, 'x'));
    expectStreamError(peer, 1, ERR.STREAM_CLOSED);
    // Stream 5 is remembered as ended both ways: a connection error.
    peer.send(data(5, 'x'));
    expectConnectionError(peer, ERR.STREAM_CLOSED);
  });

  it('idle streams below a newly opened id are implicitly closed (§5.1.1)', () => {
    const peer = serverPeer();
    peer.send(peer.headers(7, REQ, true));
    peer.send(peer.headers(3, REQ, true));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });
});

describe('§5.1.2 MAX_CONCURRENT_STREAMS', () => {
  it('refuses the peer excess with REFUSED_STREAM and keeps serving', () => {
    const peer = serverPeer({ maxConcurrentStreams: 2 });
    peer.send(peer.headers(1, POSTREQ), peer.headers(3, POSTREQ), peer.headers(5, POSTREQ));
    expectStreamError(peer, 5, ERR.REFUSED_STREAM);
    expect(peer.engine.of(EV.REQUEST)).toHaveLength(2);
    // A slot frees: the next stream is accepted.
    peer.send(data(1, '', true));
    peer.engine.respond(peer.engine.streamByWireId(1), OK, true);
    peer.send(peer.headers(7, POSTREQ));
    expect(peer.engine.of(EV.REQUEST)).toHaveLength(3);
  });
});

describe('§6.9 flow control errors', () => {
  it('DATA beyond the connection window is a connection FLOW_CONTROL_ERROR', () => {
    const peer = serverPeer({ connectionWindow: 65535, initialWindowSize: 1 << 20, autoRelease: false });
    peer.send(peer.headers(1, POSTREQ));
    for (let i = 0; i < 4; i++) peer.send(data(1, new Uint8Array(16384)));
    peer.read();
    expect(peer.goaway()).toBeDefined();
    expect(errorCodeOf(peer.goaway()!)).toBe(ERR.FLOW_CONTROL_ERROR);
  });

  it('an oversized DATA frame is a stream error that still counts against the connection window', () => {
    const peer = serverPeer({ autoRelease: false, connectionWindow: 65535 });
    peer.send(peer.headers(1, POSTREQ));
    const before = peer.engine.recvWindow;
    peer.send(data(1, new Uint8Array(16385)));
    expectStreamError(peer, 1, ERR.FRAME_SIZE_ERROR);
    // Charged to the connection window, and released as consumed: the next discarded
    // frame takes the released total past half the window, so a WINDOW_UPDATE returns both.
    expect(peer.engine.recvWindow).toBe(before - 16385);
    peer.send(peer.headers(3, POSTREQ), data(3, new Uint8Array(16385)));
    peer.read();
    const update = peer.frames.find((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 0);
    expect(update && incrementOf(update)).toBe(2 * 16385);
    expect(peer.engine.recvWindow).toBe(before);
  });

  it('DATA beyond a stream window is a stream FLOW_CONTROL_ERROR', () => {
    const peer = serverPeer({ initialWindowSize: 100, autoRelease: false });
    peer.send(peer.headers(1, POSTREQ), data(1, new Uint8Array(101)));
    expectStreamError(peer, 1, ERR.FLOW_CONTROL_ERROR);
  });

  it('WINDOW_UPDATE overflowing the connection window is a connection FLOW_CONTROL_ERROR', () => {
    const peer = serverPeer();
    peer.send(windowUpdate(0, 0x7fffffff));
    expectConnectionError(peer, ERR.FLOW_CONTROL_ERROR);
  });

  it('WINDOW_UPDATE overflowing a stream window is a stream FLOW_CONTROL_ERROR', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, POSTREQ), windowUpdate(1, 0x7fffffff));
    expectStreamError(peer, 1, ERR.FLOW_CONTROL_ERROR);
  });

  it('releases received DATA automatically with WINDOW_UPDATE once half the window is consumed', () => {
    const peer = serverPeer({ initialWindowSize: 65535, connectionWindow: 65535 });
    peer.send(peer.headers(1, POSTREQ));
    peer.send(data(1, new Uint8Array(16000)));
    expect(peer.read().filter((f) => f.type === FRAME.WINDOW_UPDATE)).toHaveLength(0);
    peer.send(data(1, new Uint8Array(16000)));
    expect(peer.read().filter((f) => f.type === FRAME.WINDOW_UPDATE)).toHaveLength(0); // 32000 < 65535/2
    peer.send(data(1, new Uint8Array(1000)));
    const updates = peer.read().filter((f) => f.type === FRAME.WINDOW_UPDATE);
    expect(updates.map((f) => [f.streamId, incrementOf(f)])).toEqual([
      [0, 33000],
      [1, 33000],
    ]);
  });

  it('manual release: bytes read after their stream closed go back to the connection window (releaseClosed)', () => {
    // The ABI host often reads a body after END_STREAM closed its stream; before
    // releaseClosed those bytes were lost to the connection window for good, and a
    // client reading 16 KB responses stalled after 64 of them on a 1 MiB window.
    const peer = serverPeer({ initialWindowSize: 65535, connectionWindow: 65535, autoRelease: false });
    peer.send(peer.headers(1, POSTREQ), data(1, new Uint8Array(10000)), data(1, new Uint8Array(10000), true));
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    expect(peer.engine.respond(s, OK, true)).toBe(RESULT.OK);
    peer.read();
    expect(peer.engine.streamState(s)).toBe(STATE.CLOSED); // no stream left to release on
    expect(peer.engine.recvWindow).toBe(65535 - 20000);
    peer.send(peer.headers(3, POSTREQ), data(3, new Uint8Array(10000)), data(3, new Uint8Array(10000), true));
    peer.engine.releaseClosed(20000);
    expect(
      peer
        .read()
        .filter((f) => f.type === FRAME.WINDOW_UPDATE)
        .map((f) => [f.streamId, incrementOf(f)]),
    ).toEqual([]); // under half the target: batched
    peer.engine.releaseClosed(20000);
    const updates = peer.read().filter((f) => f.type === FRAME.WINDOW_UPDATE);
    expect(updates.map((f) => [f.streamId, incrementOf(f)])).toEqual([[0, 40000]]);
    expect(peer.engine.recvWindow).toBe(65535);
  });

  it('returns padding to the windows at once', () => {
    const peer = serverPeer({ initialWindowSize: 100, autoRelease: false, connectionWindow: 1000 });
    peer.send(peer.headers(1, POSTREQ));
    const padded = frame(FRAME.DATA, FLAG.PADDED, 1, concat(Uint8Array.of(60), new Uint8Array(10), new Uint8Array(60)));
    peer.send(padded);
    peer.read();
    // 71 bytes counted (pad length byte, 10 data, 60 padding); the 61 of padding came back.
    expect(peer.engine.streamRecvWindow(peer.engine.streamByWireId(1))).toBe(100 - 10);
    peer.send(padded);
    expect(peer.engine.body(peer.engine.streamByWireId(1))).toHaveLength(20);
  });
});

describe('§4.3, §6.10 field blocks and §8 messages', () => {
  it('assembles HEADERS + CONTINUATION', () => {
    const peer = serverPeer();
    const block = peer.hpack.encode([...REQ, ['x-long', 'y'.repeat(300)]]);
    peer.send(
      headers(1, block.subarray(0, 10), true, false),
      continuation(1, block.subarray(10, 100), false),
      continuation(1, block.subarray(100)),
    );
    const req = peer.engine.of(EV.REQUEST);
    expect(req).toHaveLength(1);
    expect(req[0].fields![4]).toEqual(['x-long', 'y'.repeat(300)]);
  });

  it('ends the connection on too many CONTINUATION frames (CVE-2024-27316)', () => {
    const peer = serverPeer({ maxContinuations: 3 });
    const block = peer.hpack.encode(REQ);
    peer.send(headers(1, block.subarray(0, 1), true, false));
    for (let i = 0; i < 4; i++) peer.send(continuation(1, new Uint8Array(0), false));
    expectConnectionError(peer, ERR.ENHANCE_YOUR_CALM);
  });

  it('a header list over our MAX_HEADER_LIST_SIZE resets only that stream, HPACK stays in step', () => {
    const peer = serverPeer({ maxHeaderListSize: 1000 });
    peer.send(peer.headers(1, [...REQ, ['x-big', 'z'.repeat(2000)]], true));
    expectStreamError(peer, 1, ERR.PROTOCOL_ERROR);
    peer.send(peer.headers(3, [...REQ, ['x-small', 'ok']], true));
    expect(peer.engine.of(EV.REQUEST).map((r) => r.id)).toEqual([3]);
  });

  it('a malformed request is a stream PROTOCOL_ERROR, not a connection error (§8.1.1)', () => {
    const peer = serverPeer();
    peer.send(
      peer.headers(
        1,
        [
          [':method', 'GET'],
          [':path', '/'],
        ],
        true,
      ),
    );
    expectStreamError(peer, 1, ERR.PROTOCOL_ERROR);
    peer.send(peer.headers(3, [...REQ, ['Upper', 'x']], true));
    expectStreamError(peer, 3, ERR.PROTOCOL_ERROR);
    peer.send(peer.headers(5, [...REQ, ['connection', 'close']], true));
    expectStreamError(peer, 5, ERR.PROTOCOL_ERROR);
  });

  it('content-length must match the DATA received (§8.1.1)', () => {
    let peer = serverPeer();
    peer.send(peer.headers(1, [...POSTREQ, ['content-length', '5']]), data(1, '1234', true));
    expectStreamError(peer, 1, ERR.PROTOCOL_ERROR);
    peer = serverPeer();
    peer.send(peer.headers(1, [...POSTREQ, ['content-length', '3']]), data(1, '1234'));
    expectStreamError(peer, 1, ERR.PROTOCOL_ERROR);
    peer = serverPeer();
    peer.send(peer.headers(1, [...POSTREQ, ['content-length', '4']]), data(1, '12'), data(1, '34', true));
    peer.read();
    expect(peer.rst(1)).toBeUndefined();
  });

  it('trailers must end the stream (§8.1)', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, POSTREQ), data(1, 'x'), peer.headers(1, [['x-t', '1']], false));
    expectStreamError(peer, 1, ERR.PROTOCOL_ERROR);
  });

  it('a 1xx response cannot end the stream; the final one follows several 1xx', () => {
    const peer = clientPeer();
    const s = peer.engine.open(GET, true);
    peer.read();
    peer.send(peer.headers(1, [[':status', '100']]), peer.headers(1, [[':status', '103']]), peer.headers(1, OK, true));
    expect(peer.engine.of(EV.HEAD, s).map((e) => e.b)).toEqual([
      HEAD_KIND.INFORMATIONAL,
      HEAD_KIND.INFORMATIONAL,
      HEAD_KIND.RESPONSE,
    ]);
    const s2 = peer.engine.open(GET, true);
    peer.read();
    peer.send(peer.headers(3, [[':status', '100']], true));
    expectStreamError(peer, 3, ERR.PROTOCOL_ERROR);
    expect(s2).toBeGreaterThan(0);
  });

  it('a HEAD response may announce content-length without DATA', () => {
    const peer = clientPeer();
    const s = peer.engine.open(
      [
        [':method', 'HEAD'],
        [':scheme', 'https'],
        [':authority', 'a'],
        [':path', '/'],
      ],
      true,
    );
    peer.read();
    peer.send(
      peer.headers(
        1,
        [
          [':status', '200'],
          ['content-length', '1234'],
        ],
        true,
      ),
    );
    expect(peer.engine.of(EV.HEAD, s)).toHaveLength(1);
    expect(peer.rst(1)).toBeUndefined();
  });

  it('accepts extended CONNECT only when we enabled it (RFC 8441)', () => {
    const ws: [string, string][] = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':authority', 'a'],
      [':path', '/chat'],
    ];
    let peer = serverPeer({ enableConnectProtocol: true });
    peer.send(peer.headers(1, ws));
    expect(peer.engine.of(EV.REQUEST)).toHaveLength(1);
    peer = serverPeer();
    peer.send(peer.headers(1, ws));
    expectStreamError(peer, 1, ERR.PROTOCOL_ERROR);
  });

  it('a corrupt HPACK block is a connection COMPRESSION_ERROR', () => {
    const peer = serverPeer();
    peer.send(headers(1, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), true));
    expectConnectionError(peer, ERR.COMPRESSION_ERROR);
  });
});

describe('§6.6, §8.4 push', () => {
  it('PUSH_PROMISE to a client that disabled push is a connection PROTOCOL_ERROR', () => {
    const peer = clientPeer();
    peer.engine.open(GET, true);
    peer.read();
    const block = peer.hpack.encode([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'a'],
      [':path', '/x'],
    ]);
    peer.send(frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, concat(Uint8Array.of(0, 0, 0, 2), block)));
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });

  it('a pushed response arrives on the promised stream', () => {
    const peer = clientPeer({ enablePush: true });
    const s = peer.engine.open(GET, true);
    peer.read();
    const block = peer.hpack.encode([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'a'],
      [':path', '/x'],
    ]);
    peer.send(frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, concat(Uint8Array.of(0, 0, 0, 2), block)));
    peer.send(peer.headers(1, OK, true), peer.headers(2, OK), data(2, 'pushed', true));
    const push = peer.engine.of(EV.PUSH, s);
    expect(push).toHaveLength(1);
    expect(new TextDecoder().decode(peer.engine.body(push[0].a))).toBe('pushed');
  });
});

describe('§6.7 PING, §6.8 GOAWAY, floods', () => {
  it('ACKs a PING with the same data', () => {
    const peer = serverPeer();
    peer.send(ping(0x0102030405060708n));
    const ack = peer.read().find((f) => f.type === FRAME.PING)!;
    expect(ack.flags & FLAG.ACK).toBe(FLAG.ACK);
    expect(ack.payload).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });

  it('cuts off a peer whose PING ACKs pile up unread (CVE-2019-9512)', () => {
    const peer = serverPeer({ maxQueuedControlFrames: 100 });
    for (let i = 0; i < 101; i++) peer.send(ping(BigInt(i)));
    expectConnectionError(peer, ERR.ENHANCE_YOUR_CALM);
  });

  it('cuts off Rapid Reset (CVE-2023-44487) past the reset rate limit', () => {
    const peer = serverPeer({ maxResetsPerSecond: 50 });
    for (let i = 0; i < 51; i++) {
      const id = 1 + 2 * i;
      peer.send(peer.headers(id, REQ), rstStream(id, ERR.CANCEL));
      peer.read();
    }
    expectConnectionError(peer, ERR.ENHANCE_YOUR_CALM);
  });

  it('GOAWAY from the peer fails our queued and unprocessed streams as REFUSED (retryable)', () => {
    const peer = clientPeer({}, [[SETTING.MAX_CONCURRENT_STREAMS, 1]]);
    const a = peer.engine.open(GET, true);
    const b = peer.engine.open(GET, true); // queued behind the limit
    peer.read();
    peer.send(goaway(0, ERR.NO_ERROR));
    for (const s of [a, b]) {
      const r = peer.engine.of(EV.RESET, s);
      expect(r).toHaveLength(1);
      expect(r[0].a).toBe(ERR.REFUSED_STREAM);
    }
    expect(peer.engine.phase).toBe(PHASE.CLOSED);
  });

  it('reports the GOAWAY last-stream-id, code and debug data', () => {
    const peer = clientPeer();
    peer.send(goaway(0, ERR.ENHANCE_YOUR_CALM, 'slow down'));
    const g = peer.engine.of(EV.GOAWAY)[0];
    expect([g.a, g.b, new TextDecoder().decode(g.bytes)]).toEqual([0, ERR.ENHANCE_YOUR_CALM, 'slow down']);
  });

  it('ignores new streams above the last-stream-id of our GOAWAY', () => {
    const peer = serverPeer();
    peer.send(peer.headers(1, REQ, true));
    peer.engine.goaway(ERR.NO_ERROR);
    peer.read();
    expect(lastStreamOf(peer.goaway()!)).toBe(1);
    peer.send(peer.headers(3, REQ, true));
    expect(peer.engine.of(EV.REQUEST)).toHaveLength(1);
  });
});

describe('time: keepalive and idle timeout', () => {
  it('sends a keepalive PING after the interval and closes when it goes unanswered', () => {
    const peer = serverPeer({ keepaliveInterval: 1000, keepaliveTimeout: 500 });
    peer.engine.tick(0);
    expect(peer.engine.nextDeadline()).toBe(1000);
    peer.engine.tick(1000);
    expect(peer.read().some((f) => f.type === FRAME.PING && !(f.flags & FLAG.ACK))).toBe(true);
    expect(peer.engine.nextDeadline()).toBe(1500);
    peer.engine.tick(1500);
    expect(peer.engine.phase).toBe(PHASE.CLOSED);
  });

  it('closes an idle connection with GOAWAY NO_ERROR', () => {
    const peer = serverPeer({ idleTimeout: 3000 });
    peer.engine.tick(100);
    peer.engine.tick(3100);
    expectConnectionError(peer, ERR.NO_ERROR);
  });
});

describe("field-block interleaving is the frame layer's (§6.10)", () => {
  it('a frame between HEADERS and CONTINUATION is a connection PROTOCOL_ERROR', () => {
    const peer = serverPeer();
    const block = peer.hpack.encode(REQ);
    peer.send(headers(1, block.subarray(0, 2), true, false), ping());
    expectConnectionError(peer, ERR.PROTOCOL_ERROR);
  });
});

// Keep RESULT referenced for readers grepping the API.
void RESULT;
void blockOf;
