// h2_body_is_end: 1 only when a received body has nothing left to give — no bytes
// buffered and no trailers — so a host may skip h2_body_data and h2_body_trailers.
// Client and server are two connections of one instance over the in-memory duplex.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, TASK } from './mem-host.js';

const U = { SEND: 1, ACCEPT: 2, DATA: 3 };

/** One request; `answer` responds on the server side; returns what the client saw. */
function exchange(method: 'GET' | 'POST', answer: (ex: MemHost['ex'], h: MemHost, respond: number) => void) {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec);
  const req = ex.h2_request_new();
  h.with(method, (p, n) => ex.h2_request_set_method(req, p, n));
  h.with('http://check/', (p, n) => ex.h2_request_set_uri(req, p, n));
  // POST: a body written through a send stream and left open, so the server's reader is
  // not at its end (both are let go only after the exchange: an unfinished body freed
  // early resets its stream).
  const upload = method === 'POST' ? ex.h2_request_send_stream(req) : 0;
  let sbody = 0;
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), U.SEND);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), U.ACCEPT);
  const seen = { serverBodyEnd: -1, atHead: -1, afterData: -1, bytes: '' };
  let cbody = 0;
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === U.ACCEPT && type === TASK.REQUEST) {
      const sreq = ex.h2_task_value(t);
      sbody = ex.h2_request_body(sreq);
      seen.serverBodyEnd = ex.h2_body_is_end(sbody);
      const respond = ex.h2_request_respond(sreq);
      ex.h2_request_free(sreq);
      answer(ex, h, respond);
      ex.h2_respond_free(respond);
    } else if (user === U.SEND) {
      expect(type).toBe(TASK.RESPONSE);
      const resp = ex.h2_task_value(t);
      cbody = ex.h2_response_body(resp);
      ex.h2_response_free(resp);
      seen.atHead = ex.h2_body_is_end(cbody);
      pushTask(h, exec, ex.h2_body_data(cbody), U.DATA);
    } else if (user === U.DATA) {
      if (type === TASK.BUF) seen.bytes += Buffer.from(h.takeBuf(t)).toString();
      if (seen.afterData < 0) seen.afterData = ex.h2_body_is_end(cbody);
    }
    ex.h2_task_free(t);
  });
  expect(ex.h2_body_is_end(0)).toBe(0); // not a body: 0, no trap
  ex.h2_body_free(cbody);
  ex.h2_body_free(sbody);
  if (upload) ex.h2_send_stream_free(upload);
  return seen;
}

describe('h2_body_is_end', () => {
  it('a GET (END_STREAM on its head) is at its end at once; a body sent with END_STREAM is not until it was taken', () => {
    const seen = exchange('GET', (ex, h, respond) => {
      const send = ex.h2_respond_send_response(respond, ex.h2_response_new(), 0);
      h.with('fine', (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 1)).toBe(0));
      ex.h2_send_stream_free(send);
    });
    expect(seen.serverBodyEnd).toBe(1);
    expect(seen.bytes).toBe('fine');
    expect(seen.atHead).toBe(0); // "fine" is buffered
    expect(seen.afterData).toBe(1); // taken, END_STREAM seen, no trailers
  });

  it('a body still open is not at its end, and trailers keep it from being so', () => {
    const seen = exchange('POST', (ex, h, respond) => {
      const send = ex.h2_respond_send_response(respond, ex.h2_response_new(), 0);
      h.with('part', (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 0)).toBe(0));
      const trailers = ex.h2_headers_new();
      h.with('x-done', (np, nn) => h.with('yes', (vp, vn) => ex.h2_headers_add(trailers, np, nn, vp, vn)));
      expect(ex.h2_send_stream_send_trailers(send, trailers)).toBe(0);
      ex.h2_send_stream_free(send);
    });
    expect(seen.serverBodyEnd).toBe(0); // the request body is still open
    expect(seen.bytes).toBe('part');
    expect(seen.afterData).toBe(0); // data taken, but trailers wait to be read
  });
});
