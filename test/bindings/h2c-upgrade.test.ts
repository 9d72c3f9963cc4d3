// The h2c upgrade (RFC 7540 §3.2): which requests are taken, the prelude the engine reads
// (checked by an independent HPACK decoder), the two byte filters with every split of
// their input, and on the wire: the HTTP2-Settings applied to stream 1's response and
// exactly one SETTINGS ACK, the one for the client's own SETTINGS.
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import {
  parseH2cUpgrade,
  upgradePrelude,
  prefaceStripper,
  settingsAckDropper,
  PREFACE,
} from '../../bindings/h2c-upgrade.js';
import { serve } from '../../bindings/index.js';
import {
  FRAME,
  FLAG,
  SETTING,
  PeerHpack,
  concat,
  frame,
  parseFrames,
  settings,
  settingsAck,
  windowUpdate,
  type Frame,
} from '../support/frames.js';

const enc = (s: string) => new TextEncoder().encode(s);
/** HTTP2-Settings of `entries`, base64url without padding. */
const settingsHeader = (entries: [number, number][]) =>
  Buffer.from(settings(entries).subarray(9)).toString('base64url');
const upgradeRequest = (extra = '', settingsValue = settingsHeader([[SETTING.INITIAL_WINDOW_SIZE, 16]])) =>
  `GET /up?x=1 HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n` +
  `HTTP2-Settings: ${settingsValue}\r\nAccept: */*\r\n${extra}\r\n`;

describe('h2c upgrade: which requests are taken', () => {
  it('takes a bodyless HTTP/1.1 request with Upgrade: h2c and one HTTP2-Settings; gives the bytes after its head', () => {
    const r = parseH2cUpgrade(enc(upgradeRequest() + 'PRI'))!;
    expect(r.fields).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/up?x=1'],
      [':authority', 'example.test'],
      ['accept', '*/*'],
    ]);
    expect([...r.settings]).toEqual([0, 4, 0, 0, 0, 16]);
    expect(new TextDecoder().decode(r.rest)).toBe('PRI');
  });

  it.each([
    ['a body', 'Content-Length: 5\r\n'],
    ['a chunked body', 'Transfer-Encoding: chunked\r\n'],
  ])('refuses a request with %s (answered over HTTP/1.1 instead)', (_what, extra) => {
    expect(parseH2cUpgrade(enc(upgradeRequest(extra)))).toBeNull();
  });

  it('refuses what §3.2 does not allow: no HTTP2-Settings, two, a bad one, not in Connection, HTTP/1.0, CONNECT, head not whole', () => {
    const good = upgradeRequest();
    const cases = [
      good.replace(/HTTP2-Settings: .*\r\n/, ''),
      good.replace('Accept', `HTTP2-Settings: ${settingsHeader([])}\r\nAccept`),
      upgradeRequest('', 'AAMAAAB'), // 5 bytes: not whole settings
      upgradeRequest('', 'not base64!'),
      good.replace('Connection: Upgrade, HTTP2-Settings', 'Connection: Upgrade'),
      good.replace('HTTP/1.1', 'HTTP/1.0'),
      good.replace('GET /up?x=1', 'CONNECT example.test:80'),
      good.replace('Upgrade: h2c', 'Upgrade: websocket'),
      good.slice(0, -2),
    ];
    for (const c of cases) expect(parseH2cUpgrade(enc(c)), c).toBeNull();
  });

  it('the prelude: the preface, the header’s SETTINGS, and the request as HEADERS on stream 1 with END_STREAM', () => {
    const r = parseH2cUpgrade(enc(upgradeRequest()))!;
    const prelude = upgradePrelude(r)!;
    expect([...prelude.subarray(0, PREFACE.length)]).toEqual([...PREFACE]);
    const { frames, rest } = parseFrames(prelude.subarray(PREFACE.length));
    expect(rest.length).toBe(0);
    expect(frames.map((f) => [f.type, f.flags, f.streamId])).toEqual([
      [FRAME.SETTINGS, 0, 0],
      [FRAME.HEADERS, FLAG.END_STREAM | FLAG.END_HEADERS, 1],
    ]);
    expect(new PeerHpack().decode(frames[1].payload)).toEqual(r.fields);
  });

  it('an absolute-form target is reduced to authority and path; one that does not parse is refused, not thrown', () => {
    const abs = parseH2cUpgrade(enc(upgradeRequest().replace('GET /up?x=1', 'GET http://other.test:8080/p?q')))!;
    expect(abs.fields.slice(0, 4)).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/p?q'],
      [':authority', 'other.test:8080'],
    ]);
    expect(parseH2cUpgrade(enc(upgradeRequest().replace('GET /up?x=1', 'GET http://[/')))).toBeNull();
  });

  it('refuses a head node’s parser would refuse (space before the colon, a control character)', () => {
    expect(parseH2cUpgrade(enc(upgradeRequest('X-A : 1\r\n')))).toBeNull();
    expect(parseH2cUpgrade(enc(upgradeRequest('X-A: 1\x01\r\n')))).toBeNull();
  });

  it('field bytes outside ASCII reach the engine as they came (latin1 in, the same bytes out)', () => {
    const r = parseH2cUpgrade(Buffer.from(upgradeRequest('X-Name: caf\xe9\r\n'), 'latin1'))!;
    const prelude = upgradePrelude(r)!;
    const { frames } = parseFrames(prelude.subarray(PREFACE.length));
    expect(Buffer.from(frames[1].payload).includes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe(true);
  });

  it('no prelude for a head too large for one frame', () => {
    const r = parseH2cUpgrade(enc(upgradeRequest(`x-big: ${'a'.repeat(17_000)}\r\n`)))!;
    expect(upgradePrelude(r)).toBeNull();
  });
});

