// The connection engine, client and server wired together in memory (RFC 9113 §3–§8).
import { describe, it, expect } from 'vitest';
import { Engine, harness, pump, connectedPair, EV, HEAD_KIND, PHASE, RESULT, GET, POST, OK } from './engine.js';
import { ERR, SETTING } from '../support/frames.js';

const ex = harness();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('connection start (§3.4, §6.5)', () => {
  it('exchanges prefaces and SETTINGS, each side ACKs and applies the other', () => {
    const client = new Engine(ex, 'client', { initialWindowSize: 1 << 20, maxConcurrentStreams: 50 });
    const server = new Engine(ex, 'server', {
      maxConcurrentStreams: 7,
      maxFrameSize: 32768,
      enableConnectProtocol: true,
    });
    pump(client, server);
    expect(client.of(EV.REMOTE_SETTINGS)).toHaveLength(1);
    expect(client.of(EV.SETTINGS_ACK)).toHaveLength(1);
    expect(server.of(EV.SETTINGS_ACK)).toHaveLength(1);
    expect(client.remoteSetting(SETTING.MAX_CONCURRENT_STREAMS)).toBe(7);
    expect(client.remoteSetting(SETTING.MAX_FRAME_SIZE)).toBe(32768);
    expect(client.remoteSetting(SETTING.ENABLE_CONNECT_PROTOCOL)).toBe(1);
    expect(server.remoteSetting(SETTING.INITIAL_WINDOW_SIZE)).toBe(1 << 20);
    expect(server.remoteSetting(SETTING.MAX_CONCURRENT_STREAMS)).toBe(50);
    expect(server.remoteSetting(SETTING.ENABLE_PUSH)).toBe(0);
    expect(client.localSetting(SETTING.INITIAL_WINDOW_SIZE)).toBe(1 << 20);
  });

  it('handles the handshake split at every byte', () => {
    const client = new Engine(ex, 'client');
    const server = new Engine(ex, 'server');
    pump(client, server, () => 1);
    expect(server.of(EV.SETTINGS_ACK)).toHaveLength(1);
    expect(client.of(EV.SETTINGS_ACK)).toHaveLength(1);
    expect(server.phase).toBe(PHASE.OPEN);
  });

  it('ends the connection on a wrong preface with PROTOCOL_ERROR', () => {
    const server = new Engine(ex, 'server');
    server.takeOutput();
    server.receive(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(server.errorCode).toBe(ERR.PROTOCOL_ERROR);
    expect(server.of(EV.CONN_ERROR)[0].bytes).toSatisfy((b: Uint8Array) => /preface/.test(text(b)));
    expect(server.phase).toBe(PHASE.CLOSED);
  });
});

describe('requests and responses', () => {
  it('carries a GET and its response body', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open(GET, true);
    expect(s).toBeGreaterThan(0);
    pump(client, server);
    const req = server.of(EV.REQUEST);
    expect(req).toHaveLength(1);
    expect(req[0].fields).toEqual(GET);
    expect(req[0].a).toBe(1); // END_STREAM
    expect(req[0].id).toBe(1);
    const ss = req[0].stream;
    expect(
      server.respond(ss, [
        [':status', '200'],
        ['content-type', 'text/plain'],
      ]),
    ).toBe(RESULT.OK);
    expect(server.sendData(ss, 'hello', true)).toBe(RESULT.OK);
    pump(client, server);
    const heads = client.of(EV.HEAD, s);
    expect(heads).toHaveLength(1);
    expect(heads[0].b).toBe(HEAD_KIND.RESPONSE);
    expect(heads[0].fields).toEqual([
      [':status', '200'],
      ['content-type', 'text/plain'],
    ]);
    expect(text(client.body(s))).toBe('hello');
    expect(client.of(EV.CLOSED, s)).toHaveLength(1);
    expect(server.of(EV.CLOSED, ss)).toHaveLength(1);
    expect(client.liveStreams).toBe(0);
    expect(server.liveStreams).toBe(0);
  });

  it('streams a POST with trailers both ways', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open(POST);
    client.sendData(s, 'part1,');
    client.sendData(s, 'part2');
    client.sendTrailers(s, [['x-checksum', 'abc']]);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    expect(text(server.body(ss))).toBe('part1,part2');
    const trailers = server.of(EV.HEAD, ss);
    expect(trailers).toHaveLength(1);
    expect(trailers[0].b).toBe(HEAD_KIND.TRAILERS);
    expect(trailers[0].fields).toEqual([['x-checksum', 'abc']]);
    server.respond(ss, OK);
    server.sendData(ss, 'done');
    server.sendTrailers(ss, [['grpc-status', '0']]);
    pump(client, server);
    const kinds = client.of(EV.HEAD, s).map((e) => e.b);
    expect(kinds).toEqual([HEAD_KIND.RESPONSE, HEAD_KIND.TRAILERS]);
    expect(text(client.body(s))).toBe('done');
    expect(client.liveStreams).toBe(0);
  });

  it('delivers several 1xx informational responses before the final one', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open(GET, true);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    server.respond(
      ss,
      [
        [':status', '103'],
        ['link', '</a.css>; rel=preload'],
      ],
      false,
      true,
    );
    server.respond(ss, [[':status', '100']], false, true);
    server.respond(ss, OK, true);
    pump(client, server);
    const heads = client.of(EV.HEAD, s);
    expect(heads.map((e) => e.b)).toEqual([HEAD_KIND.INFORMATIONAL, HEAD_KIND.INFORMATIONAL, HEAD_KIND.RESPONSE]);
    expect(heads[0].fields).toEqual([
      [':status', '103'],
      ['link', '</a.css>; rel=preload'],
    ]);
  });

  it('refuses to send a malformed request of our own', () => {
    const { client } = connectedPair(ex);
    expect(
      client.open([
        [':method', 'GET'],
        [':path', '/'],
      ]),
    ).toBe(0);
    expect(client.lastResult).toBe(RESULT.INVALID);
  });
});

