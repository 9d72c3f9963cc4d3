// Zero-copy DATA at the ABI (nghttp2's NO_COPY data source and send_data_callback), on the
// server: body_read answers H2_DATA_NO_COPY | n, and the host writes each frame through
// send_data — its prefix from the module, its data from the host's own bytes, its padding.
// The five answers: written; would block (the same frame offered again, byte for byte);
// pause (h2_executor_poll returns after the frame); stream failure (RST_STREAM
// INTERNAL_ERROR); connection failure (GOAWAY INTERNAL_ERROR). A client instance of the
// module receives the bytes, so every frame must be well-formed on the wire too.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, flushWakes, TASK, H2E } from './mem-host.js';
import { H2_DATA, H2_OPT } from '../../bindings/abi.js';
import { FRAME, FLAG, parseFrames, concat, type Frame } from '../support/frames.js';

const INTERNAL_ERROR = 0x2;
const SOURCE = 55;

interface Offer {
  prefix: number[];
  dataLen: number;
  padLen: number;
}

/**
 * A GET answered with `body` from a zero-copy source. `answer(offer, index)` decides each
 * send_data call: 'write' (written, 0), 'block' (nothing written, PENDING), 'pause' (written,
 * PAUSE), 'fail-stream' (IO_ERROR) or 'fail-connection'.
 */
interface Options {
  /** 'copy': the source copies its bytes into the module (no send_data at all). */
  mode?: 'zero-copy' | 'copy';
  padding?: number;
  trailers?: [string, string][];
  /** The client's options (its windows, say). */
  clientOpts?: [number, bigint][];
  /** The server's transport takes at most this many bytes between rounds (0: no limit). */
  writeBudget?: number;
}

