// A connection's GOAWAY state (assembly/proto/go-away.ts, RFC 9113 §6.8). How the engine
// acts on it (graceful shutdown, refusing, the peer's last id): test/proto/engine.test.ts,
// test/proto/raw-peer.test.ts and the h2spec cases.
import { describe, it, expect } from 'vitest';
import { harness } from './engine.js';

const ex = harness();
const MAX = 0x7fffffff;

describe('GoAway', () => {
  it('ignores nothing before a GOAWAY, nor after the first (2^31-1) of a graceful shutdown', () => {
    ex.ga_new();
    expect(ex.ga_either()).toBe(0);
    expect(ex.ga_ignores(MAX)).toBe(0);
    ex.ga_announce();
    expect(ex.ga_either()).toBe(1);
    expect(ex.ga_ignores(MAX)).toBe(0);
  });

  it("after ours names a last stream, the peer's streams above it are ignored, not those at or below it", () => {
    ex.ga_new();
    ex.ga_send(7);
    expect(ex.ga_ignores(7)).toBe(0);
    expect(ex.ga_ignores(5)).toBe(0);
    expect(ex.ga_ignores(9)).toBe(1);
  });

  it('a later GOAWAY of ours never raises the last stream id an earlier one named', () => {
    ex.ga_new();
    ex.ga_announce();
    ex.ga_send(7);
    ex.ga_send(9);
    expect(ex.ga_ignores(9)).toBe(1);
    expect(ex.ga_ignores(7)).toBe(0);
  });

  it("the peer's last stream id only ever decreases (§6.8: a later GOAWAY cannot raise it)", () => {
    ex.ga_new();
    expect(ex.ga_peer_last()).toBe(MAX);
    ex.ga_receive(MAX);
    ex.ga_receive(11);
    ex.ga_receive(21);
    expect(ex.ga_peer_last()).toBe(11);
    expect(ex.ga_either()).toBe(1);
  });
});
