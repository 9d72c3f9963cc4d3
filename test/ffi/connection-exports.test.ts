// Functional tests of connection-level exports at the raw ABI: PING (both roles), the
// client's graceful shutdown, the server's abrupt shutdown, the server's
// SETTINGS_MAX_CONCURRENT_STREAMS as the client sees it, freeing connection options, 1xx
// responses (on_informational / send_informational), RFC 8441 extended CONNECT
// (set_protocol) and h2_response_version. A client instance and a server instance of the
// release module talk over the in-memory duplex of mem-host.ts (no sockets, no timers);
// what crosses the wire is read back from the ends' inboxes and checked frame by frame.
import { describe, it, expect } from 'vitest';
import {
  MemHost,
  startPair,
  pump,
  pushTask,
  wire,
  bodyStep,
  open200,
  responseStart,
  TASK,
  H2E,
  PAIR_HANDSHAKE,
} from './mem-host.js';
import { H2_OPT, H2_PSEUDO } from '../../bindings/abi.js';
import {
  FRAME,
  FLAG,
  ERR,
  SETTING,
  PREFACE,
  concat,
  parseFrames,
  settings,
  settingsAck,
  errorCodeOf,
  lastStreamOf,
  settingsOf,
  type Frame,
} from '../support/frames.js';

const ABSENT = 0xffffffff;
const NO_ERROR = ERR.NO_ERROR;
/** RFC 9113 code the abrupt shutdown sends (any code a test can tell from NO_ERROR / CANCEL). */
const SHUTDOWN_REASON = ERR.ENHANCE_YOUR_CALM;

/** Every chunk that reaches an end's inbox from now on (and what is there already). */
function tap(h: MemHost, ud: number, stripPreface: boolean): () => Frame[] {
  const end = h.ends.get(ud)!;
  const seen: Uint8Array[] = [...end.inbox];
  const push = end.inbox.push.bind(end.inbox);
  end.inbox.push = (...chunks: Uint8Array[]) => {
    seen.push(...chunks);
    return push(...chunks);
  };
  return () => {
    let bytes = concat(...seen);
    if (stripPreface) {
      expect(Buffer.from(bytes.subarray(0, PREFACE.length))).toEqual(Buffer.from(PREFACE));
      bytes = bytes.subarray(PREFACE.length);
    }
    const { frames, rest } = parseFrames(bytes);
    expect(rest.length).toBe(0); // whole frames only: nothing is left half-written
    return frames;
  };
}

type World = ReturnType<typeof world>;

/**
 * A client instance and a server instance, each with its own executor, handshaken over
 * the in-memory duplex. `toServer` / `toClient` list the frames each side received.
 */
function world(serverOpts: [number, bigint][] = [], clientOpts: [number, bigint][] = []) {
  const ch = new MemHost();
  const sh = new MemHost();
  const cexec = ch.ex.h2_executor_new();
  const sexec = sh.ex.h2_executor_new();
  const { cud, sud } = startPair(ch, cexec, sh, sexec, serverOpts, clientOpts);
  const toServer = tap(sh, sud, true);
  const toClient = tap(ch, cud, false);
  let client = 0;
  let server = 0;
  pump(
    [
      [ch, cexec],
      [sh, sexec],
    ],
    (h, t, type, user) => {
      expect(user).toBe(PAIR_HANDSHAKE);
      if (type === TASK.CLIENTCONN) client = h.ex.h2_task_value(t);
      else if (type === TASK.SERVERCONN) server = h.ex.h2_task_value(t);
      else throw new Error(`handshake task type ${type}`);
      h.ex.h2_task_free(t);
    },
  );
  expect(client).not.toBe(0);
  expect(server).not.toBe(0);
  return { ch, sh, cexec, sexec, cud, sud, client, server, toServer, toClient };
}

/** Drives both sides until nothing moves. */
function run(w: World, onTask: (h: MemHost, task: number, type: number, user: number) => void): void {
  pump(
    [
      [w.ch, w.cexec],
      [w.sh, w.sexec],
    ],
    onTask,
  );
}

/** Frees whatever of the pair is left, closes the duplex and the executors. */
function teardown(w: World): void {
  w.ch.ex.h2_clientconn_free(w.client);
  w.sh.ex.h2_serverconn_free(w.server);
  w.ch.close(w.cud);
  w.sh.close(w.sud);
  run(w, (h, t) => h.ex.h2_task_free(t));
  expect(w.ch.ex.h2_executor_free(w.cexec)).toBe(H2E.OK);
  expect(w.sh.ex.h2_executor_free(w.sexec)).toBe(H2E.OK);
}

/** A request for `uri` (GET unless `method`), not sent yet. */
function request(h: MemHost, uri: string, method = 'GET'): number {
  const req = h.ex.h2_request_new();
  expect(req).not.toBe(0);
  expect(h.with(method, (p, n) => h.ex.h2_request_set_method(req, p, n))).toBe(H2E.OK);
  expect(h.with(uri, (p, n) => h.ex.h2_request_set_uri(req, p, n))).toBe(H2E.OK);
  return req;
}

