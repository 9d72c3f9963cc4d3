// The decoder fed in pieces: a frame split at any byte boundary must decode exactly as it
// does in one piece, and payloads are zero-copy exactly when they lie inside one chunk.
import { describe, it, expect } from 'vitest';
import {
  T,
  F,
  S,
  load,
  feed,
  frame,
  cat,
  u32,
  setting,
  bytes,
  hex,
  splitAt,
  byteAtATime,
  type Event,
} from './codec.js';
import { putBytes, getBytes } from '../support/wasm.js';

const ex = load();

function decodeIn(chunks: Uint8Array[]): Event[] {
  ex.dec_new(0, 0);
  return feed(ex, chunks);
}

// One frame of every type, with the optional fields exercised, plus an unknown type, a
// stream error in the middle and a field block across CONTINUATIONs.
const frames: [string, Uint8Array][] = [
  [
    'SETTINGS',
    frame(T.SETTINGS, 0, 0, cat(setting(1, 4096), setting(4, 0x7fffffff), setting(5, 16384), setting(0x99, 1))),
  ],
  ['SETTINGS ACK', frame(T.SETTINGS, F.ACK, 0)],
  [
    'HEADERS padded+priority, open block',
    frame(T.HEADERS, F.PADDED | F.PRIORITY | F.END_STREAM, 1, cat(hex('03 80000000 0f'), bytes(20), hex('000000'))),
  ],
  ['CONTINUATION', frame(T.CONTINUATION, 0, 1, bytes(7, 2))],
  ['CONTINUATION END_HEADERS', frame(T.CONTINUATION, F.END_HEADERS, 1, bytes(3, 3))],
  ['DATA padded', frame(T.DATA, F.PADDED, 1, cat(hex('04'), bytes(33, 4), hex('00000000')))],
  ['DATA empty END_STREAM', frame(T.DATA, F.END_STREAM, 1)],
  ['unknown type', frame(0x20, 0xff, 1, bytes(12, 5))],
  ['PRIORITY', frame(T.PRIORITY, 0, 3, hex('00000001 ff'))],
  ['PRIORITY bad length (stream error)', frame(T.PRIORITY, 0, 3, hex('000000'))],
  ['RST_STREAM', frame(T.RST_STREAM, 0, 3, u32(8))],
  [
    'PUSH_PROMISE padded',
    frame(T.PUSH_PROMISE, F.PADDED | F.END_HEADERS, 1, cat(hex('02'), u32(2), bytes(9, 6), hex('0000'))),
  ],
  ['PING', frame(T.PING, 0, 0, hex('0102030405060708'))],
  ['PING ACK', frame(T.PING, F.ACK, 0, hex('0102030405060708'))],
  ['WINDOW_UPDATE zero (stream error)', frame(T.WINDOW_UPDATE, 0, 5, u32(0))],
  ['WINDOW_UPDATE', frame(T.WINDOW_UPDATE, 0, 0, u32(0x12345))],
  ['DATA oversized (stream error, skipped)', frame(T.DATA, 0, 7, bytes(16385, 7))],
  ['GOAWAY with debug data', frame(T.GOAWAY, 0, 0, cat(u32(5), u32(2), bytes(25, 8)))],
];
const stream = cat(...frames.map(([, f]) => f));
const reference = decodeIn([stream]);

describe('incremental decoding', () => {
  it('the reference decode of the frame stream is what we think it is', () => {
    expect(reference.map((e) => [e.status, e.type])).toEqual([
      [S.FRAME, T.SETTINGS],
      [S.FRAME, T.SETTINGS],
      [S.FRAME, T.HEADERS],
      [S.FRAME, T.CONTINUATION],
      [S.FRAME, T.CONTINUATION],
      [S.FRAME, T.DATA],
      [S.FRAME, T.DATA],
      [S.FRAME, T.PRIORITY],
      [S.STREAM_ERROR, T.PRIORITY],
      [S.FRAME, T.RST_STREAM],
      [S.FRAME, T.PUSH_PROMISE],
      [S.FRAME, T.PING],
      [S.FRAME, T.PING],
      [S.STREAM_ERROR, T.WINDOW_UPDATE],
      [S.FRAME, T.WINDOW_UPDATE],
      [S.STREAM_ERROR, T.DATA],
      [S.FRAME, T.GOAWAY],
    ]);
    expect(reference[5]).toMatchObject({ payload: Buffer.from(bytes(33, 4)).toString('hex'), pad: 4, flow: 38 });
  });

  it('every frame split at every byte boundary decodes identically', () => {
    for (const [name, f] of frames) {
      if (f.length > 1000) continue; // the oversized one is covered below
      const whole = decodeIn([f]);
      for (let i = 0; i <= f.length; i++) expect(decodeIn(splitAt(f, [i])), `${name} cut at ${i}`).toEqual(whole);
      for (let i = 1; i < f.length; i++)
        for (let j = i; j < f.length; j++) {
          expect(decodeIn(splitAt(f, [i, j])), `${name} cut at ${i},${j}`).toEqual(whole);
        }
    }
  });

  it('the whole stream split at every byte boundary decodes identically', () => {
    for (let i = 0; i <= stream.length; i += i < 400 || i > stream.length - 400 ? 1 : 97) {
      expect(decodeIn(splitAt(stream, [i])), `cut at ${i}`).toEqual(reference);
    }
  });

  it('the whole stream fed one byte at a time decodes identically', () => {
    expect(decodeIn(byteAtATime(stream))).toEqual(reference);
  });

  it('random chunkings of random frame streams decode identically, and nothing throws', () => {
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let round = 0; round < 300; round++) {
      // Random headers over random payloads: mostly errors, some frames, all must be stable.
      const parts: Uint8Array[] = [];
      for (let k = 0; k < 6; k++) {
        const len = rnd(4) === 0 ? rnd(20000) : rnd(24);
        parts.push(frame(rnd(12), rnd(256), rnd(4) === 0 ? 0x80000000 + rnd(4) : rnd(4), bytes(len, rnd(256))));
      }
      const s = cat(...parts);
      const whole = decodeIn([s]);
      const cuts = Array.from({ length: rnd(8) }, () => rnd(s.length + 1)).sort((a, b) => a - b);
      expect(decodeIn(splitAt(s, cuts)), `round ${round}`).toEqual(whole);
    }
  });
});

