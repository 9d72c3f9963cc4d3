// Time at the engine (proto/clock.ts): the host tells the time when its own events fire,
// and between its turns the last time told is stale. Nothing done while it is stale may
// start a deadline from it — the fault behind "the first connection after 20 s idle dies
// with SETTINGS_TIMEOUT". Each case has a control where the time was current, to show the
// deadline itself still fires. Then the close linger: a closed connection whose peer
// takes none of its last bytes gives them up.
import { describe, it, expect } from 'vitest';
import { Engine, harness, pump, connectedPair, PHASE } from './engine.js';
import {
  ERR,
  PREFACE,
  PeerHpack,
  concat,
  settings,
  settingsAck,
  ping,
  headers,
  parseFrames,
  FRAME,
} from '../support/frames.js';

const ex = harness();

/** The peer sends a GET on stream 1; the server answers it: one stream opens and closes. */
function answerOneRequest(server: Engine): void {
  const id = 1;
  server.receive(
    headers(
      id,
      new PeerHpack().encode([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', 'x'],
        [':path', '/'],
      ]),
      true,
    ),
  );
  server.respond(server.streamByWireId(id), [[':status', '204']], true);
  server.takeOutput();
}

/** A server engine that received a client preface and whose SETTINGS are acknowledged. */
function greetedServer(options = {}, clock?: { now: number; current: boolean }): Engine {
  const engine = new Engine(ex, 'server', options, clock);
  engine.receive(concat(PREFACE, settings(), settingsAck()));
  engine.takeOutput();
  return engine;
}

describe('a stale time starts no deadline', () => {
  it('a connection created while the time is stale counts its SETTINGS timeout from the next tick', () => {
    // The host last told 1000, slept 25 s, and accepted a connection before telling the time.
    const server = new Engine(ex, 'server', {}, { now: 1000, current: false });
    expect(server.nextDeadline()).toBe(11_000); // an early estimate: never later than the truth
    server.tick(26_000);
    expect(server.phase).toBe(PHASE.OPEN);
    expect(server.nextDeadline()).toBe(36_000);
    server.tick(36_000); // the timeout itself still fires, 10 s after the connection began
    expect(server.phase).toBe(PHASE.CLOSED);
    expect(server.errorCode).toBe(ERR.SETTINGS_TIMEOUT);
  });

  it('control: created while the time is current, it counts from then', () => {
    const server = new Engine(ex, 'server', {}, { now: 1000, current: true });
    expect(server.nextDeadline()).toBe(11_000);
    server.tick(11_000);
    expect(server.errorCode).toBe(ERR.SETTINGS_TIMEOUT);
  });

  it('a PING sent while the time is stale is timed from the next tick', () => {
    const { client } = connectedPair(ex, { keepaliveTimeout: 20_000 }, {});
    client.tick(1000);
    client.timeLapsed();
    client.ping(); // an application's ping() between turns, 59 s after the last tick
    client.takeOutput(); // written, never answered
    client.tick(60_000);
    expect(client.phase).toBe(PHASE.OPEN);
    expect(client.nextDeadline()).toBe(80_000);
    client.tick(80_000);
    expect(client.phase).toBe(PHASE.CLOSED);
  });

  it('control: a PING sent while the time is current and unanswered for 59 s fails the connection', () => {
    const { client } = connectedPair(ex, { keepaliveTimeout: 20_000 }, {});
    client.tick(1000);
    client.ping();
    client.takeOutput();
    client.tick(60_000);
    expect(client.phase).toBe(PHASE.CLOSED);
  });

  it('a stream that closes while the time is stale starts the idle timeout at the next tick', () => {
    const server = greetedServer({ idleTimeout: 20_000 });
    server.tick(1000);
    server.timeLapsed();
    answerOneRequest(server); // at 30 s, before the host tells the time
    server.tick(30_000);
    expect(server.phase).toBe(PHASE.OPEN);
    expect(server.nextDeadline()).toBe(50_000);
  });

  it('control: a stream that closed at 1000 leaves the connection idle since then', () => {
    const server = greetedServer({ idleTimeout: 20_000 });
    server.tick(1000);
    answerOneRequest(server);
    server.tick(30_000);
    expect(server.phase).toBe(PHASE.CLOSED);
    const goaway = parseFrames(server.takeOutput()).frames.find((f) => f.type === FRAME.GOAWAY);
    expect(goaway).toBeDefined();
  });

  it('PINGs keep no connection from idling out (idle counts from the last stream)', () => {
    const server = greetedServer({ idleTimeout: 20_000 }, { now: 1000, current: true });
    server.tick(15_000);
    server.receive(ping(7n));
    server.tick(21_000);
    expect(server.phase).toBe(PHASE.CLOSED);
  });

  it('a graceful shutdown begun while the time is stale waits gracefulTimeout from the next tick', () => {
    const { client, server } = connectedPair(ex, {}, { gracefulTimeout: 2000 });
    client.open(
      [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', 'x'],
        [':path', '/'],
      ],
      true,
    );
    pump(client, server);
    server.tick(10);
    server.timeLapsed();
    server.shutdown();
    pump(client, server);
    server.tick(5000);
    expect(server.phase).toBe(PHASE.DRAINING);
    expect(server.nextDeadline()).toBe(7000);
    server.tick(7000);
    expect(server.phase).toBe(PHASE.CLOSED);
  });

  it('a time earlier than the last one told is ignored', () => {
    const server = new Engine(ex, 'server', { idleTimeout: 0 }, { now: 5000, current: true });
    server.tick(1000);
    expect(server.nextDeadline()).toBe(15_000);
  });

  it('the server closes an idle connection after 5 minutes by default', () => {
    const server = greetedServer({}, { now: 1000, current: true });
    expect(server.nextDeadline()).toBe(301_000);
    server.tick(301_000);
    expect(server.phase).toBe(PHASE.CLOSED);
  });
});