/** A pseudo-header of a request (null when absent). */
function pseudo(h: MemHost, req: number, which: number): string | null {
  const cap = 256;
  const buf = h.ex.h2_alloc(cap) >>> 0;
  try {
    const n = h.ex.h2_request_pseudo(req, which, buf, cap) >>> 0;
    return n === ABSENT ? null : Buffer.from(h.bytes(buf, Math.min(n, cap))).toString();
  } finally {
    h.ex.h2_free(buf);
  }
}

/** Sends `text` on a send stream, END_STREAM with it when `end`. */
function sendData(h: MemHost, stream: number, text: string, end: boolean): void {
  expect(h.with(text, (p, n) => h.ex.h2_send_stream_send_data(stream, p, n, end ? 1 : 0))).toBe(H2E.OK);
}

/** Adds a header to a response (or request) headers handle. */
function addHeader(h: MemHost, headers: number, name: string, value: string): void {
  expect(h.with(name, (np, nl) => h.with(value, (vp, vl) => h.ex.h2_headers_add(headers, np, nl, vp, vl)))).toBe(
    H2E.OK,
  );
}

/** An error task's value as plain numbers; frees the error. */
function takeError(h: MemHost, task: number) {
  const err = h.ex.h2_task_value(task);
  expect(err).not.toBe(0);
  const buf = h.ex.h2_alloc(256) >>> 0;
  const n = h.ex.h2_error_print(err, buf, 256) >>> 0;
  const out = {
    code: h.ex.h2_error_code(err) >>> 0,
    reason: h.ex.h2_error_reason(err) >>> 0,
    retryable: h.ex.h2_error_is_retryable(err) >>> 0,
    message: Buffer.from(h.bytes(buf, n)).toString(),
  };
  h.ex.h2_free(buf);
  h.ex.h2_error_free(err);
  return out;
}

/** The PING frames in `frames`: [opaque data as hex, ack]. */
const pings = (frames: Frame[]) =>
  frames
    .filter((f) => f.type === FRAME.PING)
    .map((f) => [Buffer.from(f.payload).toString('hex'), (f.flags & FLAG.ACK) !== 0] as [string, boolean]);

const goaways = (frames: Frame[]) =>
  frames.filter((f) => f.type === FRAME.GOAWAY).map((f) => [lastStreamOf(f), errorCodeOf(f)]);

const U = {
  PING: 1,
  RESP: 2,
  ACCEPT: 3,
  CBODY: 4,
  SBODY: 5,
  CCLOSE: 6,
  SCLOSE: 7,
  LATE: 8,
  RESP2: 9,
  CBODY2: 10,
};

describe('PING: h2_clientconn_ping / h2_serverconn_ping', () => {
  for (const side of ['client', 'server'] as const) {
    it(`h2_${side}conn_ping: the peer answers the PING; the task yields PING with the round-trip time`, () => {
      const w = world();
      const [me, meExec, peer, peerExec] =
        side === 'client' ? [w.ch, w.cexec, w.sh, w.sexec] : [w.sh, w.sexec, w.ch, w.cexec];
      const toPeer = side === 'client' ? w.toServer : w.toClient;
      const toMe = side === 'client' ? w.toClient : w.toServer;
      const pingsBefore = [pings(toPeer()).length, pings(toMe()).length];
      expect(me.ex.h2_executor_set_time(meExec, 1000n)).toBe(H2E.OK);
      expect(peer.ex.h2_executor_set_time(peerExec, 1000n)).toBe(H2E.OK);
      const task = side === 'client' ? me.ex.h2_clientconn_ping(w.client) : me.ex.h2_serverconn_ping(w.server);
      expect(task).not.toBe(0);
      pushTask(me, meExec, task, U.PING);
      // Only our side runs: the PING goes out, nobody answers it yet.
      pump([[me, meExec]], () => {
        throw new Error('the PING task finished before the peer ran');
      });
      const sent = pings(toPeer()).slice(pingsBefore[0]);
      expect(sent).toHaveLength(1);
      expect(sent[0][1]).toBe(false); // a PING, not an ACK
      expect(sent[0][0]).toHaveLength(16); // 8 octets of opaque data
      // 40 ms later the peer answers: the ACK echoes the data, the task measures 40 ms.
      expect(me.ex.h2_executor_set_time(meExec, 1040n)).toBe(H2E.OK);
      expect(peer.ex.h2_executor_set_time(peerExec, 1040n)).toBe(H2E.OK);
      const done: [number, number][] = [];
      run(w, (h, t, type, user) => {
        expect(h).toBe(me);
        expect(user).toBe(U.PING);
        done.push([type, h.ex.h2_task_value(t) >>> 0]);
        h.ex.h2_task_free(t);
      });
      expect(done).toEqual([[TASK.PING, 40]]);
      expect(pings(toMe()).slice(pingsBefore[1])).toEqual([[sent[0][0], true]]);
      // A second PING carries other data and is answered too (the first one is not replayed).
      const again = side === 'client' ? me.ex.h2_clientconn_ping(w.client) : me.ex.h2_serverconn_ping(w.server);
      pushTask(me, meExec, again, U.PING);
      run(w, (h, t, type) => {
        done.push([type, h.ex.h2_task_value(t) >>> 0]);
        h.ex.h2_task_free(t);
      });
      expect(done).toHaveLength(2);
      expect(done[1][0]).toBe(TASK.PING);
      const all = pings(toPeer()).slice(pingsBefore[0]);
      expect(all).toHaveLength(2);
      expect(all[1][0]).not.toBe(all[0][0]);
      expect(pings(toMe()).slice(pingsBefore[1])).toEqual([
        [all[0][0], true],
        [all[1][0], true],
      ]);
      teardown(w);
    });
  }

  it('a PING on a connection that closed fails, and a bad handle gives no task', () => {
    const w = world();
    expect(w.ch.ex.h2_clientconn_ping(0)).toBe(0);
    expect(w.sh.ex.h2_serverconn_ping(0)).toBe(0);
    expect(w.sh.ex.h2_serverconn_abrupt_shutdown(w.server, NO_ERROR)).toBe(H2E.OK);
    run(w, (h, t) => h.ex.h2_task_free(t));
    const types: number[] = [];
    pushTask(w.sh, w.sexec, w.sh.ex.h2_serverconn_ping(w.server), U.PING);
    pushTask(w.ch, w.cexec, w.ch.ex.h2_clientconn_ping(w.client), U.PING);
    run(w, (h, t, type) => {
      types.push(type);
      if (type === TASK.ERROR) takeError(h, t);
      h.ex.h2_task_free(t);
    });
    expect(types).toEqual([TASK.ERROR, TASK.ERROR]);
    teardown(w);
  });
});