function download(body: Uint8Array, answer: (offer: Offer, index: number) => string, opts: Options = {}) {
  const ch = new MemHost();
  const sh = new MemHost();
  const cexec = ch.ex.h2_executor_new();
  const sexec = sh.ex.h2_executor_new();
  const pair = connectPair(ch, cexec, sh, sexec, [], opts.clientOpts ?? []);
  // Each server poll is counted, and what send_data saw is recorded with the poll it came in.
  let polls = 0;
  const pollsWithOffers = new Map<number, number>();
  const deadlinesAfterPause: number[] = [];
  const raw = sh.ex;
  sh.ex.h2_executor_set_time(sexec, 5000n);
  Object.defineProperty(sh, 'ex', {
    value: {
      ...raw,
      memory: raw.memory,
      h2_executor_poll: (e: number) => {
        polls++;
        const t = raw.h2_executor_poll(e);
        if (t === 0 && pausedInPoll === polls) deadlinesAfterPause.push(Number(raw.h2_executor_next_deadline(e)));
        return t;
      },
    },
  });
  let pausedInPoll = -1;
  const s = sh.ex;
  const c = ch.ex;
  const offers: Offer[] = [];
  let at = 0; // bytes of `body` handed to send_data and written
  let announced = 0; // bytes announced through NO_COPY
  sh.written = [];
  sh.writeBudget = opts.writeBudget ?? 0;
  sh.budgetLeft = sh.writeBudget;
  sh.sources.set(SOURCE, (buf, len) => {
    if (opts.mode === 'copy') {
      const n = Math.min(len, body.length - at);
      new Uint8Array(sh.ex.memory.buffer, buf, n).set(body.subarray(at, at + n));
      at += n;
      return n;
    }
    if (announced === body.length) return at === body.length ? 0 : H2_DATA.NO_COPY; // nothing new yet
    const n = body.length - announced;
    announced = body.length;
    return (H2_DATA.NO_COPY | n) >>> 0;
  });
  let blockedCtx = 0;
  sh.sendData = (_ud, ctx, prefix, dataLen, padLen) => {
    const offer = { prefix: [...prefix], dataLen, padLen };
    offers.push(offer);
    pollsWithOffers.set(polls, (pollsWithOffers.get(polls) ?? 0) + 1);
    const what = answer(offer, offers.length - 1);
    if (what === 'pause') pausedInPoll = polls;
    if (what === 'block') {
      blockedCtx = s.h2_context_waker(ctx);
      return 0xffffffff; // H2_IO_PENDING
    }
    if (what === 'fail-stream') return 0xfffffffe; // H2_IO_ERROR
    if (what === 'fail-connection') return H2_DATA.FAIL_CONNECTION;
    const frame = new Uint8Array(prefix.length + dataLen + padLen);
    frame.set(prefix);
    frame.set(body.subarray(at, at + dataLen), prefix.length);
    sh.writeTo(pair.sud, frame);
    at += dataLen;
    return what === 'pause' ? H2_DATA.PAUSE : 0;
  };
  const result = {
    status: 0,
    received: new Uint8Array(0),
    error: -1,
    offers,
    pollsWithOffers,
    deadlinesAfterPause,
    trailers: null as [string, string][] | null,
    /** The frames the server wrote, parsed. */
    frames: [] as Frame[],
  };
  const chunks: Uint8Array[] = [];
  let bodyHandle = 0;
  const onTask = (h: MemHost, t: number, type: number, user: number) => {
    const ex = h.ex;
    if (h === sh && user === 4) {
      if (type === TASK.ERROR) ex.h2_error_free(ex.h2_task_value(t));
      sh.close(pair.sud);
    } else if (h === sh && type === TASK.REQUEST) {
      const sreq = ex.h2_task_value(t);
      const respond = ex.h2_request_respond(sreq);
      ex.h2_request_free(sreq);
      const resp = ex.h2_response_new();
      const src = ex.h2_body_new();
      ex.h2_body_set_userdata(src, SOURCE);
      if (opts.padding !== undefined) expect(ex.h2_body_set_padding(src, opts.padding)).toBe(H2E.OK);
      if (opts.trailers) {
        const t = ex.h2_headers_new();
        for (const [n, v] of opts.trailers)
          sh.with(n, (pn, ln) => sh.with(v, (pv, lv) => ex.h2_headers_add(t, pn, ln, pv, lv)));
        expect(ex.h2_body_set_trailers(src, t)).toBe(H2E.OK);
      }
      ex.h2_response_set_body(resp, src);
      expect(ex.h2_respond_send_response(respond, resp, 0)).toBe(0);
      expect(ex.h2_last_result()).toBe(H2E.OK);
      ex.h2_respond_free(respond);
    } else if (h === ch && user === 1 && type === TASK.RESPONSE) {
      const resp = ex.h2_task_value(t);
      result.status = ex.h2_response_status(resp);
      bodyHandle = ex.h2_response_body(resp);
      ex.h2_response_free(resp);
      pushTask(ch, cexec, ex.h2_body_data(bodyHandle), 3);
    } else if (h === ch && (user === 1 || user === 3) && type === TASK.ERROR) {
      const err = ex.h2_task_value(t);
      result.error = ex.h2_error_reason(err);
      ex.h2_error_free(err);
    } else if (h === ch && user === 3 && type === TASK.BUF) {
      chunks.push(ch.takeBuf(t));
      pushTask(ch, cexec, ex.h2_body_data(bodyHandle), 3);
    } else if (h === ch && user === 3 && type === TASK.EMPTY) {
      pushTask(ch, cexec, ex.h2_body_trailers(bodyHandle), 5);
    } else if (h === ch && user === 5) {
      result.trailers = type === TASK.TRAILERS ? ch.headers(ex.h2_task_value(t)) : [];
    }
    ex.h2_task_free(t);
  };
  pushTask(ch, cexec, c.h2_clientconn_send(pair.client, c.h2_request_new()), 1);
  pushTask(sh, sexec, s.h2_serverconn_accept(pair.server), 2);
  // As hosts do: close the transport once the server's connection is over.
  pushTask(sh, sexec, s.h2_serverconn_poll_close(pair.server), 4);
  const execs: [MemHost, number][] = [
    [ch, cexec],
    [sh, sexec],
  ];
  for (let round = 0; round < 200; round++) {
    pump(execs, onTask);
    if (!blockedCtx) break;
    // The host can write again: wake the blocked writer, as a socket's 'drain' would.
    const w = blockedCtx;
    blockedCtx = 0;
    s.h2_waker_wake(w);
    flushWakes();
  }
  result.frames = parseFrames(concat(...sh.written!)).frames;
  result.received = new Uint8Array(chunks.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of chunks) {
    result.received.set(b, off);
    off += b.length;
  }
  return result;
}

const BODY = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);

