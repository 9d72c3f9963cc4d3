// RFC 9113 rules for the frame layer, one test (or a few) per rule, named after the section.
//
// | RFC 9113 section                      | tests (describe › it)                                        |
// |---------------------------------------|--------------------------------------------------------------|
// | §4.1 Frame Format                     | §4.1 › length/type/flags/stream, reserved bit, unknown flags, unknown types |
// | §4.2 Frame Size                       | §4.2 › rejected from the header alone (stream / connection), limit settable |
// | §4.3 Field Section Compression        | §4.3 › contiguous field block; interleaving is PROTOCOL_ERROR |
// | §6.1 DATA                             | §6.1 › stream 0, padding, flow-controlled length             |
// | §6.2 HEADERS                          | §6.2 › stream 0, short PADDED/PRIORITY, padding, self-dependency |
// | §6.3 PRIORITY                         | §6.3 › stream 0, length != 5 (stream error), self-dependency |
// | §6.4 RST_STREAM                       | §6.4 › stream 0, length != 4, unknown codes                  |
// | §6.5 SETTINGS (+ RFC 8441, RFC 9218)  | §6.5 › stream, ACK with payload, %6, every value bound, unknown ids |
// | §6.6 PUSH_PROMISE (+ §8.4)            | §6.6 › stream 0, short, padding, promised id, server receives |
// | §6.7 PING                             | §6.7 › stream, length != 8, ACK                              |
// | §6.8 GOAWAY                           | §6.8 › stream, length < 8, fields and debug data             |
// | §6.9 WINDOW_UPDATE                    | §6.9 › length != 4, zero increment (stream / connection)     |
// | §6.10 CONTINUATION                    | §6.10 › stream 0, unexpected, other stream, after END_HEADERS |
// | §5.4 error handling                   | §5.4 › connection error stops input; stream error continues  |
//
// Round trips are in roundtrip.test.ts, chunking in incremental.test.ts, exact wire bytes
// of the encoders in wire.test.ts.
import { describe, it, expect } from 'vitest';
import {
  T,
  F,
  E,
  S,
  ROLE,
  MAX_STREAM,
  frame,
  u32,
  cat,
  setting,
  bytes,
  hex,
  toHex,
  decoder,
  decode,
  decodeOne,
  feed,
  type Event,
} from './codec.js';
import { putBytes } from '../support/wasm.js';

const PING = frame(T.PING, 0, 0, '0102030405060708');

function connErr(ev: Event, code: number) {
  expect(ev.status).toBe(S.CONNECTION_ERROR);
  expect(ev.err).toMatchObject({ conn: true, code, stream: 0 });
  expect(ev.err!.msg.length).toBeGreaterThan(0);
}

function streamErr(ev: Event, code: number, stream: number) {
  expect(ev.status).toBe(S.STREAM_ERROR);
  expect(ev.err).toMatchObject({ conn: false, code, stream });
  expect(ev.err!.msg.length).toBeGreaterThan(0);
}

/** Decodes `bad` followed by a PING: for a connection error only the error comes back. */
function expectConnError(bad: Uint8Array, code: number, role: number = ROLE.ANY) {
  const ev = decode(cat(bad, PING), role);
  expect(ev).toHaveLength(1);
  connErr(ev[0], code);
}

/** For a stream error the error comes back, then the PING (decoding went on). */
function expectStreamError(bad: Uint8Array, code: number, stream: number) {
  const ev = decode(cat(bad, PING));
  expect(ev).toHaveLength(2);
  streamErr(ev[0], code, stream);
  expect(ev[1].status).toBe(S.FRAME);
  expect(ev[1].type).toBe(T.PING);
  expect(ev[1].ping).toBe(0x0102030405060708n);
}