describe('h2c upgrade: the byte filters, at every split of their input', () => {
  it('the client’s preface is taken off however it is split; the bytes after it pass', () => {
    const input = concat(PREFACE, settings([]));
    for (let cut = 0; cut <= input.length; cut++) {
      const strip = prefaceStripper(() => {
        throw new Error('not a mismatch');
      });
      const out = concat(strip(input.subarray(0, cut)), strip(input.subarray(cut)));
      expect([...out], `cut at ${cut}`).toEqual([...settings([])]);
    }
  });

  it('a client that sends anything but the preface after the 101 has broken the upgrade: told once, nothing passes', () => {
    let failed = 0;
    const strip = prefaceStripper(() => failed++);
    expect(strip(PREFACE.subarray(0, 5)).length).toBe(0);
    expect(strip(settings([])).length).toBe(0); // SETTINGS where the rest of the preface belongs
    expect(strip(settings([])).length).toBe(0);
    expect(failed).toBe(1);
  });

  it('only the first SETTINGS ACK is dropped, however the frames are split across writes', () => {
    const server = concat(settings([[SETTING.MAX_CONCURRENT_STREAMS, 100]]), windowUpdate(0, 1000));
    const input = concat(server, settingsAck(), frame(FRAME.HEADERS, 4, 1, [0x88]), settingsAck());
    const want = concat(server, frame(FRAME.HEADERS, 4, 1, [0x88]), settingsAck());
    for (let cut = 0; cut <= input.length; cut++) {
      const drop = settingsAckDropper();
      const out = concat(drop(input.subarray(0, cut)), drop(input.subarray(cut)));
      expect([...out], `cut at ${cut}`).toEqual([...want]);
    }
  });
});

describe('h2c upgrade on the wire (serve())', () => {
  it('applies HTTP2-Settings to the response on stream 1 and acknowledges only the client’s SETTINGS', async () => {
    const server = await serve({ port: 0, handler: (_req, res) => res.respond(200, [], 'x'.repeat(100)) });
    const socket = net.connect(server.port, '127.0.0.1');
    let got = Buffer.alloc(0);
    socket.on('data', (d) => (got = Buffer.concat([got, d])));
    const frames = async (until: (f: Frame[]) => boolean): Promise<Frame[]> => {
      for (let i = 0; i < 100; i++) {
        const at = got.indexOf('\r\n\r\n') + 4;
        const { frames } = parseFrames(got.subarray(at));
        if (until(frames)) return frames;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no such frames in ${got.length} bytes`);
    };
    socket.write(upgradeRequest()); // INITIAL_WINDOW_SIZE 16 in HTTP2-Settings
    const first = await frames((f) => f.some((x) => x.type === FRAME.DATA));
    expect(got.toString('latin1')).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const data = first.filter((f) => f.type === FRAME.DATA);
    expect(data.map((f) => [f.streamId, f.payload.length])).toEqual([[1, 16]]); // the window the header gave
    expect(first.filter((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK)).toHaveLength(0);
    socket.write(concat(PREFACE, settings([]), windowUpdate(1, 1000)));
    const after = await frames(
      (f) => f.filter((x) => x.type === FRAME.DATA).reduce((n, x) => n + x.payload.length, 0) === 100,
    );
    expect(after.filter((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK)).toHaveLength(1);
    expect(after.filter((f) => f.type === FRAME.GOAWAY)).toHaveLength(0);
    socket.destroy();
    await server.close();
  });

  it('a client whose preface comes in the same write as its upgrade request is served; one that sends no preface is closed', async () => {
    const server = await serve({ port: 0, handler: (_req, res) => res.respond(200, [], 'up') });
    const exchange = (bytes: Uint8Array) =>
      new Promise<Buffer>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1');
        let got = Buffer.alloc(0);
        socket.on('data', (d) => {
          got = Buffer.concat([got, d]);
          if (got.includes('up')) socket.end();
        });
        socket.on('close', () => resolve(got));
        socket.write(bytes);
        setTimeout(() => socket.destroy(), 3000);
      });
    const eager = await exchange(concat(enc(upgradeRequest('', settingsHeader([]))), PREFACE, settings([])));
    const frames = parseFrames(eager.subarray(eager.indexOf('\r\n\r\n') + 4)).frames;
    expect(frames.filter((f) => f.type === FRAME.DATA).map((f) => Buffer.from(f.payload).toString())).toEqual(['up']);
    expect(frames.filter((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK)).toHaveLength(1);
    const t0 = Date.now();
    await exchange(concat(enc(upgradeRequest('', settingsHeader([]))), settings([]))); // SETTINGS, no preface
    expect(Date.now() - t0).toBeLessThan(2000); // closed by the server, not by our 3 s timer
    await server.close();
  });
});
