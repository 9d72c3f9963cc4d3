// The send stream at the ABI, sentence by sentence of the h2 crate's SendStream
// documentation: reserve_capacity is not additive and 0 cancels; capacity assigned to a
// stream is reserved on the connection and assigned to no other stream; lowering a
// reservation gives capacity back to the connection; sends use it up; poll_capacity is
// ready when the capacity increased, and ends (EMPTY) once the stream cannot send;
// poll_reset yields the peer's reason; a send stream freed before its end resets the stream
// (CANCEL). Server streams of one instance answer a client of another, in memory; the
// client's connection window is the RFC's 65,535 bytes so one stream can hold all of it.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, TASK, H2E } from './mem-host.js';
import { H2_OPT } from '../../bindings/abi.js';

const WINDOW = 65_535;
const CANCEL = 0x8;

interface Stream {
  send: number;
  respond: number;
  /** What the client received: its status, body bytes, and the error that ended it. */
  status: number;
  received: number;
  error: number;
}

/** A client and a server; `open(n)` sends n requests and answers each with a send stream. */
function setup(clientReads = true) {
  const ch = new MemHost();
  const sh = new MemHost();
  const cexec = ch.ex.h2_executor_new();
  const sexec = sh.ex.h2_executor_new();
  const pair = connectPair(ch, cexec, sh, sexec, [], [[H2_OPT.CONNECTION_WINDOW, BigInt(WINDOW)]]);
  const c = ch.ex;
  const s = sh.ex;
  const streams: Stream[] = [];
  const bodies = new Map<number, number>();
  const capacityTasks = new Map<number, { type: number; value: number } | null>();
  const resetTasks = new Map<number, { type: number; value: number } | null>();
  let nextUser = 1000;

  const run = () =>
    pump(
      [
        [ch, cexec],
        [sh, sexec],
      ],
      (h, t, type, user) => {
        const ex = h.ex;
        if (h === sh && type === TASK.REQUEST) {
          const sreq = ex.h2_task_value(t);
          const respond = ex.h2_request_respond(sreq);
          ex.h2_request_free(sreq);
          const st = streams.find((x) => x.respond === -user)!;
          st.respond = respond;
          st.send = ex.h2_respond_send_response(respond, ex.h2_response_new(), 0);
        } else if (h === sh && capacityTasks.has(user)) {
          capacityTasks.set(user, { type, value: ex.h2_task_value(t) });
        } else if (h === sh && resetTasks.has(user)) {
          resetTasks.set(user, { type, value: ex.h2_task_value(t) });
        } else if (h === ch && user < 500) {
          const st = streams[user];
          if (type === TASK.RESPONSE) {
            const resp = ex.h2_task_value(t);
            st.status = ex.h2_response_status(resp);
            const body = ex.h2_response_body(resp);
            ex.h2_response_free(resp);
            bodies.set(user, body);
            if (clientReads) pushTask(ch, cexec, ex.h2_body_data(body), user + 500);
          } else if (type === TASK.ERROR) {
            const err = ex.h2_task_value(t);
            st.error = ex.h2_error_reason(err);
            ex.h2_error_free(err);
          }
        } else if (h === ch && user >= 500 && user < 1000) {
          const i = user - 500;
          const body = bodies.get(i)!;
          if (type === TASK.BUF) {
            streams[i].received += ch.takeBuf(t).length;
            pushTask(ch, cexec, ex.h2_body_data(body), user);
          } else if (type === TASK.ERROR) {
            const err = ex.h2_task_value(t);
            streams[i].error = ex.h2_error_reason(err);
            ex.h2_error_free(err);
          }
        }
        ex.h2_task_free(t);
      },
    );

  return {
    c,
    s,
    run,
    streams,
    /** Sends `n` requests; after run() each has its server send stream. */
    open(n: number): Stream[] {
      for (let i = 0; i < n; i++) {
        const user = streams.length;
        const st: Stream = { send: 0, respond: -(2000 + user), status: 0, received: 0, error: 0 };
        streams.push(st);
        pushTask(ch, cexec, c.h2_clientconn_send(pair.client, c.h2_request_new()), user);
        pushTask(sh, sexec, s.h2_serverconn_accept(pair.server), 2000 + user);
      }
      run();
      return streams.slice(-n);
    },
    /** Pushes a poll_capacity task; its outcome (null while pending) by the returned getter. */
    pollCapacity(st: Stream): () => { type: number; value: number } | null {
      const user = nextUser++;
      capacityTasks.set(user, null);
      pushTask(sh, sexec, s.h2_send_stream_poll_capacity(st.send), user);
      run();
      return () => capacityTasks.get(user)!;
    },
    pollReset(st: Stream): () => { type: number; value: number } | null {
      const user = nextUser++;
      resetTasks.set(user, null);
      pushTask(sh, sexec, s.h2_send_stream_poll_reset(st.send), user);
      run();
      return () => resetTasks.get(user)!;
    },
    capacity: (st: Stream) => s.h2_send_stream_capacity(st.send),
    reserve: (st: Stream, n: number) => expect(s.h2_send_stream_reserve_capacity(st.send, n)).toBe(H2E.OK),
    sendData(st: Stream, n: number, end = false) {
      return sh.with(new Uint8Array(n).fill(0x61), (p, len) =>
        s.h2_send_stream_send_data(st.send, p, len, end ? 1 : 0),
      );
    },
    /** The client lets go of a response body unread (RST_STREAM CANCEL). */
    dropBody(st: Stream) {
      const i = streams.indexOf(st);
      c.h2_body_free(bodies.get(i)!);
      bodies.delete(i);
    },
  };
}