describe('§4.1 Frame Format', () => {
  it('reads the 24-bit length, type, flags and 31-bit stream id', () => {
    const ex = decoder();
    expect(ex.dec_set_max_frame_size(0xffffff)).toBeTruthy();
    const payload = bytes(0x012345);
    const ev = feed(ex, [frame(T.DATA, F.END_STREAM, 0x01020304, payload)]);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({
      status: S.FRAME,
      type: T.DATA,
      flags: F.END_STREAM,
      stream: 0x01020304,
      length: 0x012345,
      endStream: true,
    });
    expect(ev[0].payload).toBe(toHex(payload));
  });

  it('ignores the reserved bit of the stream identifier on receipt', () => {
    const ev = decodeOne(frame(T.DATA, 0, 0x80000003, 'aa'));
    expect(ev.stream).toBe(3);
    // Reserved bit alone means stream 0: DATA on stream 0 is then an error, as it should be.
    connErr(decodeOne(frame(T.DATA, 0, 0x80000000, 'aa')), E.PROTOCOL_ERROR);
  });

  it('ignores flags a type does not define, and clears them', () => {
    // 0xf6 on DATA: neither END_STREAM (0x1) nor PADDED (0x8). The payload must not be
    // read as padded, so its first byte stays data.
    const ev = decodeOne(frame(T.DATA, 0xf6, 1, 'ff0102'));
    expect(ev).toMatchObject({
      status: S.FRAME,
      flags: 0,
      rawFlags: 0xf6,
      payload: 'ff0102',
      pad: 0,
      endStream: false,
    });
    // PING with every flag but ACK set is not an ACK.
    const ping = decodeOne(frame(T.PING, 0xfe, 0, '0000000000000000'));
    expect(ping).toMatchObject({ status: S.FRAME, flags: 0, ack: false });
    // RST_STREAM defines no flags at all.
    expect(decodeOne(frame(T.RST_STREAM, 0xff, 1, u32(8)))).toMatchObject({
      status: S.FRAME,
      flags: 0,
      rawFlags: 0xff,
      code: E.CANCEL,
    });
    // HEADERS keeps its four flags and drops the rest.
    const h = decodeOne(frame(T.HEADERS, 0xff & ~F.PADDED & ~F.PRIORITY, 1, '8286'));
    expect(h).toMatchObject({ flags: F.END_STREAM | F.END_HEADERS, payload: '8286', prio: null });
  });

  it('skips frames of unknown type whole, without buffering them (§5.5)', () => {
    const ex = decoder();
    const unknown = frame(0x0a, 0xff, 1, bytes(300));
    const huge = frame(0xfa, 0, 0, new Uint8Array(0), 0xffffff); // far over maxFrameSize
    const ev = feed(ex, [
      cat(unknown, PING.subarray(0, 4)),
      cat(PING.subarray(4), huge.subarray(0, 9)),
      new Uint8Array(0xffffff),
      PING,
    ]);
    expect(ev.map((e) => [e.status, e.type])).toEqual([
      [S.FRAME, T.PING],
      [S.FRAME, T.PING],
    ]);
    expect(ex.dec_ignored()).toBe(2);
    expect(ex.dec_buffer_cap()).toBe(0);
  });
});