/** A world with one request for `url` in flight: its accept and both sides' poll_close pushed. */
function inFlight(url: string) {
  const w = world();
  const { ch, sh, cexec, sexec } = w;
  pushTask(ch, cexec, ch.ex.h2_clientconn_send(w.client, request(ch, url)), U.RESP);
  pushTask(sh, sexec, sh.ex.h2_serverconn_accept(w.server), U.ACCEPT);
  pushTask(ch, cexec, ch.ex.h2_clientconn_poll_close(w.client), U.CCLOSE);
  pushTask(sh, sexec, sh.ex.h2_serverconn_poll_close(w.server), U.SCLOSE);
  return w;
}

describe('h2_clientconn_graceful_shutdown', () => {
  it('sends GOAWAY NO_ERROR, refuses new requests, lets the in-flight one finish, then the connection closes', () => {
    const w = inFlight('http://mem/in-flight');
    const { ch, sh, cexec, sexec } = w;
    const c = ch.ex;
    const s = sh.ex;
    const accepted: string[] = [];
    const seen: Record<string, number> = {};
    let respond = 0;
    let acceptEnded = false;
    let status = 0;
    let body = '';
    let cbody = 0;
    const onTask = (h: MemHost, t: number, type: number, user: number) => {
      const ex = h.ex;
      if (user === U.ACCEPT) {
        if (type === TASK.EMPTY) acceptEnded = true;
        else {
          expect(type).toBe(TASK.REQUEST);
          const req = ex.h2_task_value(t);
          accepted.push(pseudo(h, req, H2_PSEUDO.PATH)!);
          respond = ex.h2_request_respond(req);
          ex.h2_request_free(req);
          pushTask(h, sexec, ex.h2_serverconn_accept(w.server), U.ACCEPT);
        }
      } else if (user === U.RESP) {
        expect(type).toBe(TASK.RESPONSE);
        ({ status, body: cbody } = responseStart(h, cexec, t, U.CBODY));
      } else if (user === U.CBODY) {
        body += bodyStep(h, cexec, t, type, cbody, U.CBODY) ?? '';
      } else if (user === U.LATE) {
        seen.lateType = type;
        if (type === TASK.ERROR) {
          const e = takeError(h, t);
          seen.lateCode = e.code;
          seen.lateReason = e.reason;
          seen.lateRetryable = e.retryable;
        }
      } else if (user === U.CCLOSE || user === U.SCLOSE) {
        seen[user === U.CCLOSE ? 'clientClose' : 'serverClose'] = type;
        if (type === TASK.ERROR) takeError(h, t);
        // The connection ended: the host closes its transport (as the header asks).
        if (user === U.CCLOSE) ch.close(w.cud);
        else sh.close(w.sud);
      }
      ex.h2_task_free(t);
    };
    run(w, onTask);
    expect(accepted).toEqual(['/in-flight']);
    expect(respond).not.toBe(0);
    expect(c.h2_clientconn_is_ready(w.client)).toBe(1);

    expect(c.h2_clientconn_graceful_shutdown(w.client)).toBe(H2E.OK);
    expect(c.h2_clientconn_is_ready(w.client)).toBe(0); // going away: nothing opens any more
    pushTask(ch, cexec, c.h2_clientconn_send(w.client, request(ch, 'http://mem/late')), U.LATE);
    run(w, onTask);
    // The server got GOAWAY NO_ERROR; the late request was refused, retryable, never sent.
    expect(goaways(w.toServer())).toEqual([[0, NO_ERROR]]);
    expect(seen.lateType).toBe(TASK.ERROR);
    expect(seen.lateCode).toBe(H2E.CLOSED);
    expect(seen.lateReason).toBe(ERR.REFUSED_STREAM);
    expect(seen.lateRetryable).toBe(1);
    // The in-flight request still waits for its answer: nothing has closed.
    expect(status).toBe(0);
    expect(seen.clientClose).toBeUndefined();
    expect(seen.serverClose).toBeUndefined();

    // The server answers it now; the client reads it whole, then the connection ends.
    const send = s.h2_respond_send_response(respond, s.h2_response_new(), 0);
    expect(send).not.toBe(0);
    sendData(sh, send, 'answered after GOAWAY', true);
    s.h2_send_stream_free(send);
    s.h2_respond_free(respond);
    run(w, onTask);
    expect(status).toBe(200);
    expect(body).toBe('answered after GOAWAY');
    expect(seen.clientClose).toBe(TASK.EMPTY);
    expect(seen.serverClose).toBe(TASK.EMPTY);
    expect(acceptEnded).toBe(true);
    expect(accepted).toEqual(['/in-flight']); // '/late' never reached the server
    expect(w.toServer().filter((f) => f.type === FRAME.HEADERS)).toHaveLength(1);
    expect(c.h2_clientconn_graceful_shutdown(0)).toBe(H2E.INVALID_ARG);
    teardown(w);
  });
});

