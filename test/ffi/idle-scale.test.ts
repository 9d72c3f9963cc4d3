// Thousands of idle connections on one executor: a host turn (set_time, poll until 0,
// next_deadline) costs what its active connections cost, not what all of them do, and a
// connection that nothing drives still acts when its deadline comes. Over the in-memory
// duplex (mem-host.ts): clients in one instance, servers in another.
import { describe, it, expect } from 'vitest';
import { MemHost, startPair, pump, flushWakes } from './mem-host.js';

const IDLE_TIMEOUT = 113n; // H2_OPT_IDLE_TIMEOUT_MS
const GOAWAY = 7;

/** `n` client/server pairs, handshaken at time 1000, each server with a 5 s idle timeout. */
function idleWorld(n: number) {
  const ch = new MemHost();
  const sh = new MemHost();
  const cexec = ch.ex.h2_executor_new();
  const sexec = sh.ex.h2_executor_new();
  ch.ex.h2_executor_set_time(cexec, 1000n);
  sh.ex.h2_executor_set_time(sexec, 1000n);
  const ends: number[] = [];
  for (let i = 0; i < n; i++) ends.push(startPair(ch, cexec, sh, sexec, [[Number(IDLE_TIMEOUT), 5000n]]).cud);
  pump(
    [
      [ch, cexec],
      [sh, sexec],
    ],
    (h, t) => h.ex.h2_task_free(t),
  );
  return { ch, sh, cexec, sexec, ends };
}

/** One host turn of the server instance at `now`: tell the time, poll until 0, ask the deadline. */
function turn(sh: MemHost, sexec: number, now: number): number {
  sh.ex.h2_executor_set_time(sexec, BigInt(now));
  while (sh.ex.h2_executor_poll(sexec) !== 0);
  return Number(sh.ex.h2_executor_next_deadline(sexec));
}

/** Median µs per turn over `batches` batches of `perBatch` turns, time moving 1 ms a turn. */
function turnCost(n: number, batches = 7, perBatch = 300): number {
  const { sh, sexec } = idleWorld(n);
  let now = 1001;
  turn(sh, sexec, now); // stamps taken during the handshake take their time
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) turn(sh, sexec, ++now);
    samples.push(((performance.now() - t0) * 1000) / perBatch);
  }
  samples.sort((a, c) => a - c);
  return samples[Math.floor(batches / 2)];
}

describe('an executor with thousands of idle connections', () => {
  it("still fires every one's deadline on time, though no poll drives them in between", () => {
    const N = 2000;
    const { ch, sh, sexec, ends } = idleWorld(N);
    let deadline = turn(sh, sexec, 1001);
    // Idle since the handshake at 1000 (or its first set_time): GOAWAY at 6000 or 6001.
    expect(deadline).toBeGreaterThanOrEqual(6000);
    expect(deadline).toBeLessThanOrEqual(6001);
    const written = sh.activity;
    for (let now = 1002; now < deadline; now += 7) deadline = turn(sh, sexec, now);
    expect(sh.activity, 'nothing written before the deadline').toBe(written);
    expect(turn(sh, sexec, deadline)).not.toBe(deadline);
    flushWakes();
    // Every client end got the server's GOAWAY (after nothing else: its inbox starts with it).
    let goaways = 0;
    for (const ud of ends) {
      const inbox = ch.ends.get(ud)!.inbox;
      if (inbox.length > 0 && inbox[0][3] === GOAWAY) goaways++;
    }
    expect(goaways).toBe(N);
  }, 60_000);

  it('costs about the same per host turn with 2,000 idle connections as with 20', () => {
    turnCost(20, 3); // the JIT warmed on the same calls first, so neither side pays for it
    const few = turnCost(20);
    const many = turnCost(2000);
    console.log(
      `idle turn (set_time, poll, next_deadline): ${few.toFixed(2)} µs with 20 connections, ${many.toFixed(2)} µs with 2,000 (${(many / few).toFixed(1)}×)`,
    );
    // A drive and a deadline per connection per turn made it 195× (the module before this
    // executor, same test); one heap of deadlines and an active list keep it flat.
    expect(many / few).toBeLessThan(4);
  }, 60_000);
});