describe('§4.2 Frame Size', () => {
  it('accepts a frame of exactly SETTINGS_MAX_FRAME_SIZE (16384 by default)', () => {
    const ev = decodeOne(frame(T.DATA, 0, 1, bytes(16384)));
    expect(ev).toMatchObject({ status: S.FRAME, length: 16384 });
  });

  it('rejects an oversized DATA from its 9-byte header alone: stream FRAME_SIZE_ERROR, payload skipped unbuffered', () => {
    const ex = decoder();
    const big = frame(T.DATA, F.PADDED, 5, bytes(16385));
    // Only the header: the error is immediate.
    const ev = feed(ex, [big.subarray(0, 9)]);
    expect(ev).toHaveLength(1);
    streamErr(ev[0], E.FRAME_SIZE_ERROR, 5);
    // The connection layer can still charge the connection window (§6.9).
    expect(ev[0]).toMatchObject({ type: T.DATA, stream: 5, length: 16385, flow: 16385, ready: false });
    // The payload is discarded in pieces, never buffered; the next frame decodes.
    const rest = feed(ex, [big.subarray(9, 5000), cat(big.subarray(5000), PING)]);
    expect(rest.map((e) => e.type)).toEqual([T.PING]);
    expect(ex.dec_buffer_cap()).toBe(0);
  });

  it('makes a size error a connection error for HEADERS, PUSH_PROMISE, CONTINUATION, SETTINGS and stream 0', () => {
    const cases: [number, number][] = [
      [T.HEADERS, 1],
      [T.PUSH_PROMISE, 1],
      [T.SETTINGS, 0],
      [T.PING, 0],
      [T.WINDOW_UPDATE, 0],
      [T.GOAWAY, 0],
    ];
    for (const [type, stream] of cases) {
      const ex = decoder();
      const ev = feed(ex, [frame(type, 0, stream, new Uint8Array(0), 16385)]); // header only
      expect(ev, `type ${type}`).toHaveLength(1);
      connErr(ev[0], E.FRAME_SIZE_ERROR);
      expect(ex.dec_buffer_cap()).toBe(0);
    }
    // CONTINUATION: inside an open field block.
    const ex = decoder();
    const ev = feed(ex, [cat(frame(T.HEADERS, 0, 3, '82'), frame(T.CONTINUATION, 0, 3, new Uint8Array(0), 16385))]);
    expect(ev[0].status).toBe(S.FRAME);
    connErr(ev[1], E.FRAME_SIZE_ERROR);
  });

  it('uses the SETTINGS_MAX_FRAME_SIZE it is given, within [2^14, 2^24-1]', () => {
    const ex = decoder();
    expect(ex.dec_set_max_frame_size(16383)).toBeFalsy();
    expect(ex.dec_set_max_frame_size(0x1000000)).toBeFalsy();
    expect(ex.dec_set_max_frame_size(20000)).toBeTruthy();
    const ev = feed(ex, [frame(T.DATA, 0, 1, bytes(20000)), frame(T.DATA, 0, 1, new Uint8Array(0), 20001)]);
    expect(ev[0]).toMatchObject({ status: S.FRAME, length: 20000 });
    streamErr(ev[1], E.FRAME_SIZE_ERROR, 1);
  });
});

describe('§4.3 Field Section Compression and Decompression', () => {
  const open = frame(T.HEADERS, 0, 1, '82');

  it('tracks an open field block until CONTINUATION with END_HEADERS', () => {
    const ev = decode(
      cat(open, frame(T.CONTINUATION, 0, 1, '86'), frame(T.CONTINUATION, F.END_HEADERS, 1, '84'), PING),
    );
    expect(ev.map((e) => [e.type, e.expecting, e.payload])).toEqual([
      [T.HEADERS, 1, '82'],
      [T.CONTINUATION, 1, '86'],
      [T.CONTINUATION, 0, '84'],
      [T.PING, 0, '0102030405060708'],
    ]);
  });

  it('treats any other frame inside a field block as a connection PROTOCOL_ERROR', () => {
    for (const other of [
      frame(T.DATA, 0, 1, 'aa'),
      PING,
      frame(T.PRIORITY, 0, 1, '0000000310'),
      frame(T.HEADERS, F.END_HEADERS, 3, '82'),
      frame(T.SETTINGS, F.ACK, 0),
      frame(T.WINDOW_UPDATE, 0, 0, u32(1)),
      frame(0x0b, 0, 1, 'aa') /* unknown type too (§6.10) */,
    ]) {
      const ev = decode(cat(open, other));
      expect(ev).toHaveLength(2);
      connErr(ev[1], E.PROTOCOL_ERROR);
    }
  });
});

describe('§6.1 DATA', () => {
  it('DATA on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.DATA, 0, 0, 'aa'), E.PROTOCOL_ERROR);
  });

  it('strips padding; the flow-controlled length is the whole payload', () => {
    const ev = decodeOne(frame(T.DATA, F.PADDED | F.END_STREAM, 1, '03 aabb 000000'));
    expect(ev).toMatchObject({ status: S.FRAME, payload: 'aabb', pad: 3, length: 6, flow: 6, endStream: true });
    // Pad length = payload length - 1: no data at all, still valid.
    expect(decodeOne(frame(T.DATA, F.PADDED, 1, '02 0000'))).toMatchObject({
      status: S.FRAME,
      payload: '',
      pad: 2,
      flow: 3,
    });
  });

  it('padding length >= payload length is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.DATA, F.PADDED, 1, '03 0000'), E.PROTOCOL_ERROR); // pad 3 = length
    expectConnError(frame(T.DATA, F.PADDED, 1, 'ff 00'), E.PROTOCOL_ERROR);
  });

  it('PADDED with no Pad Length byte is a connection FRAME_SIZE_ERROR (§4.2: too small)', () => {
    expectConnError(frame(T.DATA, F.PADDED, 1), E.FRAME_SIZE_ERROR);
  });
});