describe('h2_serverconn_abrupt_shutdown', () => {
  it('sends GOAWAY with the reason; the client request in flight fails with it and the connection ends', () => {
    const w = inFlight('http://mem/pending');
    const { ch, sh, cexec, sexec } = w;
    const c = ch.ex;
    const s = sh.ex;
    let respond = 0;
    const got: Record<string, unknown> = {};
    const onTask = (h: MemHost, t: number, type: number, user: number) => {
      const ex = h.ex;
      const name = Object.keys(U).find((k) => U[k as keyof typeof U] === user)!;
      if (user === U.ACCEPT && type === TASK.REQUEST) {
        const req = ex.h2_task_value(t);
        respond = ex.h2_request_respond(req);
        ex.h2_request_free(req);
      } else {
        got[name] = type === TASK.ERROR ? takeError(h, t) : type;
      }
      // The connection ended: the host closes its transport (as the header asks).
      if (user === U.CCLOSE) ch.close(w.cud);
      if (user === U.SCLOSE) sh.close(w.sud);
      ex.h2_task_free(t);
    };
    run(w, onTask);
    expect(respond).not.toBe(0);
    expect(got).toEqual({});

    expect(s.h2_serverconn_abrupt_shutdown(w.server, SHUTDOWN_REASON)).toBe(H2E.OK);
    pushTask(sh, sexec, s.h2_serverconn_accept(w.server), U.ACCEPT);
    run(w, onTask);
    // On the wire: GOAWAY with the reason, naming stream 1 as the last one processed.
    expect(goaways(w.toClient())).toEqual([[1, SHUTDOWN_REASON]]);
    // The server accepts nothing more, its connection ended (not cleanly) with the reason,
    // and the stream can no longer be answered.
    expect(got.ACCEPT).toBe(TASK.EMPTY);
    expect(got.SCLOSE).toMatchObject({ reason: SHUTDOWN_REASON });
    expect(s.h2_respond_send_response(respond, s.h2_response_new(), 1)).toBe(0);
    expect(s.h2_last_result()).toBe(H2E.CLOSED);
    s.h2_respond_free(respond);
    // The client's connection ended with the GOAWAY's reason (its transport closed by the
    // server's host, as h2_serverconn_poll_close asks) ...
    expect(got.CCLOSE).toMatchObject({ reason: SHUTDOWN_REASON });
    expect(c.h2_clientconn_is_ready(w.client)).toBe(0);
    // ... and its pending request failed with it: the RFC 9113 code behind the failure is
    // the server's ENHANCE_YOUR_CALM, not a code the client made up; not retryable (stream
    // 1 was processed: GOAWAY names it).
    expect(got.RESP).toMatchObject({ reason: SHUTDOWN_REASON, retryable: 0 });
    expect([H2E.CLOSED, H2E.INVALID_PEER_MESSAGE]).toContain((got.RESP as { code: number }).code);
    // A request sent afterwards fails at once, as one sent on a connection gone away.
    pushTask(ch, cexec, c.h2_clientconn_send(w.client, request(ch, 'http://mem/after')), U.LATE);
    run(w, onTask);
    expect(got.LATE).toMatchObject({ code: H2E.CLOSED, reason: ERR.REFUSED_STREAM, retryable: 1 });
    expect(w.toServer().filter((f) => f.type === FRAME.HEADERS)).toHaveLength(1); // only /pending
    expect(s.h2_serverconn_abrupt_shutdown(0, SHUTDOWN_REASON)).toBe(H2E.INVALID_ARG);
    teardown(w);
  });
});