describe('zero-copy DATA: the answers of send_data', () => {
  it('written: the client gets every byte, in frames no larger than the peer allows', () => {
    const r = download(BODY, () => 'write');
    expect(r.status).toBe(200);
    expect(Buffer.from(r.received).equals(Buffer.from(BODY))).toBe(true);
    expect(r.offers.every((o) => o.dataLen <= 16384 && o.padLen === 0 && o.prefix.length === 9)).toBe(true);
  });

  it('would block: the same frame is offered again, byte for byte, and nothing is lost or doubled', () => {
    const r = download(BODY, (_o, i) => (i % 2 === 0 ? 'block' : 'write'));
    expect(Buffer.from(r.received).equals(Buffer.from(BODY))).toBe(true);
    for (let i = 0; i + 1 < r.offers.length; i += 2) expect(r.offers[i + 1]).toEqual(r.offers[i]);
  });

  it('pause: h2_executor_poll returns after the frame, next_deadline asks for a poll at once, the next poll goes on', () => {
    const r = download(BODY, () => 'pause');
    expect(Buffer.from(r.received).equals(Buffer.from(BODY))).toBe(true);
    expect(r.offers.length).toBeGreaterThan(5);
    // One frame per poll: each poll returned after the frame its host paused on ...
    expect([...r.pollsWithOffers.values()].every((n) => n === 1)).toBe(true);
    // ... and asked for the next poll at once (the time told: 5000).
    expect(r.deadlinesAfterPause.length).toBeGreaterThan(0);
    expect(r.deadlinesAfterPause.every((d) => d === 5000)).toBe(true);
    // Written without pausing, the same body goes in fewer polls.
    const w = download(BODY, () => 'write');
    expect(Math.max(...w.pollsWithOffers.values())).toBeGreaterThan(1);
  });

  it('stream failure: RST_STREAM INTERNAL_ERROR reaches the client after what was written', () => {
    const r = download(BODY, (_o, i) => (i < 2 ? 'write' : 'fail-stream'));
    expect(r.received.length).toBe(r.offers[0].dataLen + r.offers[1].dataLen);
    expect(r.error).toBe(INTERNAL_ERROR);
  });

  it('connection failure: GOAWAY INTERNAL_ERROR, the client request fails with it', () => {
    const r = download(BODY, (_o, i) => (i < 1 ? 'write' : 'fail-connection'));
    expect(r.received.length).toBeLessThanOrEqual(r.offers[0].dataLen);
    expect(r.error).toBe(INTERNAL_ERROR);
  });
});

describe('zero-copy and copied data sources: padding and trailers, checked on the wire', () => {
  /** Each DATA frame of the server's: [padded, pad length, data length, padding all zero]. */
  function dataFrames(frames: Frame[]) {
    return frames
      .filter((f) => f.type === FRAME.DATA && f.payload.length > 0)
      .map((f) => {
        const padded = (f.flags & FLAG.PADDED) !== 0;
        const pad = padded ? f.payload[0] : 0;
        const zeros = f.payload.subarray(f.payload.length - pad).every((b) => b === 0);
        return { padded, pad, data: f.payload.length - (padded ? 1 + pad : 0), zeros };
      });
  }

  for (const mode of ['zero-copy', 'copy'] as const) {
    it(`${mode}: every DATA frame carries the body's padding, and the body arrives whole`, () => {
      const r = download(BODY, () => 'write', { mode, padding: 7 });
      expect(Buffer.from(r.received).equals(Buffer.from(BODY))).toBe(true);
      const data = dataFrames(r.frames);
      expect(data.length).toBeGreaterThan(5);
      expect(data.every((d) => d.padded && d.pad === 7 && d.zeros)).toBe(true);
      expect(data.reduce((n, d) => n + d.data, 0)).toBe(BODY.length);
      if (mode === 'zero-copy') expect(r.offers.every((o) => o.padLen === 7 && o.prefix.length === 10)).toBe(true);
    });

    it(`${mode}: trailers follow the last byte, END_STREAM on them and not on DATA`, () => {
      const r = download(BODY, () => 'write', {
        mode,
        trailers: [
          ['grpc-status', '0'],
          ['x-sum', 'abc'],
        ],
      });
      expect(Buffer.from(r.received).equals(Buffer.from(BODY))).toBe(true);
      expect(r.trailers).toEqual([
        ['grpc-status', '0'],
        ['x-sum', 'abc'],
      ]);
      const onStream = r.frames.filter((f) => f.streamId === 1);
      const last = onStream[onStream.length - 1];
      expect(last.type).toBe(FRAME.HEADERS);
      expect(last.flags & FLAG.END_STREAM).toBe(FLAG.END_STREAM);
      expect(onStream.filter((f) => f.type === FRAME.DATA).every((f) => (f.flags & FLAG.END_STREAM) === 0)).toBe(true);
    });
  }
});