describe('§6.2 HEADERS', () => {
  it('HEADERS on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.HEADERS, F.END_HEADERS, 0, '82'), E.PROTOCOL_ERROR);
  });

  it('reads padding and priority fields around the fragment', () => {
    const ev = decodeOne(
      frame(T.HEADERS, F.PADDED | F.PRIORITY | F.END_HEADERS | F.END_STREAM, 3, '02 80000001 ff 8286 0000'),
    );
    expect(ev).toMatchObject({
      status: S.FRAME,
      payload: '8286',
      pad: 2,
      endStream: true,
      endHeaders: true,
      prio: { exclusive: true, dependency: 1, weight: 256 },
      expecting: 0,
    });
  });

  it('PADDED+PRIORITY shorter than their 6 bytes of fields is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.HEADERS, F.PADDED | F.PRIORITY | F.END_HEADERS, 1, '00 00000000'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.HEADERS, F.PRIORITY | F.END_HEADERS, 1, '00000000'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.HEADERS, F.PADDED | F.END_HEADERS, 1), E.FRAME_SIZE_ERROR);
  });

  it('padding longer than what follows the fields is a connection PROTOCOL_ERROR', () => {
    // 1 + 5 + 2 bytes of payload: 2 is the most padding that fits; 3 does not.
    expect(decodeOne(frame(T.HEADERS, F.PADDED | F.PRIORITY | F.END_HEADERS, 1, '02 00000000 10 0000'))).toMatchObject({
      status: S.FRAME,
      payload: '',
    });
    expectConnError(
      frame(T.HEADERS, F.PADDED | F.PRIORITY | F.END_HEADERS, 1, '03 00000000 10 0000'),
      E.PROTOCOL_ERROR,
    );
    expectConnError(frame(T.HEADERS, F.PADDED | F.END_HEADERS, 1, '05 82'), E.PROTOCOL_ERROR);
  });

  it('§5.3.1 a HEADERS priority on its own stream is a stream PROTOCOL_ERROR that still delivers the field block', () => {
    // The block must still reach HPACK, and the CONTINUATION that follows is still expected.
    const ev = decode(
      cat(frame(T.HEADERS, F.PRIORITY, 5, '00000005 10 8286'), frame(T.CONTINUATION, F.END_HEADERS, 5, '84'), PING),
    );
    expect(ev).toHaveLength(3);
    streamErr(ev[0], E.PROTOCOL_ERROR, 5);
    expect(ev[0]).toMatchObject({ ready: true, type: T.HEADERS, payload: '8286', expecting: 5 });
    expect(ev[1]).toMatchObject({ status: S.FRAME, type: T.CONTINUATION, payload: '84', expecting: 0 });
    expect(ev[2].type).toBe(T.PING);
  });
});

describe('§6.3 PRIORITY', () => {
  it('PRIORITY on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.PRIORITY, 0, 0, '0000000110'), E.PROTOCOL_ERROR);
  });

  it('reads exclusive, dependency and weight', () => {
    expect(decodeOne(frame(T.PRIORITY, 0, 7, 'ffffffff 00'))).toMatchObject({
      status: S.FRAME,
      prio: { exclusive: true, dependency: MAX_STREAM, weight: 1 },
    });
  });

  it('a length other than 5 is a stream FRAME_SIZE_ERROR, and decoding continues', () => {
    expectStreamError(frame(T.PRIORITY, 0, 9, '00000001'), E.FRAME_SIZE_ERROR, 9);
    expectStreamError(frame(T.PRIORITY, 0, 9, '000000011000'), E.FRAME_SIZE_ERROR, 9);
    expectStreamError(frame(T.PRIORITY, 0, 9), E.FRAME_SIZE_ERROR, 9);
  });

  it('§5.3.1 a stream depending on itself is a stream PROTOCOL_ERROR', () => {
    expectStreamError(frame(T.PRIORITY, 0, 9, '80000009 10'), E.PROTOCOL_ERROR, 9);
  });
});