describe('h2_clientconn_max_concurrent_streams', () => {
  it("is the server's SETTINGS_MAX_CONCURRENT_STREAMS option once the handshake is done, not the client's own", () => {
    const w = world([[H2_OPT.MAX_CONCURRENT_STREAMS, 7n]], [[H2_OPT.MAX_CONCURRENT_STREAMS, 3n]]);
    const fromServer = w.toClient().find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK))!;
    expect(settingsOf(fromServer).get(SETTING.MAX_CONCURRENT_STREAMS)).toBe(7);
    expect(w.ch.ex.h2_clientconn_max_concurrent_streams(w.client) >>> 0).toBe(7);
    expect(w.ch.ex.h2_clientconn_max_concurrent_streams(0) >>> 0).toBe(0);
    teardown(w);
  });

  it("is the server's default (100) when the server sets nothing", () => {
    const w = world();
    expect(w.ch.ex.h2_clientconn_max_concurrent_streams(w.client) >>> 0).toBe(100);
    teardown(w);
  });

  it('is 0xFFFFFFFF (unlimited) when the server announces no limit', () => {
    // A scripted server: its SETTINGS (no MAX_CONCURRENT_STREAMS) and an ACK are in the
    // client's inbox before the client runs.
    const ch = new MemHost();
    const cexec = ch.ex.h2_executor_new();
    const [cio, cud] = ch.io();
    const [pio, pud] = ch.io();
    expect(ch.ex.h2_io_free(pio)).toBe(H2E.OK); // only its end is used, as the fake server's
    wire(ch, cud, ch, pud);
    ch.ends.get(cud)!.inbox.push(concat(settings([[SETTING.INITIAL_WINDOW_SIZE, 65535]]), settingsAck()));
    const co = ch.ex.h2_clientconn_options_new();
    expect(ch.ex.h2_clientconn_options_exec(co, cexec)).toBe(H2E.OK);
    pushTask(ch, cexec, ch.ex.h2_clientconn_handshake(cio, co), PAIR_HANDSHAKE);
    let client = 0;
    pump([[ch, cexec]], (h, t, type) => {
      expect(type).toBe(TASK.CLIENTCONN);
      client = h.ex.h2_task_value(t);
      h.ex.h2_task_free(t);
    });
    expect(client).not.toBe(0);
    expect(ch.ex.h2_clientconn_max_concurrent_streams(client) >>> 0).toBe(0xffffffff);
    expect(ch.ex.h2_clientconn_free(client)).toBe(H2E.OK);
    ch.close(cud);
    ch.close(pud);
    pump([[ch, cexec]], (h, t) => h.ex.h2_task_free(t));
    expect(ch.ex.h2_executor_free(cexec)).toBe(H2E.OK);
  });

  it('a limit of 1 holds a second request back until the first is done', () => {
    const w = world([[H2_OPT.MAX_CONCURRENT_STREAMS, 1n]]);
    const { ch, sh, cexec, sexec } = w;
    expect(ch.ex.h2_clientconn_max_concurrent_streams(w.client) >>> 0).toBe(1);
    expect(ch.ex.h2_clientconn_is_ready(w.client)).toBe(1);
    pushTask(ch, cexec, ch.ex.h2_clientconn_send(w.client, request(ch, 'http://mem/1')), U.RESP);
    pushTask(ch, cexec, ch.ex.h2_clientconn_send(w.client, request(ch, 'http://mem/2')), U.RESP2);
    pushTask(sh, sexec, sh.ex.h2_serverconn_accept(w.server), U.ACCEPT);
    const accepted: [string, number][] = [];
    const statuses: Record<number, number> = {};
    const onTask = (h: MemHost, t: number, type: number, user: number) => {
      if (user === U.ACCEPT) {
        expect(type).toBe(TASK.REQUEST);
        const req = h.ex.h2_task_value(t);
        accepted.push([pseudo(h, req, H2_PSEUDO.PATH)!, h.ex.h2_request_respond(req)]);
        h.ex.h2_request_free(req);
        pushTask(h, sexec, h.ex.h2_serverconn_accept(w.server), U.ACCEPT);
      } else {
        expect(type).toBe(TASK.RESPONSE);
        const resp = h.ex.h2_task_value(t);
        statuses[user] = h.ex.h2_response_status(resp);
        h.ex.h2_response_free(resp);
      }
      h.ex.h2_task_free(t);
    };
    run(w, onTask);
    expect(accepted.map(([p]) => p)).toEqual(['/1']);
    expect(ch.ex.h2_clientconn_is_ready(w.client)).toBe(0);
    expect(sh.ex.h2_respond_send_response(accepted[0][1], sh.ex.h2_response_new(), 1)).toBe(0);
    expect(sh.ex.h2_last_result()).toBe(H2E.OK);
    run(w, onTask);
    expect(statuses[U.RESP]).toBe(200);
    expect(accepted.map(([p]) => p)).toEqual(['/1', '/2']);
    for (const [, r] of accepted) sh.ex.h2_respond_free(r);
    teardown(w);
  });
});

