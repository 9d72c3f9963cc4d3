// A receive window (assembly/proto/flow.ts RecvWindow, RFC 9113 §6.9) and its target, as
// h2's set_target_window_size moves it: raised, the window opens by the difference now;
// lowered, WINDOW_UPDATEs are held back until the window is under the target again.
import { describe, it, expect } from 'vitest';
import { harness } from './engine.js';

const ex = harness();
const window = () => Number(ex.rw_window());

describe('RecvWindow', () => {
  it('gives back released bytes once half the target waits, never more than was consumed', () => {
    ex.rw_new(65535);
    expect(ex.rw_receive(40000)).toBe(1);
    expect(ex.rw_release(20000)).toBe(0); // under half the target: batched
    expect(ex.rw_release(20000)).toBe(40000);
    expect(window()).toBe(65535);
    expect(ex.rw_receive(65536)).toBe(0); // past the window: FLOW_CONTROL_ERROR for the caller
  });

  it('a raised target opens the window by the difference at once', () => {
    ex.rw_new(65535);
    expect(ex.rw_set_target(1 << 20) >>> 0).toBe((1 << 20) - 65535);
    expect(window()).toBe(1 << 20);
  });

  it('a lowered target holds WINDOW_UPDATEs back until the window is under it, then tops it up to the target only', () => {
    ex.rw_new(65535);
    ex.rw_set_target(1 << 20);
    expect(ex.rw_set_target(100000)).toBe(0); // a granted window cannot shrink
    expect(window()).toBe(1 << 20);
    expect(ex.rw_receive(500000)).toBe(1);
    expect(ex.rw_release(500000)).toBe(0); // the window (548,576) is still above the target
    expect(ex.rw_receive(500000)).toBe(1);
    expect(ex.rw_release(500000) >>> 0).toBe(100000 - ((1 << 20) - 1000000));
    expect(window()).toBe(100000);
  });
});
