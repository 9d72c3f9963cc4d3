// The rate limit every per-connection limit uses (assembly/proto/rate-limit.ts), a token
// bucket as nghttp2's nghttp2_ratelim: `burst` events at once, refilled at `rate` per
// second of host time, kept in thousandths so a millisecond refill loses nothing.
// How the engine applies it (resets, glitches): test/proto/floods.test.ts.
import { describe, it, expect } from 'vitest';
import { harness } from './engine.js';

const ex = harness();
const drain = (n = 1) => ex.rl_drain(n) === 1;

describe('RateLimit', () => {
  it('lets a burst through at once, then nothing until time passes', () => {
    ex.rl_new(5, 5, 1000n);
    for (let i = 0; i < 5; i++) expect(drain(), `event ${i + 1}`).toBe(true);
    expect(drain()).toBe(false);
    ex.rl_update(1000n);
    expect(drain()).toBe(false);
  });

  it('refills at its rate, a fraction of an event per millisecond adding up', () => {
    ex.rl_new(10, 10, 0n); // one event per 100 ms
    for (let i = 0; i < 10; i++) drain();
    for (let t = 1; t < 100; t++) ex.rl_update(BigInt(t)); // 99 updates of 1 ms: 0.99 of an event
    expect(ex.rl_available()).toBe(0);
    ex.rl_update(100n);
    expect(ex.rl_available()).toBe(1);
    expect(drain()).toBe(true);
    expect(drain()).toBe(false);
  });

  it('never holds more than its burst, however long it rested', () => {
    ex.rl_new(3, 1000, 0n);
    ex.rl_update(10_000_000_000n); // far in the future: full, not overflowed
    expect(ex.rl_available()).toBe(3);
    expect(drain(3)).toBe(true);
    expect(drain()).toBe(false);
  });

  it('a drain larger than what is left takes nothing', () => {
    ex.rl_new(4, 4, 0n);
    expect(drain(3)).toBe(true);
    expect(drain(2)).toBe(false);
    expect(drain(1)).toBe(true);
  });

  it('a clock that goes back refills nothing', () => {
    ex.rl_new(2, 2, 5000n);
    drain(2);
    ex.rl_update(1000n);
    expect(ex.rl_available()).toBe(0);
    ex.rl_update(5500n); // from 5000, not from 1000
    expect(ex.rl_available()).toBe(1);
  });

  it('a limit of 0 lets nothing through', () => {
    ex.rl_new(0, 0, 0n);
    ex.rl_update(100_000n);
    expect(drain()).toBe(false);
  });
});