describe('h2_clientconn_options_free / h2_serverconn_options_free', () => {
  const kinds = [
    ['client', 'h2_clientconn_options_new', 'h2_clientconn_options_set', 'h2_clientconn_options_free'],
    ['server', 'h2_serverconn_options_new', 'h2_serverconn_options_set', 'h2_serverconn_options_free'],
  ] as const;
  for (const [side, newFn, setFn, freeFn] of kinds) {
    it(`${freeFn}: frees options never handed to a handshake; the handle is dead afterwards`, () => {
      const h = new MemHost();
      const ex = h.ex;
      const n0 = ex.h2_handle_count();
      const opts = ex[newFn]();
      expect(opts).not.toBe(0);
      expect(ex.h2_handle_count()).toBe(n0 + 1);
      expect(ex[setFn](opts, H2_OPT.MAX_CONCURRENT_STREAMS, 10n)).toBe(H2E.OK);
      expect(ex[freeFn](opts)).toBe(H2E.OK);
      expect(ex.h2_handle_count()).toBe(n0);
      // Freed: a second free, a set or a handshake with it are refused.
      expect(ex[freeFn](opts)).toBe(H2E.INVALID_ARG);
      expect(ex[setFn](opts, H2_OPT.MAX_CONCURRENT_STREAMS, 10n)).toBe(H2E.INVALID_ARG);
      const io = ex.h2_io_new();
      const handshake = side === 'client' ? ex.h2_clientconn_handshake : ex.h2_serverconn_handshake;
      expect(handshake(io, opts)).toBe(0);
      expect(ex.h2_handle_count()).toBe(n0); // the io was taken too
      // Many options made and freed leave no handle behind.
      for (let i = 0; i < 1000; i++) expect(ex[freeFn](ex[newFn]())).toBe(H2E.OK);
      expect(ex.h2_handle_count()).toBe(n0);
      expect(ex[freeFn](0)).toBe(H2E.INVALID_ARG);
    });
  }

  it("each frees only its own kind; options a handshake took are not the host's to free", () => {
    const h = new MemHost();
    const ex = h.ex;
    const co = ex.h2_clientconn_options_new();
    const so = ex.h2_serverconn_options_new();
    const n = ex.h2_handle_count();
    expect(ex.h2_clientconn_options_free(so)).toBe(H2E.INVALID_ARG);
    expect(ex.h2_serverconn_options_free(co)).toBe(H2E.INVALID_ARG);
    expect(ex.h2_handle_count()).toBe(n);
    expect(ex.h2_clientconn_options_set(co, H2_OPT.MAX_CONCURRENT_STREAMS, 5n)).toBe(H2E.OK);
    expect(ex.h2_serverconn_options_set(so, H2_OPT.MAX_CONCURRENT_STREAMS, 5n)).toBe(H2E.OK);
    expect(ex.h2_clientconn_options_free(co)).toBe(H2E.OK);
    expect(ex.h2_serverconn_options_free(so)).toBe(H2E.OK);
    expect(ex.h2_handle_count()).toBe(n - 2);

    // Handed to a handshake, they belong to the connection: freeing them is refused and
    // changes nothing.
    const exec = ex.h2_executor_new();
    for (const side of ['client', 'server'] as const) {
      const opts = side === 'client' ? ex.h2_clientconn_options_new() : ex.h2_serverconn_options_new();
      const bind = side === 'client' ? ex.h2_clientconn_options_exec : ex.h2_serverconn_options_exec;
      expect(bind(opts, exec)).toBe(H2E.OK);
      const [io] = h.io();
      const task = side === 'client' ? ex.h2_clientconn_handshake(io, opts) : ex.h2_serverconn_handshake(io, opts);
      expect(task).not.toBe(0);
      const before = ex.h2_handle_count();
      const free = side === 'client' ? ex.h2_clientconn_options_free : ex.h2_serverconn_options_free;
      expect(free(opts)).toBe(H2E.INVALID_ARG);
      expect(ex.h2_handle_count()).toBe(before);
      expect(ex.h2_task_free(task)).toBe(H2E.OK); // cancels the handshake
    }
    expect(ex.h2_executor_free(exec)).toBe(H2E.OK);
  });
});