describe('§6.4 RST_STREAM', () => {
  it('RST_STREAM on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.RST_STREAM, 0, 0, u32(0)), E.PROTOCOL_ERROR);
  });

  it('a length other than 4 is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.RST_STREAM, 0, 1, '000000'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.RST_STREAM, 0, 1, '0000000800'), E.FRAME_SIZE_ERROR);
  });

  it('passes any error code through, unknown ones included (§7)', () => {
    expect(decodeOne(frame(T.RST_STREAM, 0, 1, u32(0xdeadbeef)))).toMatchObject({ status: S.FRAME, code: 0xdeadbeef });
  });
});

describe('§6.5 SETTINGS', () => {
  const settings = (...entries: Uint8Array[]) => frame(T.SETTINGS, 0, 0, cat(...entries));

  it('SETTINGS on a stream is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.SETTINGS, 0, 1), E.PROTOCOL_ERROR);
    expectConnError(frame(T.SETTINGS, F.ACK, 1), E.PROTOCOL_ERROR);
  });

  it('an ACK with a payload is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.SETTINGS, F.ACK, 0, setting(1, 0)), E.FRAME_SIZE_ERROR);
    expect(decodeOne(frame(T.SETTINGS, F.ACK, 0))).toMatchObject({ status: S.FRAME, ack: true, settings: [] });
  });

  it('a length that is not a multiple of 6 is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.SETTINGS, 0, 0, '00010000'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.SETTINGS, 0, 0, cat(setting(1, 0), hex('00'))), E.FRAME_SIZE_ERROR);
  });

  it('SETTINGS_ENABLE_PUSH other than 0 or 1 is a connection PROTOCOL_ERROR; 1 from a server too (§6.5.2)', () => {
    expectConnError(settings(setting(2, 2)), E.PROTOCOL_ERROR);
    expectConnError(settings(setting(2, 1)), E.PROTOCOL_ERROR, ROLE.CLIENT);
    expect(decodeOne(settings(setting(2, 1)), ROLE.SERVER).status).toBe(S.FRAME);
    expect(decodeOne(settings(setting(2, 0)), ROLE.CLIENT).status).toBe(S.FRAME);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a connection FLOW_CONTROL_ERROR', () => {
    expectConnError(settings(setting(4, 0x80000000)), E.FLOW_CONTROL_ERROR);
    expect(decodeOne(settings(setting(4, 0x7fffffff))).settings).toEqual([[4, 0x7fffffff]]);
  });

  it('SETTINGS_MAX_FRAME_SIZE outside [2^14, 2^24-1] is a connection PROTOCOL_ERROR', () => {
    expectConnError(settings(setting(5, 16383)), E.PROTOCOL_ERROR);
    expectConnError(settings(setting(5, 0x1000000)), E.PROTOCOL_ERROR);
    expect(decodeOne(settings(setting(5, 16384), setting(5, 0xffffff))).settings).toEqual([
      [5, 16384],
      [5, 0xffffff],
    ]);
  });

  it('RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL and RFC 9218 SETTINGS_NO_RFC7540_PRIORITIES must be 0 or 1', () => {
    expectConnError(settings(setting(8, 2)), E.PROTOCOL_ERROR);
    expectConnError(settings(setting(9, 2)), E.PROTOCOL_ERROR);
    expect(decodeOne(settings(setting(8, 1), setting(9, 1))).settings).toEqual([
      [8, 1],
      [9, 1],
    ]);
  });

  it('a bad value anywhere in the frame fails the whole frame', () => {
    expectConnError(settings(setting(1, 4096), setting(3, 100), setting(4, 0xffffffff)), E.FLOW_CONTROL_ERROR);
  });

  it('passes unknown identifiers through (to be ignored) and the unbounded ones with any value, in order', () => {
    const ev = decodeOne(
      settings(
        setting(1, 0xffffffff),
        setting(0xffff, 7),
        setting(3, 0),
        setting(6, 0xffffffff),
        setting(0, 1),
        setting(7, 9),
      ),
    );
    expect(ev).toMatchObject({ status: S.FRAME, ack: false });
    expect(ev.settings).toEqual([
      [1, 0xffffffff],
      [0xffff, 7],
      [3, 0],
      [6, 0xffffffff],
      [0, 1],
      [7, 9],
    ]);
  });
});

