// "Glitch" floods at engine level (CVE-2019-9518 empty frames, CVE-2019-9513 PRIORITY,
// tiny WINDOW_UPDATE loops): frames that cost work but carry nothing share one counter per
// 1 s window (host time via tick); past maxGlitchesPerWindow the connection ends with
// GOAWAY ENHANCE_YOUR_CALM. Exactly the limit is fine: it is a limit, not a heuristic.
import { describe, it, expect } from 'vitest';
import { Engine, harness, EV, PHASE, OK, type ConfigOptions } from './engine.js';
import {
  FRAME, FLAG, ERR, PREFACE, PeerHpack, concat, frame, settings, settingsAck, windowUpdate, data, headers,
  continuation, parseFrames, errorCodeOf, type Frame,
} from '../support/frames.js';
import { Peer, REQ, POSTREQ, serverPeer as makeServerPeer } from './raw-peer.js';

const ex = harness();

// The host's clock starts first: all floods below happen inside one window.
const serverPeer = (options: ConfigOptions = {}): Peer => makeServerPeer(ex, options, [], 1);

const debugOf = (g: Frame) => new TextDecoder().decode(g.payload.subarray(8));

function expectCalm(peer: Peer) {
  peer.read();
  const g = peer.goaway();
  expect(g, 'GOAWAY sent').toBeDefined();
  expect(errorCodeOf(g!)).toBe(ERR.ENHANCE_YOUR_CALM);
  expect(debugOf(g!)).toMatch(/glitch/);
  expect(peer.engine.phase).toBe(PHASE.CLOSED);
}

function expectFine(peer: Peer) {
  peer.read();
  expect(peer.goaway()).toBeUndefined();
  expect(peer.engine.phase).toBe(PHASE.OPEN);
}

const priority = (id: number, dep = 0) => frame(FRAME.PRIORITY, 0, id, [dep >>> 24, dep >>> 16, dep >>> 8, dep, 16]);

/** Each flood: setup (not counted) and one glitch frame; `n` sends n glitches. */
interface Flood {
  name: string;
  setup(peer: Peer): void;
  glitch(peer: Peer, i: number): Uint8Array;
  options?: ConfigOptions;
}

const floods: Flood[] = [
  {
    name: 'empty DATA without END_STREAM (CVE-2019-9518)',
    setup: (p) => p.send(headers(1, p.hpack.encode(POSTREQ))),
    glitch: () => data(1, new Uint8Array(0)),
  },
  {
    name: 'padding-only DATA without END_STREAM',
    setup: (p) => p.send(headers(1, p.hpack.encode(POSTREQ))),
    glitch: () => frame(FRAME.DATA, FLAG.PADDED, 1, [3, 0, 0, 0]),
  },
  {
    name: 'PRIORITY (CVE-2019-9513)',
    setup: () => {},
    glitch: (_p, i) => priority(3 + 2 * (i % 100), 1),
  },
  {
    name: '1-byte WINDOW_UPDATE on the connection with nothing to send',
    setup: () => {},
    glitch: () => windowUpdate(0, 1),
  },
  {
    name: '1-byte WINDOW_UPDATE on an open stream with nothing pending',
    setup: (p) => p.send(headers(1, p.hpack.encode(POSTREQ))),
    glitch: () => windowUpdate(1, 1),
  },
  {
    name: 'empty CONTINUATION without END_HEADERS (CVE-2019-9518)',
    // The per-block CONTINUATION cap is lifted so only the glitch counter can fire.
    options: { maxContinuations: 1_000_000 },
    setup: (p) => p.send(headers(1, p.hpack.encode(POSTREQ), false, false)),
    glitch: () => continuation(1, new Uint8Array(0), false),
  },
  {
    name: 'HEADERS with an empty fragment not ending the block',
    // Each request: empty HEADERS (the glitch) + the real block in CONTINUATION; answered at once.
    setup: () => {},
    glitch: (p, i) => {
      const id = 1 + 2 * i;
      const out = concat(headers(id, new Uint8Array(0), true, false), continuation(id, p.hpack.encode(REQ), true));
      return out;
    },
  },
];

function flood(peer: Peer, f: Flood, from: number, n: number) {
  for (let i = from; i < from + n; i++) {
    peer.send(f.glitch(peer, i));
    if (f.name.startsWith('HEADERS')) {
      const reqs = peer.engine.of(EV.REQUEST);
      const last = reqs[reqs.length - 1];
      if (last && peer.engine.phase === PHASE.OPEN) peer.engine.respond(last.stream, OK, true);
    }
    peer.read();
  }
}

describe('glitch floods (engine)', () => {
  for (const f of floods) {
    describe(f.name, () => {
      it('exactly maxGlitchesPerWindow is allowed; one more is ENHANCE_YOUR_CALM', () => {
        const peer = serverPeer({ maxGlitchesPerWindow: 50, ...f.options });
        f.setup(peer);
        flood(peer, f, 0, 50);
        expectFine(peer);
        flood(peer, f, 50, 1);
        expectCalm(peer);
      });

      it('the setting moves the threshold', () => {
        const peer = serverPeer({ maxGlitchesPerWindow: 200, ...f.options });
        f.setup(peer);
        flood(peer, f, 0, 200);
        expectFine(peer);
        flood(peer, f, 200, 1);
        expectCalm(peer);
      });
    });
  }

  it('the default is 1000 per second', () => {
    const peer = serverPeer();
    for (let i = 0; i < 1000; i++) peer.send(windowUpdate(0, 1));
    expectFine(peer);
    peer.send(windowUpdate(0, 1));
    expectCalm(peer);
  });

  it('all kinds share one counter', () => {
    const peer = serverPeer({ maxGlitchesPerWindow: 40, maxContinuations: 1000 });
    peer.send(headers(1, peer.hpack.encode(POSTREQ)));
    for (let i = 0; i < 10; i++) peer.send(data(1, new Uint8Array(0)), priority(5, 1), windowUpdate(0, 1), windowUpdate(1, 1));
    expectFine(peer);
    peer.send(headers(3, peer.hpack.encode(POSTREQ), false, false), continuation(3, new Uint8Array(0), false));
    expectCalm(peer);
  });

  it('the count starts again in each 1 s window of host time', () => {
    const peer = serverPeer({ maxGlitchesPerWindow: 50 });
    for (let w = 0; w < 5; w++) {
      peer.engine.tick(1 + 1000 * w);
      for (let i = 0; i < 50; i++) peer.send(priority(3, 1));
      expectFine(peer);
    }
    peer.send(priority(3, 1));
    expectCalm(peer);
  });

  it('useful frames of the same types are not counted', () => {
    const peer = serverPeer({ maxGlitchesPerWindow: 10 });
    peer.send(headers(1, peer.hpack.encode(POSTREQ)));
    // DATA with bytes, or empty with END_STREAM; big WINDOW_UPDATEs.
    for (let i = 0; i < 100; i++) peer.send(data(1, 'x'), windowUpdate(0, 1024), windowUpdate(1, 1024));
    peer.send(data(1, new Uint8Array(0), true));
    expectFine(peer);
    // A tiny WINDOW_UPDATE while our data waits for window is not a glitch either.
    const s = peer.engine.of(EV.REQUEST)[0].stream;
    peer.engine.respond(s, OK);
    expect(peer.engine.sendData(s, new Uint8Array(65535 + 100 * 1024 + 5000))).toBe(0);
    peer.read();
    expect(peer.engine.buffered(s)).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) peer.send(windowUpdate(1, 1), windowUpdate(0, 1));
    expectFine(peer);
  });
});
