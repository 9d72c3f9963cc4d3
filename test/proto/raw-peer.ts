// A scripted raw-frame peer for engine tests (the pattern of the h2 crate's
// tests/h2-support): it sends exact frames and reads back what the engine wrote. Its
// HPACK is hpack.js, an implementation nobody here wrote.
import { expect } from 'vitest';
import { Engine, type ConfigOptions } from './engine.js';
import {
  FRAME,
  PREFACE,
  PeerHpack,
  concat,
  settings,
  settingsAck,
  headers,
  parseFrames,
  type Frame,
} from '../support/frames.js';
import type { Exports } from '../support/wasm.js';

export const REQ: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/'],
];
export const POSTREQ: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/'],
];

/** A raw peer talking to one of our engines. */
export class Peer {
  hpack = new PeerHpack();
  frames: Frame[] = [];
  constructor(readonly engine: Engine) {}

  send(...bytes: Uint8Array[]): this {
    this.engine.receive(concat(...bytes));
    return this;
  }
  /** Everything the engine wrote since the last call, as frames. */
  read(): Frame[] {
    const { frames } = parseFrames(this.engine.takeOutput());
    this.frames.push(...frames);
    return frames;
  }
  headers(id: number, fields: [string, string][], endStream = false): Uint8Array {
    return headers(id, this.hpack.encode(fields), endStream);
  }
  goaway(): Frame | undefined {
    return this.frames.find((f) => f.type === FRAME.GOAWAY);
  }
  rst(id: number): Frame | undefined {
    return this.frames.find((f) => f.type === FRAME.RST_STREAM && f.streamId === id);
  }
}

/**
 * A server engine with the client side's preface and SETTINGS exchanged by a raw peer.
 * `clockAt` starts the engine's clock first (for tests that count per time window).
 */
export function serverPeer(
  ex: Exports,
  options: ConfigOptions = {},
  peerSettings: [number, number][] = [],
  clockAt?: number,
): Peer {
  const peer = new Peer(new Engine(ex, 'server', options));
  if (clockAt !== undefined) peer.engine.tick(clockAt);
  peer.send(PREFACE, settings(peerSettings));
  const first = peer.read();
  expect(first[0].type).toBe(FRAME.SETTINGS); // the server preface comes first (§3.4)
  peer.send(settingsAck());
  peer.read();
  return peer;
}