describe('1xx responses: h2_request_on_informational / h2_respond_send_informational', () => {
  it('the client host hears 100 and 103 Early Hints with their headers, then the final response arrives', () => {
    const w = world();
    const { ch, sh, cexec, sexec } = w;
    const c = ch.ex;
    const s = sh.ex;
    const hinted = request(ch, 'http://mem/page');
    expect(c.h2_request_on_informational(hinted, 0x1234)).toBe(H2E.OK);
    const plain = request(ch, 'http://mem/plain'); // no on_informational: 1xx not passed on
    pushTask(ch, cexec, c.h2_clientconn_send(w.client, hinted), U.RESP);
    pushTask(ch, cexec, c.h2_clientconn_send(w.client, plain), U.RESP2);
    pushTask(sh, sexec, s.h2_serverconn_accept(w.server), U.ACCEPT);
    const infoAtResponse: Record<number, number> = {};
    const finals: Record<number, { status: number; version: number; body: string; cbody: number }> = {};
    const codes: Record<string, number> = {};
    const onTask = (h: MemHost, t: number, type: number, user: number) => {
      const ex = h.ex;
      if (user === U.ACCEPT) {
        expect(type).toBe(TASK.REQUEST);
        const req = ex.h2_task_value(t);
        const path = pseudo(h, req, H2_PSEUDO.PATH)!;
        const respond = ex.h2_request_respond(req);
        ex.h2_request_free(req);
        const cont = ex.h2_response_new();
        expect(ex.h2_response_set_status(cont, 100)).toBe(H2E.OK);
        expect(ex.h2_respond_send_informational(respond, cont)).toBe(H2E.OK);
        const hints = ex.h2_response_new();
        expect(ex.h2_response_set_status(hints, 103)).toBe(H2E.OK);
        addHeader(h, ex.h2_response_headers(hints), 'link', '</style.css>; rel=preload; as=style');
        expect(ex.h2_respond_send_informational(respond, hints)).toBe(H2E.OK);
        // A final status is not informational.
        const notInfo = ex.h2_response_new();
        codes[`200 as 1xx ${path}`] = ex.h2_respond_send_informational(respond, notInfo);
        const fin = ex.h2_response_new();
        addHeader(h, ex.h2_response_headers(fin), 'content-type', 'text/plain');
        const send = ex.h2_respond_send_response(respond, fin, 0);
        expect(send).not.toBe(0);
        sendData(h, send, `final ${path}`, true);
        ex.h2_send_stream_free(send);
        // After the final response, no more 1xx.
        const late = ex.h2_response_new();
        expect(ex.h2_response_set_status(late, 103)).toBe(H2E.OK);
        codes[`after final ${path}`] = ex.h2_respond_send_informational(respond, late);
        ex.h2_respond_free(respond);
        pushTask(h, sexec, ex.h2_serverconn_accept(w.server), U.ACCEPT);
      } else if (user === U.RESP || user === U.RESP2) {
        expect(type).toBe(TASK.RESPONSE);
        infoAtResponse[user] = ch.informational.length;
        const resp = ex.h2_task_value(t);
        const cbody = ex.h2_response_body(resp);
        finals[user] = {
          status: ex.h2_response_status(resp),
          version: ex.h2_response_version(resp),
          body: '',
          cbody,
        };
        ex.h2_response_free(resp);
        pushTask(h, cexec, ex.h2_body_data(cbody), user === U.RESP ? U.CBODY : U.CBODY2);
      } else if (user === U.CBODY || user === U.CBODY2) {
        const f = finals[user === U.CBODY ? U.RESP : U.RESP2];
        f.body += bodyStep(h, cexec, t, type, f.cbody, user) ?? '';
      }
      ex.h2_task_free(t);
    };
    run(w, onTask);
    // The informational import: both 1xx of the hinted request, in order, with its userdata.
    expect(ch.informational).toEqual([
      [0x1234, 100, []],
      [0x1234, 103, [['link', '</style.css>; rel=preload; as=style']]],
    ]);
    // They came before the final response, which arrives as usual.
    expect(infoAtResponse[U.RESP]).toBe(2);
    expect(finals[U.RESP]).toMatchObject({ status: 200, version: 20, body: 'final /page' });
    expect(finals[U.RESP2]).toMatchObject({ status: 200, version: 20, body: 'final /plain' });
    // On the wire: three HEADERS per stream (100, 103, 200), none with END_STREAM (DATA ends them).
    const heads = w.toClient().filter((f) => f.type === FRAME.HEADERS);
    expect(heads).toHaveLength(6);
    for (const f of heads) expect(f.flags & FLAG.END_STREAM).toBe(0);
    expect(codes['200 as 1xx /page']).toBe(H2E.INVALID_ARG);
    expect(codes['after final /page']).toBe(H2E.CLOSED);
    expect(c.h2_request_on_informational(0, 1)).toBe(H2E.INVALID_ARG);
    teardown(w);
  });
});

