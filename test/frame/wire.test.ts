// The encoders against hand-written wire bytes (RFC 9113 §4.1 and the frame layouts of §6),
// so the encoder is checked against the RFC, not only against our own decoder.
import { describe, it, expect } from 'vitest';
import { ENC, E, load, encode, hex, toHex } from './codec.js';
import { getBytes } from '../support/wasm.js';

const ex = load();
const h = (s: string) => toHex(hex(s));
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const NO_PAD = -1;

function wire(fn: Parameters<typeof encode>[1]): string {
  const [r, out] = encode(ex, fn);
  expect(r).toBe(ENC.OK);
  return toHex(out);
}

describe('encoders produce the RFC 9113 wire format', () => {
  it('§4.1 writeFrameHeader: 24-bit length, type, flags, stream id with the reserved bit cleared', () => {
    const p = ex.alloc(9);
    expect(ex.write_frame_header(p, 0x123456, 0xfa, 0xa5, 0xffffffff)).toBe(9);
    expect(toHex(getBytes(ex, p, 9))).toBe(h('123456 fa a5 7fffffff'));
  });

  it('§6.1 DATA, plain and padded (Pad Length, data, zero padding)', () => {
    expect(wire((x, put) => x.enc_data(1, put(ascii('hello')), 5, 1, NO_PAD))).toBe(
      h('000005 00 01 00000001 68656c6c6f'),
    );
    expect(wire((x, put) => x.enc_data(1, put(ascii('hello')), 5, 0, 2))).toBe(
      h('000008 00 08 00000001 02 68656c6c6f 0000'),
    );
    expect(wire((x, put) => x.enc_data(3, put(ascii('hi')), 2, 1, 0))).toBe(h('000003 00 09 00000003 00 6869'));
    expect(wire((x, put) => x.enc_data(0x7fffffff, put(new Uint8Array(0)), 0, 1, NO_PAD))).toBe(
      h('000000 00 01 7fffffff'),
    );
  });

  it('§6.1 writeDataFramePrefix writes only the header and Pad Length (zero-copy path)', () => {
    const p = ex.alloc(16);
    expect(ex.write_data_prefix(p, 1, 5, 1, 2)).toBe(10);
    expect(toHex(getBytes(ex, p, 10))).toBe(h('000008 00 09 00000001 02'));
    expect(ex.write_data_prefix(p, 7, 0x100, 0, NO_PAD)).toBe(9);
    expect(toHex(getBytes(ex, p, 9))).toBe(h('000100 00 00 00000007'));
    expect(ex.write_data_prefix(p, 0, 5, 0, NO_PAD)).toBe(0); // stream 0: refused
  });

  it('§6.2 HEADERS with END_STREAM/END_HEADERS, and with padding and priority', () => {
    expect(wire((x, put) => x.enc_headers(1, put(hex('8286')), 2, 1, 16384, NO_PAD, 0, 0, 0, 16))).toBe(
      h('000002 01 05 00000001 8286'),
    );
    // PADDED|PRIORITY|END_HEADERS = 0x2c; exclusive dependency on 3, weight 16 (wire 15).
    expect(wire((x, put) => x.enc_headers(5, put(hex('8286')), 2, 0, 16384, 1, 1, 1, 3, 16))).toBe(
      h('000009 01 2c 00000005 01 80000003 0f 8286 00'),
    );
  });

  it('§6.2 + §6.10 a field block split into HEADERS and CONTINUATION frames at max frame size', () => {
    expect(wire((x, put) => x.enc_headers(1, put(hex('aabbccddee')), 5, 1, 2, NO_PAD, 0, 0, 0, 16))).toBe(
      h(
        '000002 01 01 00000001 aabb' + // END_STREAM on HEADERS, no END_HEADERS
          '000002 09 00 00000001 ccdd' +
          '000001 09 04 00000001 ee', // END_HEADERS on the last
      ),
    );
  });

  it('§6.3 PRIORITY', () => {
    expect(wire((x) => x.enc_priority(3, 1, 256, 0))).toBe(h('000005 02 00 00000003 00000001 ff'));
    expect(wire((x) => x.enc_priority(3, 0x7fffffff, 1, 1))).toBe(h('000005 02 00 00000003 ffffffff 00'));
  });

  it('§6.4 RST_STREAM', () => {
    expect(wire((x) => x.enc_rst(5, E.CANCEL))).toBe(h('000004 03 00 00000005 00000008'));
  });

  it('§6.5 SETTINGS and SETTINGS ACK', () => {
    ex.settings_clear();
    ex.settings_add(1, 4096);
    ex.settings_add(3, 100);
    ex.settings_add(4, 65535);
    ex.settings_add(8, 1);
    expect(wire((x) => x.enc_settings())).toBe(
      h('000018 04 00 00000000 0001 00001000 0003 00000064 0004 0000ffff 0008 00000001'),
    );
    ex.settings_clear();
    expect(wire((x) => x.enc_settings())).toBe(h('000000 04 00 00000000'));
    expect(wire((x) => x.enc_settings_ack())).toBe(h('000000 04 01 00000000'));
  });

  it('§6.6 PUSH_PROMISE, with padding pushing the whole fragment into a CONTINUATION', () => {
    expect(wire((x, put) => x.enc_push_promise(1, 2, put(hex('8286')), 2, 16384, NO_PAD))).toBe(
      h('000006 05 04 00000001 00000002 8286'),
    );
    // Max frame size 8 = Pad Length (1) + promised id (4) + padding (3): no room for fragment.
    expect(wire((x, put) => x.enc_push_promise(1, 2, put(hex('aabbccdd')), 4, 8, 3))).toBe(
      h('000008 05 08 00000001 03 00000002 000000' + '000004 09 04 00000001 aabbccdd'),
    );
  });

  it('§6.7 PING and PING ACK', () => {
    expect(wire((x) => x.enc_ping(0x0102030405060708n, 0))).toBe(h('000008 06 00 00000000 0102030405060708'));
    expect(wire((x) => x.enc_ping(-1n, 1))).toBe(h('000008 06 01 00000000 ffffffffffffffff'));
  });

  it('§6.8 GOAWAY with debug data', () => {
    expect(wire((x, put) => x.enc_goaway(7, E.PROTOCOL_ERROR, put(ascii('hi')), 2))).toBe(
      h('00000a 07 00 00000000 00000007 00000001 6869'),
    );
    expect(wire((x) => x.enc_goaway(0x7fffffff, E.NO_ERROR, 0, 0))).toBe(h('000008 07 00 00000000 7fffffff 00000000'));
  });

  it('§6.9 WINDOW_UPDATE', () => {
    expect(wire((x) => x.enc_window_update(0, 0x7fffffff))).toBe(h('000004 08 00 00000000 7fffffff'));
    expect(wire((x) => x.enc_window_update(9, 1))).toBe(h('000004 08 00 00000009 00000001'));
  });

  it('§6.10 CONTINUATION', () => {
    expect(wire((x, put) => x.enc_continuation(1, put(hex('ab')), 1, 1))).toBe(h('000001 09 04 00000001 ab'));
    expect(wire((x, put) => x.enc_continuation(1, put(hex('ab')), 1, 0))).toBe(h('000001 09 00 00000001 ab'));
  });
});