describe('MAX_CONCURRENT_STREAMS (§5.1.2)', () => {
  it('queues our own excess streams and opens them as slots free', () => {
    const { client, server } = connectedPair(ex, {}, { maxConcurrentStreams: 2 });
    const streams = [0, 1, 2, 3, 4].map(() => client.open(GET, true));
    expect(streams.every((s) => s > 0)).toBe(true);
    expect(client.pending).toBe(3);
    pump(client, server);
    expect(server.of(EV.REQUEST)).toHaveLength(2);
    for (let round = 0; round < 3; round++) {
      const open = server.of(EV.REQUEST).filter((r) => server.of(EV.CLOSED, r.stream).length === 0);
      for (const r of open) server.respond(r.stream, OK, true);
      pump(client, server);
    }
    expect(server.of(EV.REQUEST)).toHaveLength(5);
    expect(client.pending).toBe(0);
    expect(client.of(EV.OPENED)).toHaveLength(3);
    expect(streams.map((s) => client.streamId(s))).toEqual([1, 3, 5, 7, 9]);
  });
});

describe('flow control (§5.2, §6.9)', () => {
  it('never sends more than the windows allow, and resumes on WINDOW_UPDATE', () => {
    const { client, server } = connectedPair(ex, {
      initialWindowSize: 1000,
      connectionWindow: 65535,
      autoRelease: false,
    });
    const s = client.open(GET, true);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    server.respond(ss, OK);
    const body = new Uint8Array(5000).map((_, i) => i & 0xff);
    expect(server.sendData(ss, body, true)).toBe(RESULT.OK);
    pump(client, server);
    expect(client.body(s)).toHaveLength(1000); // the stream window
    expect(server.buffered(ss)).toBe(4000);
    client.release(s, 1000);
    pump(client, server);
    expect(client.body(s).length).toBe(2000);
    while (client.body(s).length < 5000) {
      client.release(s, 1000);
      pump(client, server);
    }
    expect(client.body(s)).toEqual(body);
  });

  it('assigns send capacity as windows open (reserve_capacity / capacity)', () => {
    const { client, server } = connectedPair(ex, {}, { initialWindowSize: 100, autoRelease: false });
    const s = client.open(POST);
    pump(client, server);
    expect(client.capacity(s)).toBe(0); // nothing reserved yet
    client.reserve(s, 500);
    expect(client.capacity(s)).toBe(100); // the stream window
    client.sendData(s, new Uint8Array(100));
    pump(client, server);
    expect(client.capacity(s)).toBe(0);
    const ss = server.of(EV.REQUEST)[0].stream;
    server.release(ss, 100);
    pump(client, server);
    expect(client.of(EV.CAPACITY, s).length).toBeGreaterThan(0);
    expect(client.capacity(s)).toBe(100);
  });

  it('refuses send_data past the per-stream buffer cap instead of buffering without bound', () => {
    const { client, server } = connectedPair(ex, { maxStreamSendBuffer: 4096 }, { initialWindowSize: 0 });
    const s = client.open(POST);
    pump(client, server);
    expect(client.sendData(s, new Uint8Array(4096))).toBe(RESULT.OK);
    expect(client.sendData(s, new Uint8Array(1))).toBe(RESULT.LIMIT);
    expect(client.buffered(s)).toBe(4096);
  });
});