describe('SendStream capacity (h2 semantics)', () => {
  it('capacity assigned to a stream is reserved on the connection: no other stream is assigned it', () => {
    const t = setup();
    const [a, b] = t.open(2);
    t.reserve(a, WINDOW);
    t.reserve(b, WINDOW);
    t.run();
    expect([t.capacity(a), t.capacity(b)]).toEqual([WINDOW, 0]);
  });

  it('lowering a reservation, or 0, gives capacity back to the connection, where the next stream waiting gets it', () => {
    const t = setup();
    const [a, b] = t.open(2);
    t.reserve(a, WINDOW);
    t.reserve(b, WINDOW);
    const bReady = t.pollCapacity(b);
    expect(bReady()).toBeNull();
    t.reserve(a, 5000); // lowered: 60,535 back to the connection
    t.run();
    expect(t.capacity(a)).toBe(5000);
    expect(bReady()).toEqual({ type: TASK.CAPACITY, value: WINDOW - 5000 });
    t.reserve(a, 0); // cancelled: the rest back too
    t.run();
    expect(t.capacity(a)).toBe(0);
    expect(t.capacity(b)).toBe(WINDOW);
  });

  it('reserve_capacity is not additive: each call replaces the last', () => {
    const t = setup();
    const [a] = t.open(1);
    t.reserve(a, 100);
    t.reserve(a, 100);
    expect(t.capacity(a)).toBe(100);
    t.reserve(a, 40);
    expect(t.capacity(a)).toBe(40);
    t.reserve(a, 300);
    expect(t.capacity(a)).toBe(300);
  });

  it('sending uses capacity up', () => {
    const t = setup();
    const [a] = t.open(1);
    t.reserve(a, 10_000);
    expect(t.sendData(a, 4000)).toBe(H2E.OK);
    expect(t.capacity(a)).toBe(6000);
    expect(t.sendData(a, 6000)).toBe(H2E.OK);
    expect(t.capacity(a)).toBe(0);
    t.run();
    expect(t.streams[0].received).toBe(10_000);
  });

  it('poll_capacity is ready when the capacity increased, not merely while some is left', () => {
    const t = setup();
    const [a] = t.open(1);
    t.reserve(a, 100);
    expect(t.pollCapacity(a)()).toEqual({ type: TASK.CAPACITY, value: 100 });
    const again = t.pollCapacity(a); // nothing new since: pending, though 100 are there
    expect(again()).toBeNull();
    expect(t.capacity(a)).toBe(100);
    t.reserve(a, 250); // more assigned: ready with all of it
    t.run();
    expect(again()).toEqual({ type: TASK.CAPACITY, value: 250 });
  });

  it('poll_capacity ends (EMPTY) once the stream cannot send', () => {
    const t = setup();
    const [a] = t.open(1);
    expect(t.sendData(a, 10, true)).toBe(H2E.OK);
    t.run();
    expect(t.pollCapacity(a)()).toEqual({ type: TASK.EMPTY, value: 0 });
  });
});

describe('SendStream reset', () => {
  it("poll_reset yields the peer's reason", () => {
    const t = setup(false);
    const [a] = t.open(1);
    const reset = t.pollReset(a);
    expect(reset()).toBeNull();
    t.dropBody(a); // the client resets the stream (CANCEL)
    t.run();
    expect(reset()).toEqual({ type: TASK.RESET, value: CANCEL });
  });

  it('a send stream freed before its end resets the stream with CANCEL', () => {
    const t = setup();
    const [a] = t.open(1);
    expect(t.sendData(a, 100)).toBe(H2E.OK);
    t.run();
    expect(t.s.h2_send_stream_free(a.send)).toBe(H2E.OK);
    t.run();
    expect(t.streams[0].received).toBe(100);
    expect(t.streams[0].error).toBe(CANCEL);
  });
});

describe('SendStream exclusive reservations cannot deadlock', () => {
  it('eight streams each reserving three windows finish, each sending only what it was granted', () => {
    const t = setup();
    const streams = t.open(8);
    const TOTAL = 3 * WINDOW;
    const sent = new Map<Stream, number>(streams.map((st) => [st, 0]));
    for (let round = 0; round < 1000 && [...sent.values()].some((n) => n < TOTAL); round++) {
      for (const st of streams) {
        const left = TOTAL - sent.get(st)!;
        if (left === 0) continue;
        t.reserve(st, left);
        const granted = t.capacity(st);
        if (granted === 0) continue;
        const n = Math.min(granted, left);
        expect(t.sendData(st, n, n === left)).toBe(H2E.OK);
        sent.set(st, sent.get(st)! + n);
      }
      t.run();
    }
    expect(streams.map((st) => st.received)).toEqual(streams.map(() => TOTAL));
  });
});

describe('SendStream: data waiting goes before an idle reservation', () => {
  it("a stream's buffered data is sent though another stream holds the whole window unused", () => {
    const t = setup();
    const [a, b] = t.open(2);
    t.reserve(a, WINDOW); // a holds all of it and sends nothing (its host waits for b, say)
    expect(t.sendData(b, 1000, true)).toBe(H2E.OK); // b never reserved: its data just waits
    t.run();
    expect(t.streams[1].received).toBe(1000);
  });
});
