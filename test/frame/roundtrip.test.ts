// Every frame type encoded by our encoders and decoded back, with edge values.
import { describe, it, expect } from 'vitest';
import { T, E, S, ENC, MAX_STREAM, load, feed, bytes, toHex, type Event } from './codec.js';
import { putBytes, getBytes, type Exports } from '../support/wasm.js';

const ex = load();
const NO_PAD = -1;

/** Runs encoder `fn` on a fresh buffer, decodes what it wrote with a fresh decoder
 *  (whose limit is raised to `maxFrameSize` when that is above the default). */
function roundTrip(fn: (x: Exports, put: (b: Uint8Array) => number) => number, maxFrameSize = 16384): Event[] {
  ex.enc_reset(0x7fffffff);
  const r = fn(ex, (b) => putBytes(ex, b.length ? b : new Uint8Array(1), 'alloc'));
  expect(r).toBe(ENC.OK);
  const wire = getBytes(ex, ex.enc_ptr(), ex.enc_len());
  ex.dec_new(0, 0);
  if (maxFrameSize > 16384) expect(ex.dec_set_max_frame_size(maxFrameSize)).toBeTruthy();
  const ev = feed(ex, [wire]);
  for (const e of ev) expect(e.status, e.err?.msg).toBe(S.FRAME);
  return ev;
}

/** The field block carried by HEADERS/PUSH_PROMISE + CONTINUATION events, checked for END_HEADERS placement. */
function fieldBlock(ev: Event[]): string {
  ev.forEach((e, i) => {
    expect(e.type).toBe(i === 0 ? e.type : T.CONTINUATION);
    expect(e.endHeaders).toBe(i === ev.length - 1);
    expect(e.expecting).toBe(i === ev.length - 1 ? 0 : e.stream);
  });
  return ev.map((e) => e.payload).join('');
}

