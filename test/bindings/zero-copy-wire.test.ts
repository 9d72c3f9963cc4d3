// Zero-copy DATA from the TypeScript server, read off a raw TCP socket frame by frame (a
// peer that strips nothing): every DATA frame carries the padding asked for, its Pad Length
// byte and zero bytes, the data is the source's, END_STREAM comes on the last frame.
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import { serve } from '../../bindings/index.js';
import {
  FRAME,
  FLAG,
  PREFACE,
  PeerHpack,
  concat,
  settings,
  settingsAck,
  windowUpdate,
  SETTING,
  headers,
  parseFrames,
  type Frame,
} from '../support/frames.js';

const SIZE = 100_000;
const source = new Uint8Array(SIZE).map((_, i) => (i * 7 + 3) & 0xff);

/** GETs `/` over a raw socket; resolves with every frame the server sent until END_STREAM on stream 1. */
function rawGet(port: number): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const hp = new PeerHpack();
    let buf: Uint8Array = new Uint8Array(0);
    const frames: Frame[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no END_STREAM after ${frames.length} frames`));
    }, 10_000);
    sock.on('connect', () => {
      const block = hp.encode([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', `127.0.0.1:${port}`],
        [':path', '/'],
      ]);
      // Windows wide enough for the whole body: this peer sends no WINDOW_UPDATE later.
      sock.write(
        concat(
          PREFACE,
          settings([[SETTING.INITIAL_WINDOW_SIZE, 1 << 20]]),
          windowUpdate(0, 1 << 20),
          headers(1, block, true),
        ),
      );
    });
    sock.on('data', (d: Buffer) => {
      const parsed = parseFrames(concat(buf, d));
      buf = parsed.rest;
      for (const f of parsed.frames) {
        frames.push(f);
        if (f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)) sock.write(settingsAck());
        if (f.streamId === 1 && f.flags & FLAG.END_STREAM) {
          clearTimeout(timer);
          sock.destroy();
          resolve(frames);
        }
      }
    });
    sock.on('error', reject);
  });
}

describe('zero-copy from the TypeScript server, on a raw socket', () => {
  it('every DATA frame padded with 9 zero bytes, the data whole, END_STREAM on the last', async () => {
    const server = await serve({
      port: 0,
      handler: (_req, res) =>
        res.respondWithSource(
          200,
          [],
          SIZE,
          (dst, at, len, position) => {
            dst.set(source.subarray(position, position + len), at);
            return len;
          },
          9,
        ),
    });
    try {
      const frames = await rawGet(Number(new URL(server.url).port));
      const data = frames.filter((f) => f.type === FRAME.DATA && f.streamId === 1);
      expect(data.length).toBeGreaterThan(5);
      const body: Uint8Array[] = [];
      for (const f of data) {
        if (f.payload.length === 0) continue; // an empty END_STREAM frame carries no padding
        expect(f.flags & FLAG.PADDED).toBe(FLAG.PADDED);
        const pad = f.payload[0];
        expect(pad).toBe(9);
        expect(f.payload.subarray(f.payload.length - pad).every((b) => b === 0)).toBe(true);
        body.push(f.payload.subarray(1, f.payload.length - pad));
      }
      expect(Buffer.from(concat(...body)).equals(Buffer.from(source))).toBe(true);
      expect(data[data.length - 1].flags & FLAG.END_STREAM).toBe(FLAG.END_STREAM);
    } finally {
      await server.close();
    }
  });
});
