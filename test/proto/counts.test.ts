// The connection's counts (assembly/proto/counts.ts, the h2 crate's counts.rs): active
// streams by initiator against MAX_CONCURRENT_STREAMS (§5.1.2), bytes held to send and
// received, control replies queued, and the questions asked of them. How the engine uses
// them: test/proto/settings-limits.test.ts (concurrency, send buffers), floods.test.ts
// (queued control frames), budget.test.ts (what the budget is told).
import { describe, it, expect } from 'vitest';
import { harness } from './engine.js';

const ex = harness();
const UNLIMITED = 0xffffffff;
const yes = (b: number) => b === 1;
const active = () => [ex.ct_active_local() >>> 0, ex.ct_active_remote() >>> 0];

describe('Counts', () => {
  it("counts a stream toward its initiator's side once, and frees its slot once", () => {
    ex.ct_new();
    const ours = ex.ct_stream(true);
    const theirs = ex.ct_stream(false);
    ex.ct_activate(ours);
    ex.ct_activate(ours);
    expect(active()).toEqual([1, 0]);
    ex.ct_activate(theirs);
    expect(active()).toEqual([1, 1]);
    ex.ct_deactivate(ours);
    ex.ct_deactivate(ours);
    expect(active()).toEqual([0, 1]);
    ex.ct_deactivate(theirs);
    expect(active()).toEqual([0, 0]);
    // A stream that never became active (closed while idle or reserved) frees nothing.
    ex.ct_deactivate(ex.ct_stream(true));
    ex.ct_deactivate(ex.ct_stream(false));
    expect(active()).toEqual([0, 0]);
  });

  it("opens our streams only under the peer's MAX_CONCURRENT_STREAMS, the peer's own not counted", () => {
    ex.ct_new();
    expect(yes(ex.ct_may_open_local(UNLIMITED))).toBe(true);
    expect(yes(ex.ct_may_open_local(0))).toBe(false); // a peer that allows none
    ex.ct_activate(ex.ct_stream(true));
    const second = ex.ct_stream(true);
    ex.ct_activate(second);
    for (let i = 0; i < 5; i++) ex.ct_activate(ex.ct_stream(false));
    expect(yes(ex.ct_may_open_local(2))).toBe(false);
    expect(yes(ex.ct_may_open_local(3))).toBe(true);
    ex.ct_deactivate(second);
    expect(yes(ex.ct_may_open_local(2))).toBe(true);
  });

  it("accepts the peer's streams under our limit both as acknowledged and as configured, ours not counted", () => {
    ex.ct_new();
    ex.ct_activate(ex.ct_stream(false));
    ex.ct_activate(ex.ct_stream(false));
    for (let i = 0; i < 10; i++) ex.ct_activate(ex.ct_stream(true));
    expect(yes(ex.ct_accepts_remote(3, 3))).toBe(true);
    expect(yes(ex.ct_accepts_remote(2, 100))).toBe(false); // what the peer acknowledged binds it
    expect(yes(ex.ct_accepts_remote(UNLIMITED, 2))).toBe(false); // a lower value not yet acknowledged binds us
    expect(yes(ex.ct_accepts_remote(UNLIMITED, UNLIMITED))).toBe(true);
  });

  it('queues control replies up to the limit, then refuses until the output is written', () => {
    ex.ct_new();
    for (let i = 0; i < 3; i++) expect(yes(ex.ct_queue_control_reply(3)), `reply ${i + 1}`).toBe(true);
    expect(yes(ex.ct_queue_control_reply(3))).toBe(false);
    expect(yes(ex.ct_queue_control_reply(3))).toBe(false);
    ex.ct_control_replies_written();
    expect(yes(ex.ct_queue_control_reply(3))).toBe(true);
    ex.ct_new();
    expect(yes(ex.ct_queue_control_reply(0))).toBe(false);
  });

  it('buffers up to the connection cap, capacity assigned not in the way; what is held counts both', () => {
    ex.ct_new();
    ex.ct_add_buffered(60);
    expect(yes(ex.ct_may_buffer(40, 100))).toBe(true);
    expect(yes(ex.ct_may_buffer(41, 100))).toBe(false);
    ex.ct_add_assigned(30); // buffering uses assigned capacity up: it does not take more room
    expect(yes(ex.ct_may_buffer(40, 100))).toBe(true);
    expect(ex.ct_unframed()).toBe(90n);
    expect(ex.ct_buffer_room(100)).toBe(10n);
    // Another stream buffers past its own capacity into the cap: no room left to assign.
    ex.ct_add_buffered(40);
    expect(ex.ct_buffer_room(100)).toBe(-30n);
  });

  it('sums in 64 bits: a count near 2^32 neither wraps past the cap nor loses bytes', () => {
    ex.ct_new();
    ex.ct_add_buffered(UNLIMITED - 1);
    expect(yes(ex.ct_may_buffer(2, UNLIMITED))).toBe(false);
    expect(yes(ex.ct_may_buffer(1, UNLIMITED))).toBe(true);
    ex.ct_add_assigned(UNLIMITED);
    expect(ex.ct_unframed()).toBe(2n * BigInt(UNLIMITED) - 1n);
    ex.ct_add_unreleased(UNLIMITED);
    ex.ct_add_unreleased(UNLIMITED);
    expect(ex.ct_unreleased()).toBe(2n * BigInt(UNLIMITED));
  });

  it('releases never take what is unreleased below zero, whatever a host claims', () => {
    ex.ct_new();
    ex.ct_add_unreleased(10);
    ex.ct_release(4);
    expect(ex.ct_unreleased()).toBe(6n);
    ex.ct_release(100);
    expect(ex.ct_unreleased()).toBe(0n);
    ex.ct_add_unreleased(3);
    expect(ex.ct_unreleased()).toBe(3n);
  });
});