describe('round trip', () => {
  it('DATA: empty, max length, padding 0 and 255, END_STREAM, stream 2^31-1', () => {
    for (const [len, pad, end, stream] of [
      [0, NO_PAD, 1, 1],
      [0, 0, 0, MAX_STREAM],
      [0, 255, 1, 3],
      [16384, NO_PAD, 0, MAX_STREAM],
      [16384 - 256, 255, 1, 5],
      [100, 0, 0, 7],
    ]) {
      const data = bytes(len, len);
      const [e] = roundTrip((x, put) => x.enc_data(stream, put(data), len, end, pad));
      expect(e).toMatchObject({
        type: T.DATA,
        stream,
        payload: toHex(data),
        endStream: !!end,
        pad: Math.max(pad, 0),
        flow: len + (pad < 0 ? 0 : pad + 1),
      });
      expect(e.length).toBeLessThanOrEqual(16384);
    }
  });

  it('DATA up to 2^24-1 bytes when the receiver allows it', () => {
    const data = bytes(0xffffff - 1, 9);
    const [e] = roundTrip((x, put) => x.enc_data(1, put(data), data.length, 1, 0), 0xffffff);
    expect(e.length).toBe(0xffffff);
    expect(e.payload.length).toBe(data.length * 2);
    expect(e.payload.slice(-64)).toBe(toHex(data.subarray(-32)));
  });

  it('HEADERS with every flag combination, priority and padding edges', () => {
    const block = bytes(40, 3);
    for (const end of [0, 1])
      for (const pad of [NO_PAD, 0, 255])
        for (const prio of [0, 1])
          for (const split of [16384, 300, 270]) {
            const ev = roundTrip(
              (x, put) =>
                x.enc_headers(
                  MAX_STREAM,
                  put(block),
                  block.length,
                  end,
                  split,
                  pad,
                  prio,
                  prio,
                  prio ? MAX_STREAM - 1 : 0,
                  prio ? 256 : 16,
                ),
              split,
            );
            const tag = `end=${end} pad=${pad} prio=${prio} split=${split}`;
            expect(ev[0], tag).toMatchObject({
              type: T.HEADERS,
              stream: MAX_STREAM,
              endStream: !!end,
              pad: Math.max(pad, 0),
            });
            expect(ev[0].prio, tag).toEqual(prio ? { exclusive: true, dependency: MAX_STREAM - 1, weight: 256 } : null);
            expect(fieldBlock(ev), tag).toBe(toHex(block));
            for (const e of ev) expect(e.length, tag).toBeLessThanOrEqual(split);
          }
  });

  it('HEADERS split into many CONTINUATIONs at a small max frame size', () => {
    const block = bytes(1000, 5);
    for (const max of [1, 7, 999, 1000, 1001]) {
      ex.enc_reset(0x7fffffff);
      expect(ex.enc_headers(3, putBytes(ex, block, 'alloc'), 1000, 1, max, NO_PAD, 0, 0, 0, 16)).toBe(ENC.OK);
      const wire = getBytes(ex, ex.enc_ptr(), ex.enc_len());
      ex.dec_new(0, 0);
      const ev = feed(ex, [wire]);
      expect(ev).toHaveLength(Math.ceil(1000 / max));
      expect(ev[0]).toMatchObject({ type: T.HEADERS, endStream: true });
      for (const e of ev.slice(1)) expect(e.endStream).toBe(false);
      expect(fieldBlock(ev)).toBe(toHex(block));
      expect(wire.length).toBe(1000 + 9 * ev.length);
    }
  });

  it('HEADERS with an empty field block is one frame with END_HEADERS', () => {
    const ev = roundTrip((x) => x.enc_headers(1, 0, 0, 0, 16384, NO_PAD, 0, 0, 0, 16));
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ endHeaders: true, payload: '' });
  });

  it('PRIORITY: weights 1 and 256, dependency 0 and 2^31-1, exclusive or not', () => {
    for (const [dep, w, excl] of [
      [0, 1, 0],
      [MAX_STREAM, 256, 1],
      [7, 16, 1],
    ]) {
      const [e] = roundTrip((x) => x.enc_priority(9, dep, w, excl));
      expect(e).toMatchObject({ type: T.PRIORITY, stream: 9, prio: { exclusive: !!excl, dependency: dep, weight: w } });
    }
  });

  it('RST_STREAM with every error code and an unknown one', () => {
    for (const code of [...Object.values(E), 0xffffffff]) {
      const [e] = roundTrip((x) => x.enc_rst(MAX_STREAM, code));
      expect(e).toMatchObject({ type: T.RST_STREAM, stream: MAX_STREAM, code });
    }
  });

  it('SETTINGS with many entries (the list holds 16), and the ACK', () => {
    ex.settings_clear();
    const entries: [number, number][] = [];
    for (let i = 0; i < 16; i++) {
      const e: [number, number] = i % 2 ? [1, 0xffffffff - i] : [0x100 + i, i];
      entries.push(e);
      expect(ex.settings_add(e[0], e[1])).toBeTruthy();
    }
    expect(ex.settings_add(1, 1)).toBeFalsy();
    const [s] = roundTrip((x) => x.enc_settings());
    expect(s).toMatchObject({ type: T.SETTINGS, ack: false, length: 96 });
    expect(s.settings).toEqual(entries);
    const [a] = roundTrip((x) => x.enc_settings_ack());
    expect(a).toMatchObject({ type: T.SETTINGS, ack: true, length: 0, settings: [] });
  });

  it('PUSH_PROMISE: promised id 2^31-2, padding, CONTINUATION split', () => {
    const block = bytes(500, 8);
    const ev = roundTrip((x, put) => x.enc_push_promise(MAX_STREAM, MAX_STREAM - 1, put(block), 500, 300, 255));
    expect(ev[0]).toMatchObject({ type: T.PUSH_PROMISE, stream: MAX_STREAM, promised: MAX_STREAM - 1, pad: 255 });
    // 1 + 4 + 255 bytes of fields and padding leave 40 for the fragment; 460 follow in 300 + 160.
    expect(ev.map((e) => [e.payload.length / 2, e.length])).toEqual([
      [40, 300],
      [300, 300],
      [160, 160],
    ]);
    expect(fieldBlock(ev)).toBe(toHex(block));
  });

  it('PING with and without ACK, all-zero and all-one data', () => {
    for (const [v, ack] of [
      [0n, 0],
      [0xffffffffffffffffn, 1],
      [0x8000000000000001n, 0],
    ] as [bigint, number][]) {
      const [e] = roundTrip((x) => x.enc_ping(v, ack));
      expect(e).toMatchObject({ type: T.PING, ack: !!ack, ping: v });
    }
  });

  it('GOAWAY: last stream 2^31-1, any code, debug data up to the frame limit', () => {
    for (const n of [0, 1, 16384 - 8]) {
      const debug = bytes(n, 4);
      const [e] = roundTrip((x, put) => x.enc_goaway(MAX_STREAM, E.ENHANCE_YOUR_CALM, put(debug), n));
      expect(e).toMatchObject({ type: T.GOAWAY, last: MAX_STREAM, code: E.ENHANCE_YOUR_CALM, payload: toHex(debug) });
    }
  });

  it('WINDOW_UPDATE: increments 1 and 2^31-1 on the connection and on stream 2^31-1', () => {
    for (const [stream, inc] of [
      [0, 1],
      [0, MAX_STREAM],
      [MAX_STREAM, MAX_STREAM],
      [MAX_STREAM, 1],
    ]) {
      const [e] = roundTrip((x) => x.enc_window_update(stream, inc));
      expect(e).toMatchObject({ type: T.WINDOW_UPDATE, stream, increment: inc });
    }
  });

  it('CONTINUATION frames written one by one continue a HEADERS', () => {
    const ev = roundTrip((x, put) => {
      const b = put(bytes(30, 1));
      if (x.enc_headers(5, b, 10, 0, 10, NO_PAD, 0, 0, 0, 16) !== ENC.OK) return -1; // one HEADERS with END_HEADERS
      x.enc_reset(0x7fffffff); // start over: HEADERS without END_HEADERS, by hand
      if (x.enc_headers(5, b, 20, 0, 10, NO_PAD, 0, 0, 0, 16) !== ENC.OK) return -1; // HEADERS + CONTINUATION(END_HEADERS)
      const len = x.enc_len();
      // Drop END_HEADERS from that CONTINUATION so ours can follow.
      new Uint8Array(x.memory.buffer, x.enc_ptr() + len - 10 - 9 + 4, 1)[0] = 0;
      if (x.enc_continuation(5, b + 20, 5, 0) !== ENC.OK) return -1;
      return x.enc_continuation(5, b + 25, 5, 1);
    });
    expect(ev.map((e) => [e.type, e.endHeaders])).toEqual([
      [T.HEADERS, false],
      [T.CONTINUATION, false],
      [T.CONTINUATION, false],
      [T.CONTINUATION, true],
    ]);
    expect(ev.map((e) => e.payload).join('')).toBe(toHex(bytes(30, 1)));
  });
});