describe('encoders refuse what the RFC forbids, and leave the buffer untouched', () => {
  it('answers INVALID for stream 0 where a stream is required, bad padding, weights, increments, ids', () => {
    const one = ex.alloc(1);
    const cases: [string, () => number][] = [
      ['DATA stream 0', () => ex.enc_data(0, one, 1, 0, NO_PAD)],
      ['DATA stream 2^31', () => ex.enc_data(0x80000000, one, 1, 0, NO_PAD)],
      ['DATA pad 256', () => ex.enc_data(1, one, 1, 0, 256)],
      ['DATA over 2^24-1', () => ex.enc_data(1, one, 0xffffff, 0, 0)],
      ['HEADERS stream 0', () => ex.enc_headers(0, one, 1, 0, 16384, NO_PAD, 0, 0, 0, 16)],
      ['HEADERS weight 0', () => ex.enc_headers(1, one, 1, 0, 16384, NO_PAD, 1, 0, 0, 0)],
      ['HEADERS weight 257', () => ex.enc_headers(1, one, 1, 0, 16384, NO_PAD, 1, 0, 0, 257)],
      ['HEADERS self-dependency', () => ex.enc_headers(3, one, 1, 0, 16384, NO_PAD, 1, 0, 3, 16)],
      ['HEADERS max frame size 0', () => ex.enc_headers(1, one, 1, 0, 0, NO_PAD, 0, 0, 0, 16)],
      ['HEADERS fields exceed max frame size', () => ex.enc_headers(1, one, 1, 0, 5, 0, 1, 0, 0, 16)],
      ['PRIORITY stream 0', () => ex.enc_priority(0, 1, 16, 0)],
      ['PRIORITY self-dependency', () => ex.enc_priority(5, 5, 16, 0)],
      ['RST_STREAM stream 0', () => ex.enc_rst(0, 0)],
      ['PUSH_PROMISE odd promised id', () => ex.enc_push_promise(1, 3, one, 1, 16384, NO_PAD)],
      ['PUSH_PROMISE promised id 0', () => ex.enc_push_promise(1, 0, one, 1, 16384, NO_PAD)],
      ['WINDOW_UPDATE increment 0', () => ex.enc_window_update(1, 0)],
      ['WINDOW_UPDATE increment 2^31', () => ex.enc_window_update(1, 0x80000000)],
      ['GOAWAY last stream 2^31', () => ex.enc_goaway(0x80000000, 0, 0, 0)],
      ['CONTINUATION stream 0', () => ex.enc_continuation(0, one, 1, 1)],
    ];
    for (const [name, call] of cases) {
      ex.enc_reset(1 << 20);
      expect(call(), name).toBe(ENC.INVALID);
      expect(ex.enc_len(), name).toBe(0);
    }
  });

  it('answers NO_SPACE at the buffer limit and keeps what was already written', () => {
    ex.enc_reset(29);
    expect(ex.enc_ping(1n, 0)).toBe(ENC.OK); // 17 bytes
    const before = toHex(getBytes(ex, ex.enc_ptr(), 17));
    expect(ex.enc_window_update(1, 1)).toBe(ENC.NO_SPACE); // 17 + 13 > 29
    expect(ex.enc_len()).toBe(17);
    // A split field block is all or nothing: 3 frames of 9 + 1 bytes would not fit.
    const block = ex.alloc(3);
    expect(ex.enc_headers(1, block, 3, 0, 1, NO_PAD, 0, 0, 0, 16)).toBe(ENC.NO_SPACE);
    expect(ex.enc_len()).toBe(17);
    expect(toHex(getBytes(ex, ex.enc_ptr(), 17))).toBe(before);
    expect(ex.enc_settings_ack()).toBe(ENC.OK); // 9 more: 26 fits
    expect(ex.enc_len()).toBe(26);
    expect(ex.enc_window_update(1, 1)).toBe(ENC.NO_SPACE);
  });
});