describe('RST_STREAM, GOAWAY, PING', () => {
  it('resets a stream both ways', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open(POST);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    client.reset(s, ERR.CANCEL);
    pump(client, server);
    const r = server.of(EV.RESET, ss);
    expect(r).toHaveLength(1);
    expect(r[0].a).toBe(ERR.CANCEL);
    expect(r[0].b).toBe(1); // remote
    expect(server.liveStreams).toBe(0);
  });

  it('answers PING and measures the round trip', () => {
    const { client, server } = connectedPair(ex);
    client.tick(1000);
    client.ping();
    const out = client.takeOutput();
    server.receive(out);
    client.tick(1042);
    client.receive(server.takeOutput());
    const ack = client.of(EV.PING_ACK);
    expect(ack).toHaveLength(1);
    expect(ack[0].b).toBe(42);
  });

  it('refuses new requests after GOAWAY and reports streams above last-stream-id as refused', () => {
    const { client, server } = connectedPair(ex);
    const a = client.open(GET, true);
    pump(client, server);
    const b = client.open(GET, true); // in flight when the GOAWAY is written
    server.goaway(ERR.NO_ERROR);
    pump(client, server);
    const refused = client.of(EV.RESET, b);
    expect(refused).toHaveLength(1);
    expect(refused[0].a).toBe(ERR.REFUSED_STREAM);
    expect(client.of(EV.RESET, a)).toHaveLength(0);
    expect(client.open(GET, true)).toBe(0);
    expect(client.lastResult).toBe(RESULT.CLOSED);
  });

  it('shuts down gracefully: GOAWAY 2^31-1, PING, final GOAWAY, in-flight streams finish', () => {
    const { client, server } = connectedPair(ex);
    const s = client.open(GET, true);
    pump(client, server);
    server.shutdown();
    pump(client, server);
    expect(server.phase).toBe(PHASE.DRAINING);
    const goaways = client.of(EV.GOAWAY);
    expect(goaways.map((g) => g.a)).toEqual([0x7fffffff, 1]);
    const ss = server.of(EV.REQUEST)[0].stream;
    server.respond(ss, OK, true);
    pump(client, server);
    expect(client.of(EV.HEAD, s)).toHaveLength(1);
    expect(server.phase).toBe(PHASE.CLOSED);
    expect(server.isDone).toBe(true);
  });
});

describe('server push (§8.4)', () => {
  it('delivers a promised stream to a client that enabled push', () => {
    const { client, server } = connectedPair(ex, { enablePush: true });
    const s = client.open(GET, true);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    const p = server.push(ss, [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/style.css'],
    ]);
    expect(p).toBeGreaterThan(0);
    server.respond(ss, OK, true);
    server.respond(p, OK);
    server.sendData(p, 'body{}', true);
    pump(client, server);
    const push = client.of(EV.PUSH, s);
    expect(push).toHaveLength(1);
    expect(push[0].b).toBe(2); // promised stream id
    const promised = push[0].a;
    expect(client.of(EV.HEAD, promised)[0].b).toBe(HEAD_KIND.RESPONSE);
    expect(text(client.body(promised))).toBe('body{}');
  });

  it('cannot push to a client that disabled it', () => {
    const { client, server } = connectedPair(ex);
    client.open(GET, true);
    pump(client, server);
    const ss = server.of(EV.REQUEST)[0].stream;
    expect(server.push(ss, GET)).toBe(0);
    expect(server.lastResult).toBe(RESULT.BAD_STATE);
  });
});