describe('h2_request_set_protocol (RFC 8441 extended CONNECT)', () => {
  it('a server with H2_OPT_ENABLE_CONNECT_PROTOCOL sees :protocol; the tunnel carries data both ways', () => {
    const w = world([[H2_OPT.ENABLE_CONNECT_PROTOCOL, 1n]]);
    const { ch, sh, cexec, sexec } = w;
    const c = ch.ex;
    const s = sh.ex;
    const fromServer = w.toClient().find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK))!;
    expect(settingsOf(fromServer).get(SETTING.ENABLE_CONNECT_PROTOCOL)).toBe(1);
    const req = request(ch, 'https://mem.example/chat?room=1', 'CONNECT');
    expect(pseudo(ch, req, H2_PSEUDO.PROTOCOL)).toBeNull();
    expect(ch.with('websocket', (p, n) => c.h2_request_set_protocol(req, p, n))).toBe(H2E.OK);
    expect(pseudo(ch, req, H2_PSEUDO.PROTOCOL)).toBe('websocket');
    const up = c.h2_request_send_stream(req);
    expect(up).not.toBe(0);
    pushTask(ch, cexec, c.h2_clientconn_send(w.client, req), U.RESP);
    pushTask(sh, sexec, s.h2_serverconn_accept(w.server), U.ACCEPT);
    const atServer: Record<string, string | null> = {};
    let sbody = 0;
    let down = 0;
    let cbody = 0;
    let status = 0;
    let fromClient = '';
    let fromServerData = '';
    const onTask = (h: MemHost, t: number, type: number, user: number) => {
      const ex = h.ex;
      if (user === U.ACCEPT) {
        expect(type).toBe(TASK.REQUEST);
        const sreq = ex.h2_task_value(t);
        atServer.method = pseudo(h, sreq, H2_PSEUDO.METHOD);
        atServer.scheme = pseudo(h, sreq, H2_PSEUDO.SCHEME);
        atServer.authority = pseudo(h, sreq, H2_PSEUDO.AUTHORITY);
        atServer.path = pseudo(h, sreq, H2_PSEUDO.PATH);
        atServer.protocol = pseudo(h, sreq, H2_PSEUDO.PROTOCOL);
        sbody = ex.h2_request_body(sreq);
        down = open200(h, sreq); // 200: the tunnel is open
        expect(down).not.toBe(0);
        pushTask(h, sexec, ex.h2_body_data(sbody), U.SBODY);
      } else if (user === U.SBODY) {
        const chunk = bodyStep(h, sexec, t, type, sbody, U.SBODY);
        if (chunk !== null) fromClient += chunk;
        else {
          sendData(h, down, `echo: ${fromClient}`, true);
          ex.h2_send_stream_free(down);
        }
      } else if (user === U.RESP) {
        expect(type).toBe(TASK.RESPONSE);
        ({ status, body: cbody } = responseStart(h, cexec, t, U.CBODY));
        // The tunnel is up: the client speaks first.
        sendData(h, up, 'hello through the tunnel', true);
        ex.h2_send_stream_free(up);
      } else if (user === U.CBODY) {
        fromServerData += bodyStep(h, cexec, t, type, cbody, U.CBODY) ?? '';
      }
      ex.h2_task_free(t);
    };
    run(w, onTask);
    expect(atServer).toEqual({
      method: 'CONNECT',
      scheme: 'https',
      authority: 'mem.example',
      path: '/chat?room=1',
      protocol: 'websocket',
    });
    expect(status).toBe(200);
    expect(fromClient).toBe('hello through the tunnel');
    expect(fromServerData).toBe('echo: hello through the tunnel');
    expect(c.h2_request_set_protocol(0, 0, 0)).toBe(H2E.INVALID_ARG);
    teardown(w);
  });

  it('without the server enabling it, the extended CONNECT fails and never reaches the server', () => {
    const w = world();
    const { ch, sh, cexec, sexec } = w;
    const fromServer = w.toClient().find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK))!;
    expect(settingsOf(fromServer).get(SETTING.ENABLE_CONNECT_PROTOCOL) ?? 0).toBe(0);
    const req = request(ch, 'https://mem.example/chat', 'CONNECT');
    expect(ch.with('websocket', (p, n) => ch.ex.h2_request_set_protocol(req, p, n))).toBe(H2E.OK);
    pushTask(ch, cexec, ch.ex.h2_clientconn_send(w.client, req), U.RESP);
    pushTask(sh, sexec, sh.ex.h2_serverconn_accept(w.server), U.ACCEPT);
    const got: Record<number, unknown> = {};
    run(w, (h, t, type, user) => {
      got[user] = type === TASK.ERROR ? takeError(h, t) : type;
      h.ex.h2_task_free(t);
    });
    // Refused by the client itself as malformed (RFC 8441 §3: :protocol only after the
    // server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1): no HEADERS went out.
    expect(got[U.RESP]).toMatchObject({ code: H2E.INVALID_ARG, reason: ERR.PROTOCOL_ERROR });
    expect(w.toServer().filter((f) => f.type === FRAME.HEADERS)).toHaveLength(0);
    expect(got[U.ACCEPT]).toBeUndefined(); // the server is still waiting: nothing arrived
    teardown(w);
  });
});

describe('h2_response_version', () => {
  it("is 20 (hyper's HYPER_HTTP_VERSION_2) for a received response and for one the host builds", () => {
    const w = world();
    const { ch, sh, cexec, sexec } = w;
    pushTask(ch, cexec, ch.ex.h2_clientconn_send(w.client, request(ch, 'http://mem/v')), U.RESP);
    pushTask(sh, sexec, sh.ex.h2_serverconn_accept(w.server), U.ACCEPT);
    let version = -1;
    let status = 0;
    run(w, (h, t, type, user) => {
      const ex = h.ex;
      if (user === U.ACCEPT) {
        expect(type).toBe(TASK.REQUEST);
        const req = ex.h2_task_value(t);
        const respond = ex.h2_request_respond(req);
        ex.h2_request_free(req);
        const resp = ex.h2_response_new();
        expect(ex.h2_response_set_status(resp, 204)).toBe(H2E.OK);
        expect(ex.h2_response_version(resp)).toBe(20);
        expect(ex.h2_respond_send_response(respond, resp, 1)).toBe(0);
        expect(ex.h2_last_result()).toBe(H2E.OK);
        ex.h2_respond_free(respond);
      } else {
        expect(type).toBe(TASK.RESPONSE);
        const resp = ex.h2_task_value(t);
        status = ex.h2_response_status(resp);
        version = ex.h2_response_version(resp);
        ex.h2_response_free(resp);
      }
      h.ex.h2_task_free(t);
    });
    expect(status).toBe(204);
    expect(version).toBe(20);
    expect(ch.ex.h2_response_version(ch.ex.h2_response_new())).toBe(20);
    teardown(w);
  });
});