describe('§6.6 PUSH_PROMISE', () => {
  it('PUSH_PROMISE on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.PUSH_PROMISE, F.END_HEADERS, 0, cat(u32(2), hex('82'))), E.PROTOCOL_ERROR);
  });

  it('reads the promised id (reserved bit dropped) and strips padding', () => {
    const ev = decodeOne(
      frame(T.PUSH_PROMISE, F.PADDED | F.END_HEADERS, 1, cat(hex('01'), u32(0x80000004), hex('8286 00'))),
    );
    expect(ev).toMatchObject({ status: S.FRAME, promised: 4, payload: '8286', pad: 1, expecting: 0 });
    const open = decodeOne(frame(T.PUSH_PROMISE, 0, 1, cat(u32(2), hex('82'))));
    expect(open.expecting).toBe(1);
  });

  it('too short for the promised id (and Pad Length) is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.PUSH_PROMISE, F.END_HEADERS, 1, '000002'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.PUSH_PROMISE, F.PADDED | F.END_HEADERS, 1, '00000002'), E.FRAME_SIZE_ERROR);
  });

  it('padding longer than what follows the promised id is a connection PROTOCOL_ERROR', () => {
    expectConnError(
      frame(T.PUSH_PROMISE, F.PADDED | F.END_HEADERS, 1, cat(hex('02'), u32(2), hex('00'))),
      E.PROTOCOL_ERROR,
    );
  });

  it('§5.1.1 a promised id of 0 or an odd one is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.PUSH_PROMISE, F.END_HEADERS, 1, u32(0)), E.PROTOCOL_ERROR);
    expectConnError(frame(T.PUSH_PROMISE, F.END_HEADERS, 1, u32(3)), E.PROTOCOL_ERROR);
  });

  it('§8.4 a server receiving PUSH_PROMISE is a connection PROTOCOL_ERROR, from the header', () => {
    const ex = decoder(ROLE.SERVER);
    const ev = feed(ex, [frame(T.PUSH_PROMISE, F.END_HEADERS, 1, cat(u32(2), hex('82'))).subarray(0, 9)]);
    connErr(ev[0], E.PROTOCOL_ERROR);
  });
});

describe('§6.7 PING', () => {
  it('PING on a stream is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.PING, 0, 1, '0000000000000000'), E.PROTOCOL_ERROR);
  });

  it('a length other than 8 is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.PING, 0, 0, '00000000000000'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.PING, F.ACK, 0, '000000000000000000'), E.FRAME_SIZE_ERROR);
  });

  it('exposes the 8 bytes and the ACK flag', () => {
    expect(decodeOne(frame(T.PING, F.ACK, 0, 'fedcba9876543210'))).toMatchObject({
      status: S.FRAME,
      ack: true,
      ping: 0xfedcba9876543210n,
      payload: 'fedcba9876543210',
    });
  });
});

describe('§6.8 GOAWAY', () => {
  it('GOAWAY on a stream is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.GOAWAY, 0, 1, '0000000000000000'), E.PROTOCOL_ERROR);
  });

  it('shorter than 8 bytes is a connection FRAME_SIZE_ERROR', () => {
    expectConnError(frame(T.GOAWAY, 0, 0, '00000000000000'), E.FRAME_SIZE_ERROR);
  });

  it('reads last stream id (reserved bit dropped), error code and debug data', () => {
    expect(decodeOne(frame(T.GOAWAY, 0, 0, cat(u32(0xffffffff), u32(0xd), hex('6869'))))).toMatchObject({
      status: S.FRAME,
      last: MAX_STREAM,
      code: E.HTTP_1_1_REQUIRED,
      payload: '6869',
    });
  });
});