describe('a data source the host answers at once, under windows larger than its buffering', () => {
  it('is read to its end without waiting for an event: a flush that wrote lets it fill again', () => {
    // Before the fix the driver stopped once a round read nothing (the stream's buffer was
    // full) though its flush had just written that buffer out: nothing woke it again, and a
    // C host's download stalled until its select() timeout, second after second.
    const WIDE: [number, bigint][] = [
      [H2_OPT.INITIAL_WINDOW_SIZE, 16n << 20n],
      [H2_OPT.CONNECTION_WINDOW, 16n << 20n],
    ];
    const big = new Uint8Array(2 << 20).map((_, i) => (i * 13) & 0xff);
    for (const budget of [20_000, 50_000, 70_000, 100_000, 150_000, 300_000]) {
      const r = download(big, () => 'write', { mode: 'copy', clientOpts: WIDE, writeBudget: budget });
      expect(r.status).toBe(200);
      expect(r.received.length, `socket taking ${budget} bytes a round`).toBe(big.length);
      expect(Buffer.from(r.received).equals(Buffer.from(big))).toBe(true);
    }
  });
});

describe('the client role: an upload from a data source, zero-copy and padded', () => {
  /** POSTs `body` from a client data source (zero-copy or copied, padded by `padding`). */
  function upload(body: Uint8Array, zeroCopy: boolean, padding: number) {
    const ch = new MemHost();
    const sh = new MemHost();
    const cexec = ch.ex.h2_executor_new();
    const sexec = sh.ex.h2_executor_new();
    const pair = connectPair(ch, cexec, sh, sexec);
    const c = ch.ex;
    const s = sh.ex;
    let at = 0;
    let announced = 0;
    ch.sources.set(SOURCE, (buf, len) => {
      if (!zeroCopy) {
        const n = Math.min(len, body.length - at);
        new Uint8Array(c.memory.buffer, buf, n).set(body.subarray(at, at + n));
        at += n;
        return n;
      }
      if (announced === body.length) return 0;
      announced = body.length;
      return (H2_DATA.NO_COPY | body.length) >>> 0;
    });
    ch.sendData = (_ud, _ctx, prefix, dataLen, padLen) => {
      const frame = new Uint8Array(prefix.length + dataLen + padLen);
      frame.set(prefix);
      frame.set(body.subarray(at, at + dataLen), prefix.length);
      at += dataLen;
      ch.writeTo(pair.cud, frame);
      return 0;
    };
    ch.written = [];
    const req = c.h2_request_new();
    ch.with('POST', (p, n) => c.h2_request_set_method(req, p, n));
    const src = c.h2_body_new();
    c.h2_body_set_userdata(src, SOURCE);
    expect(c.h2_body_set_padding(src, padding)).toBe(H2E.OK);
    expect(c.h2_request_set_body(req, src)).toBe(H2E.OK);
    pushTask(ch, cexec, c.h2_clientconn_send(pair.client, req), 1);
    pushTask(sh, sexec, s.h2_serverconn_accept(pair.server), 2);
    const chunks: Uint8Array[] = [];
    let sbody = 0;
    let respond = 0;
    let status = 0;
    pump(
      [
        [ch, cexec],
        [sh, sexec],
      ],
      (h, t, type, user) => {
        const ex = h.ex;
        if (h === sh && user === 2 && type === TASK.REQUEST) {
          const sreq = ex.h2_task_value(t);
          sbody = ex.h2_request_body(sreq);
          respond = ex.h2_request_respond(sreq);
          ex.h2_request_free(sreq);
          pushTask(sh, sexec, ex.h2_body_data(sbody), 3);
        } else if (h === sh && user === 3 && type === TASK.BUF) {
          chunks.push(sh.takeBuf(t));
          pushTask(sh, sexec, ex.h2_body_data(sbody), 3);
        } else if (h === sh && user === 3) {
          ex.h2_respond_send_response(respond, ex.h2_response_new(), 1);
          ex.h2_respond_free(respond);
          ex.h2_body_free(sbody);
        } else if (h === ch && user === 1 && type === TASK.RESPONSE) {
          status = ex.h2_response_status(ex.h2_task_value(t));
        }
        ex.h2_task_free(t);
      },
    );
    // Recorded from after the handshake: whole frames from the first byte.
    const { frames } = parseFrames(concat(...ch.written));
    return { status, received: concat(...chunks), frames };
  }

  for (const zeroCopy of [true, false]) {
    it(`${zeroCopy ? 'zero-copy' : 'copied'}: every DATA frame padded on the wire, the server gets the body whole`, () => {
      const body = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);
      const r = upload(body, zeroCopy, 5);
      expect(r.status).toBe(200);
      expect(Buffer.from(r.received).equals(Buffer.from(body))).toBe(true);
      const data = r.frames.filter((f) => f.type === FRAME.DATA && f.payload.length > 0);
      expect(data.length).toBeGreaterThan(5);
      expect(data.every((f) => (f.flags & FLAG.PADDED) !== 0 && f.payload[0] === 5)).toBe(true);
      expect(data.reduce((n, f) => n + f.payload.length - 6, 0)).toBe(body.length);
    });
  }
});