describe('payload pointers', () => {
  it('point into the caller chunk when the whole payload is in it, into our buffer otherwise', () => {
    const f = frame(T.DATA, 0, 1, bytes(100));
    ex.dec_new(0, 0);
    const p = putBytes(ex, f, 'alloc');
    expect(ex.dec_push(p, f.length)).toBe(f.length);
    expect(ex.dec_payload_in_chunk()).toBeTruthy();
    expect(ex.dec_payload_ptr() >>> 0).toBe(p + 9);
    expect(ex.dec_buffer_cap()).toBe(0);
    // Header in one push, payload in the next, whole: still zero copy.
    expect(ex.dec_push(p, 9)).toBe(9);
    expect(ex.dec_status()).toBe(S.NEED_MORE);
    expect(ex.dec_push(p + 9, 100)).toBe(100);
    expect(ex.dec_payload_ptr() >>> 0).toBe(p + 9);
    // Payload across pushes: assembled once in the decoder's buffer.
    expect(ex.dec_push(p, 50)).toBe(50);
    expect(ex.dec_push(p + 50, 59)).toBe(59);
    expect(ex.dec_status()).toBe(S.FRAME);
    expect(ex.dec_payload_in_chunk()).toBeFalsy();
    const q = ex.dec_payload_ptr() >>> 0;
    expect(q < p || q >= p + f.length).toBeTruthy();
    expect(getBytes(ex, q, 100)).toEqual(bytes(100));
    expect(ex.dec_buffer_cap()).toBeGreaterThanOrEqual(100);
  });

  it('push stops after each event, so several frames in one chunk come out one by one', () => {
    const two = cat(frame(T.PING, 0, 0, hex('0000000000000001')), frame(T.PING, 0, 0, hex('0000000000000002')));
    ex.dec_new(0, 0);
    const p = putBytes(ex, two, 'alloc');
    expect(ex.dec_push(p, 34)).toBe(17);
    expect(ex.dec_ping()).toBe(1n);
    expect(ex.dec_push(p + 17, 17)).toBe(17);
    expect(ex.dec_ping()).toBe(2n);
    expect(ex.dec_push(p + 34, 0)).toBe(0);
    expect(ex.dec_status()).toBe(S.NEED_MORE);
  });

  it('the payload buffer stops growing: many frames, no new memory', () => {
    ex.dec_new(0, 0);
    const f = frame(T.DATA, 0, 1, bytes(5000));
    feed(ex, splitAt(f, [4000]));
    const cap = ex.dec_buffer_cap();
    const pages = ex.memory.buffer.byteLength;
    const p = putBytes(ex, f, 'alloc');
    for (let i = 0; i < 2000; i++) {
      const cut = 1 + (i % (f.length - 1));
      ex.dec_push(p, cut);
      ex.dec_push(p + cut, f.length - cut);
      if (ex.dec_status() !== S.FRAME) throw new Error('frame expected');
    }
    expect(ex.dec_buffer_cap()).toBe(cap);
    expect(ex.memory.buffer.byteLength).toBe(pages);
  });

  it('a stream error from the header leaves the decoder mid-skip across pushes', () => {
    ex.dec_new(0, 0);
    const big = frame(T.DATA, 0, 3, new Uint8Array(0), 20000);
    const ev = feed(ex, [
      big,
      new Uint8Array(19999),
      cat(new Uint8Array(1), frame(T.PING, 0, 0, hex('0000000000000009'))),
    ]);
    expect(ev.map((e) => e.status)).toEqual([S.STREAM_ERROR, S.FRAME]);
    expect(ev[1].ping).toBe(9n);
    expect(ex.dec_buffer_cap()).toBe(0);
  });
});