describe('§6.9 WINDOW_UPDATE', () => {
  it('a length other than 4 is a connection FRAME_SIZE_ERROR, on a stream too', () => {
    expectConnError(frame(T.WINDOW_UPDATE, 0, 1, '000001'), E.FRAME_SIZE_ERROR);
    expectConnError(frame(T.WINDOW_UPDATE, 0, 0, '0000000100'), E.FRAME_SIZE_ERROR);
  });

  it('an increment of 0 on a stream is a stream PROTOCOL_ERROR, and decoding continues', () => {
    expectStreamError(frame(T.WINDOW_UPDATE, 0, 3, u32(0)), E.PROTOCOL_ERROR, 3);
    // The reserved bit is dropped first: 0x80000000 is an increment of 0.
    expectStreamError(frame(T.WINDOW_UPDATE, 0, 3, u32(0x80000000)), E.PROTOCOL_ERROR, 3);
  });

  it('an increment of 0 on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.WINDOW_UPDATE, 0, 0, u32(0)), E.PROTOCOL_ERROR);
  });

  it('reads increments up to 2^31-1, reserved bit dropped', () => {
    expect(decodeOne(frame(T.WINDOW_UPDATE, 0, 0, u32(0xffffffff)))).toMatchObject({
      status: S.FRAME,
      increment: MAX_STREAM,
      stream: 0,
    });
    expect(decodeOne(frame(T.WINDOW_UPDATE, 0, 7, u32(1)))).toMatchObject({ status: S.FRAME, increment: 1, stream: 7 });
  });
});

describe('§6.10 CONTINUATION', () => {
  it('CONTINUATION on stream 0 is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.CONTINUATION, F.END_HEADERS, 0, '82'), E.PROTOCOL_ERROR);
  });

  it('a CONTINUATION nobody asked for is a connection PROTOCOL_ERROR', () => {
    expectConnError(frame(T.CONTINUATION, F.END_HEADERS, 1, '82'), E.PROTOCOL_ERROR);
    // …including right after a block that END_HEADERS closed.
    const ev = decode(cat(frame(T.HEADERS, F.END_HEADERS, 1, '82'), frame(T.CONTINUATION, 0, 1, '86')));
    expect(ev[0].status).toBe(S.FRAME);
    connErr(ev[1], E.PROTOCOL_ERROR);
  });

  it('a CONTINUATION for another stream is a connection PROTOCOL_ERROR', () => {
    const ev = decode(cat(frame(T.HEADERS, 0, 1, '82'), frame(T.CONTINUATION, F.END_HEADERS, 3, '86')));
    connErr(ev[1], E.PROTOCOL_ERROR);
    const pp = decode(
      cat(frame(T.PUSH_PROMISE, 0, 1, cat(u32(2), hex('82'))), frame(T.CONTINUATION, F.END_HEADERS, 2, '86')),
    );
    connErr(pp[1], E.PROTOCOL_ERROR);
  });
});

describe('§5.4 error handling', () => {
  it('after a connection error the decoder takes no more input', () => {
    const ex = decoder();
    const ptr = putBytes(ex, cat(frame(T.DATA, 0, 0, 'aa'), PING), 'alloc');
    // Judged from the header: the payload byte is never taken.
    expect(ex.dec_push(ptr, 27)).toBe(9);
    expect(ex.dec_status()).toBe(S.CONNECTION_ERROR);
    expect(ex.dec_push(ptr + 9, 18)).toBe(0);
    expect(ex.dec_status()).toBe(S.CONNECTION_ERROR);
  });

  it('a stream error is cleared by the next push', () => {
    const ex = decoder();
    const ev = feed(ex, [frame(T.WINDOW_UPDATE, 0, 3, u32(0)), PING]);
    expect(ev[0].status).toBe(S.STREAM_ERROR);
    expect(ev[1]).toMatchObject({ status: S.FRAME, err: null });
    expect(ex.dec_err_code()).toBe(0);
  });
});
