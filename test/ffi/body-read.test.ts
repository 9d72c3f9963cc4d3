// h2_body_read: what a received body has buffered, copied out in the call, with no task
// and no buf; 0 when nothing is buffered, when it does not fit, or for a bad handle or
// range. Read bytes go back to the window as h2_body_data's do, so a body larger than
// the window arrives whole by reading alone. Client and server are two connections of one
// instance over the in-memory duplex.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, open200, TASK } from './mem-host.js';

const U = { SEND: 1, ACCEPT: 2 };

/** A GET answered with `body` (END_STREAM on its last DATA); the client's body handle once
 *  its head is in, and the instance to read it with. */
function answered(body: Uint8Array) {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec);
  const req = ex.h2_request_new();
  h.with('http://check/', (p, n) => ex.h2_request_set_uri(req, p, n));
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), U.SEND);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), U.ACCEPT);
  let cbody = 0;
  let send = 0;
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === U.ACCEPT && type === TASK.REQUEST) {
      send = open200(h, ex.h2_task_value(t));
      h.with(body, (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 1)).toBe(0));
    } else if (user === U.SEND) {
      expect(type).toBe(TASK.RESPONSE);
      const resp = ex.h2_task_value(t);
      cbody = ex.h2_response_body(resp);
      ex.h2_response_free(resp);
    }
    ex.h2_task_free(t);
  });
  return { h, ex, exec, cbody, done: () => (ex.h2_body_free(cbody), ex.h2_send_stream_free(send)) };
}

describe('h2_body_read', () => {
  it('copies what arrived with the head in one call, only when it all fits; then the body is at its end', () => {
    const { ex, cbody, done } = answered(new TextEncoder().encode('fine'));
    const dst = ex.h2_alloc(64) >>> 0;
    expect(ex.h2_body_read(cbody, dst, 3)).toBe(0); // 4 bytes buffered: they do not fit, none taken
    expect(ex.h2_body_is_end(cbody)).toBe(0);
    expect(ex.h2_body_read(cbody, dst, 64)).toBe(4);
    expect(new TextDecoder().decode(new Uint8Array(ex.memory.buffer, dst, 4))).toBe('fine');
    expect(ex.h2_body_is_end(cbody)).toBe(1); // taken, END_STREAM seen, no trailers
    expect(ex.h2_body_read(cbody, dst, 64)).toBe(0); // nothing left
    // ABI misuse answers 0, never a trap: not a body, a range past memory.
    expect(ex.h2_body_read(0, dst, 64)).toBe(0);
    expect(ex.h2_body_read(cbody + 1000, dst, 64)).toBe(0);
    expect(ex.h2_body_read(cbody, ex.memory.buffer.byteLength - 8, 64)).toBe(0);
    ex.h2_free(dst);
    done();
  });

  it('gives read bytes back to the window: a body past the 65,535-byte window arrives by reading alone', () => {
    const size = 200_000;
    const body = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
    const { h, ex, exec, cbody, done } = answered(body);
    const cap = 256 * 1024;
    const dst = ex.h2_alloc(cap) >>> 0;
    const got: Uint8Array[] = [];
    let total = 0;
    for (let round = 0; round < 100 && ex.h2_body_is_end(cbody) !== 1; round++) {
      const n = ex.h2_body_read(cbody, dst, cap);
      // Each read takes at most a window's worth: the peer may not send more unread.
      expect(n).toBeLessThanOrEqual(65_535);
      got.push(new Uint8Array(ex.memory.buffer, dst, n).slice());
      total += n;
      pump([[h, exec]], (_h, t) => ex.h2_task_free(t));
    }
    expect(total).toBe(size);
    expect(Buffer.concat(got).equals(Buffer.from(body))).toBe(true);
    ex.h2_free(dst);
    done();
  });

  it('a read that owes the peer WINDOW_UPDATEs has the next poll send them (a release drives only then)', () => {
    const big = answered(new Uint8Array(100_000));
    // The time told in this turn, so that the read's progress stamp is not a stale one.
    big.ex.h2_executor_set_time(big.exec, 1000n);
    while (big.ex.h2_executor_poll(big.exec) !== 0);
    big.ex.h2_executor_set_time(big.exec, 1000n);
    const area = big.ex.h2_alloc(128 * 1024) >>> 0;
    const written = big.h.activity;
    expect(big.ex.h2_body_read(big.cbody, area, 128 * 1024)).toBe(65_535);
    expect(big.ex.h2_executor_poll(big.exec)).toBe(0);
    expect(big.h.activity).toBeGreaterThan(written); // the updates went out
    big.ex.h2_free(area);
    big.done();
  });
});