describe('draining', () => {
  const GET_: [string, string][] = [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':authority', 'x'],
    [':path', '/'],
  ];

  it('a GOAWAY received on an old connection gives in-flight streams gracefulTimeout from then', () => {
    const { client, server } = connectedPair(ex, { gracefulTimeout: 2000 }, {});
    client.tick(1000);
    client.open(GET_);
    pump(client, server);
    client.tick(60_000); // the connection is a minute old
    server.goaway(ERR.NO_ERROR);
    pump(client, server);
    client.tick(60_001);
    expect(client.phase).toBe(PHASE.DRAINING);
    expect(client.nextDeadline()).toBe(62_000);
    client.tick(62_000);
    expect(client.phase).toBe(PHASE.CLOSED);
  });

  it('a graceful shutdown whose PING goes unanswered sends its final GOAWAY and lets streams finish', () => {
    const { client, server } = connectedPair(ex, {}, { keepaliveTimeout: 1000 });
    server.tick(1000);
    client.open(GET_, true);
    pump(client, server);
    server.shutdown(); // GOAWAY 2^31-1 and a PING the client never sees answered
    const sent = parseFrames(server.takeOutput()).frames;
    expect(sent.filter((f) => f.type === FRAME.GOAWAY)).toHaveLength(1);
    server.tick(2000);
    const final = parseFrames(server.takeOutput()).frames;
    expect(final.filter((f) => f.type === FRAME.GOAWAY)).toHaveLength(1);
    expect(server.phase).toBe(PHASE.DRAINING);
    server.tick(60_000); // no keepalive failure for the PING it gave up on
    expect(server.phase).toBe(PHASE.DRAINING);
    expect(server.errorCode).toBe(ERR.NO_ERROR);
    server.respond(server.streamByWireId(1), [[':status', '204']], true);
    expect(server.phase).toBe(PHASE.CLOSED);
  });
  it("the peer's GOAWAY during a graceful shutdown's PING: the final GOAWAY still goes out, with the real last stream, and streams finish", () => {
    const { client, server } = connectedPair(ex, {}, { keepaliveTimeout: 1000 });
    server.tick(1000);
    client.open(GET_, true);
    pump(client, server);
    server.shutdown(); // GOAWAY 2^31-1 and a PING
    const fromServer = server.takeOutput();
    client.goaway(ERR.NO_ERROR); // the peer goes away too, before it sees the PING
    client.receive(fromServer); // then answers it
    server.receive(client.takeOutput()); // its GOAWAY, then the PING ACK
    const final = parseFrames(server.takeOutput()).frames.filter((f) => f.type === FRAME.GOAWAY);
    expect(final, 'the final GOAWAY').toHaveLength(1);
    expect(
      new DataView(final[0].payload.buffer, final[0].payload.byteOffset).getUint32(0) & 0x7fffffff,
      'its last stream',
    ).toBe(1);
    expect(server.phase).toBe(PHASE.DRAINING);
    server.tick(60_000); // no keepalive failure for the shutdown PING
    expect(server.errorCode).toBe(ERR.NO_ERROR);
    server.respond(server.streamByWireId(1), [[':status', '204']], true);
    expect(server.phase).toBe(PHASE.CLOSED);
  });

  it('a GOAWAY after a final one never names a higher last stream (§6.8)', () => {
    const { client, server } = connectedPair(ex, {}, {});
    server.tick(1000);
    client.open(GET_, true);
    pump(client, server);
    server.goaway(ERR.NO_ERROR); // last stream 1
    server.takeOutput();
    client.open(GET_, true); // stream 3, ignored by the server
    server.receive(client.takeOutput());
    server.abort(ERR.PROTOCOL_ERROR); // a second GOAWAY
    const goaways = parseFrames(server.takeOutput()).frames.filter((f) => f.type === FRAME.GOAWAY);
    expect(goaways).toHaveLength(1);
    expect(new DataView(goaways[0].payload.buffer, goaways[0].payload.byteOffset).getUint32(0) & 0x7fffffff).toBe(1);
  });
});

describe('close linger', () => {
  /** A server cut off with a connection error; its GOAWAY waits in the output, unwritten. */
  function cutOff(options = {}): Engine {
    const server = greetedServer({ idleTimeout: 0, ...options }, { now: 1000, current: true });
    server.abort(ERR.PROTOCOL_ERROR);
    expect(server.phase).toBe(PHASE.CLOSED);
    expect(server.isDone).toBe(false);
    return server;
  }

  it('drops the last bytes when the peer took none of them for closeLinger (default 5 s)', () => {
    const server = cutOff();
    expect(server.nextDeadline()).toBe(6000);
    server.tick(5999);
    expect(server.isDone).toBe(false);
    server.tick(6000);
    expect(server.isDone).toBe(true);
    expect(server.nextDeadline()).toBe(-1);
  });

  it('a peer that keeps taking bytes keeps the linger going', () => {
    const server = cutOff({ closeLinger: 1000 });
    server.tick(1800);
    server.takeOutput(4); // the transport took 4 bytes at 1800
    expect(server.nextDeadline()).toBe(2800);
    server.tick(2000);
    expect(server.isDone).toBe(false);
    server.tick(2800);
    expect(server.isDone).toBe(true);
  });

  it('closeLinger 0 waits for ever', () => {
    const server = cutOff({ closeLinger: 0 });
    expect(server.nextDeadline()).toBe(-1);
    server.tick(10_000_000);
    expect(server.isDone).toBe(false);
  });
});
