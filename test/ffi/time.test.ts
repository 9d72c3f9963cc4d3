// The time contract at the ABI (include/h2wasm.h, "Time"): a host tells the time when its
// events fire, and a call made after its turn ended (a poll returned 0) and before it told
// the time again is stamped with the next set_time, never with the old time.
import { describe, it, expect } from 'vitest';
import { MemHost, startPair, pump, TASK, H2E } from './mem-host.js';

/** The host's last turn told 1000 and ended; `silence` ms later a connection is made. */
function connectAfterSilence(silence: number, tellFirst: boolean) {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  expect(ex.h2_executor_set_time(exec, 1000n)).toBe(H2E.OK);
  expect(ex.h2_executor_poll(exec)).toBe(0); // the turn is over: 1000 is stale from here
  const now = BigInt(1000 + silence);
  if (tellFirst) ex.h2_executor_set_time(exec, now); // a strict host (the C examples)
  const { cud, sud } = startPair(h, exec, h, exec);
  const estimate = Number(ex.h2_executor_next_deadline(exec));
  if (!tellFirst) ex.h2_executor_set_time(exec, now); // a runtime host: calls first, then the time
  const deadline = Number(ex.h2_executor_next_deadline(exec));
  const outcomes: string[] = [];
  const conns: [number, number][] = [];
  pump([[h, exec]], (_h, t, type) => {
    if (type === TASK.ERROR) {
      const err = ex.h2_task_value(t);
      outcomes.push(`error reason ${ex.h2_error_reason(err)}`);
      ex.h2_error_free(err);
    } else {
      outcomes.push(type === TASK.CLIENTCONN ? 'client' : type === TASK.SERVERCONN ? 'server' : `type ${type}`);
      conns.push([type, ex.h2_task_value(t)]);
    }
    ex.h2_task_free(t);
  });
  for (const [type, c] of conns) (type === TASK.CLIENTCONN ? ex.h2_clientconn_free : ex.h2_serverconn_free)(c);
  h.close(cud);
  h.close(sud);
  pump([[h, exec]], (_h, t) => ex.h2_task_free(t));
  ex.h2_executor_free(exec);
  return { outcomes: outcomes.sort(), estimate, deadline };
}

describe('time at the ABI', () => {
  it('refuses a negative time, one past 2^53-1 and a bad executor', () => {
    const h = new MemHost();
    const exec = h.ex.h2_executor_new();
    expect(h.ex.h2_executor_set_time(exec, -1n)).toBe(H2E.INVALID_ARG);
    expect(h.ex.h2_executor_set_time(0, 5n)).toBe(H2E.INVALID_ARG);
    expect(h.ex.h2_executor_set_time(exec, 2n ** 53n)).toBe(H2E.INVALID_ARG);
    expect(h.ex.h2_executor_set_time(exec, 0n)).toBe(H2E.OK);
    expect(h.ex.h2_executor_set_time(exec, 2n ** 53n - 1n)).toBe(H2E.OK);
    h.ex.h2_executor_free(exec);
  });

  it('a handshake made after 25 s of silence, before the time is told, succeeds (SETTINGS timeout counts from then)', () => {
    const r = connectAfterSilence(25_000, false);
    expect(r.outcomes).toEqual(['client', 'server']);
    // Before the time is told, next_deadline is an early estimate counted from the last
    // time told (1000 + the 10 s SETTINGS timeout); once told, it counts from 26 s.
    expect(r.estimate).toBe(11_000);
    expect(r.deadline).toBe(36_000);
  });

  it('control: a host that tells the time before the handshake gets the same', () => {
    const r = connectAfterSilence(25_000, true);
    expect(r.outcomes).toEqual(['client', 'server']);
    expect(r.estimate).toBe(36_000);
  });

  it('hours of silence change nothing', () => {
    expect(connectAfterSilence(5 * 3600_000, false).outcomes).toEqual(['client', 'server']);
  });
});
