// h2_respond_send_whole: a whole response — status, a flat head, a body, END_STREAM — in
// one call, with no response, headers, body or send stream handle. What the client sees
// must equal the long way's answer; what the call refuses, it refuses before sending.
// Client and server are two connections of one instance over the in-memory duplex.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, TASK } from './mem-host.js';
import { fieldList } from '../support/frames.js';
import { H2E, H2_OPT } from '../../bindings/abi.js';

const U = { SEND: 1, ACCEPT: 2, DATA: 3 };

interface Seen {
  status: number;
  headers: [string, string][];
  endAtHead: number;
  body: Buffer;
  error: boolean;
}

/** One GET; `answer` responds on the server side; returns what the client saw. */
function exchange(
  answer: (ex: MemHost['ex'], h: MemHost, respond: number) => void,
  clientOpts: [number, bigint][] = [],
  method = 'GET',
): Seen {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec, [], clientOpts);
  const req = ex.h2_request_new();
  h.with(method, (p, n) => ex.h2_request_set_method(req, p, n));
  h.with('http://check/', (p, n) => ex.h2_request_set_uri(req, p, n));
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), U.SEND);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), U.ACCEPT);
  const seen: Seen = { status: 0, headers: [], endAtHead: -1, body: Buffer.alloc(0), error: false };
  const chunks: Buffer[] = [];
  let cbody = 0;
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === U.ACCEPT && type === TASK.REQUEST) {
      const sreq = ex.h2_task_value(t);
      const respond = ex.h2_request_respond(sreq);
      ex.h2_request_free(sreq);
      answer(ex, h, respond);
      ex.h2_respond_free(respond);
    } else if (user === U.SEND) {
      if (type !== TASK.RESPONSE) {
        seen.error = true;
      } else {
        const resp = ex.h2_task_value(t);
        seen.status = ex.h2_response_status(resp);
        seen.headers = h.headers(ex.h2_response_headers(resp));
        cbody = ex.h2_response_body(resp);
        ex.h2_response_free(resp);
        seen.endAtHead = ex.h2_body_is_end(cbody);
        pushTask(h, exec, ex.h2_body_data(cbody), U.DATA);
      }
    } else if (user === U.DATA) {
      if (type === TASK.BUF) {
        chunks.push(Buffer.from(h.takeBuf(t)));
        pushTask(h, exec, ex.h2_body_data(cbody), U.DATA);
      } else if (type === TASK.ERROR) {
        seen.error = true;
      }
    }
    ex.h2_task_free(t);
  });
  if (cbody) ex.h2_body_free(cbody);
  seen.body = Buffer.concat(chunks);
  return seen;
}

/** h2_respond_send_whole with the head and body written into wasm memory. */
function sendWhole(h: MemHost, respond: number, status: number, head: Uint8Array, body: Uint8Array | string): number {
  return h.with(head, (fp, fn) =>
    h.with(body, (bp, bn) => h.ex.h2_respond_send_whole(respond, status, fp, fn, bp, bn)),
  );
}

describe('h2_respond_send_whole', () => {
  it('status, headers (names lowercased) and a body in one call, as the client reads them', () => {
    const seen = exchange((ex, h, respond) => {
      const head = fieldList([
        ['Content-Type', 'text/plain'],
        ['X-Answer', 'whole'],
      ]);
      expect(sendWhole(h, respond, 201, head, 'hello, whole')).toBe(H2E.OK);
      // Answered: a second answer is refused, on either path.
      expect(sendWhole(h, respond, 200, head, 'again')).toBe(H2E.CLOSED);
      expect(ex.h2_respond_send_response(respond, ex.h2_response_new(), 1)).toBe(0);
      expect(ex.h2_last_result()).toBe(H2E.CLOSED);
    });
    expect(seen.error).toBe(false);
    expect(seen.status).toBe(201);
    expect(seen.headers).toEqual([
      ['content-type', 'text/plain'],
      ['x-answer', 'whole'],
    ]);
    expect(seen.body.toString()).toBe('hello, whole');
  });

  it('an empty body ends the stream with the head', () => {
    const seen = exchange((_ex, h, respond) => {
      expect(sendWhole(h, respond, 204, fieldList([]), '')).toBe(H2E.OK);
    });
    expect(seen.status).toBe(204);
    expect(seen.endAtHead).toBe(1);
    expect(seen.body.length).toBe(0);
  });

  it('sends no body in answer to HEAD, or with 204 or 304: the head ends the stream', () => {
    for (const [method, status] of [
      ['HEAD', 200],
      ['GET', 204],
      ['GET', 304],
    ] as const) {
      const seen = exchange(
        (_ex, h, respond) => {
          expect(sendWhole(h, respond, status, fieldList([['content-length', '4']]), 'body')).toBe(H2E.OK);
        },
        [],
        method,
      );
      expect(seen.error, `${method} ${status}`).toBe(false);
      expect(seen.status).toBe(status);
      expect(seen.endAtHead).toBe(1);
      expect(seen.body.length).toBe(0);
    }
  });

  it('a body larger than the client window is queued and arrives whole as the window opens', () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const seen = exchange(
      (_ex, h, respond) => {
        expect(sendWhole(h, respond, 200, fieldList([['content-length', String(big.length)]]), big)).toBe(H2E.OK);
      },
      [[H2_OPT.INITIAL_WINDOW_SIZE, 16_384n]],
    );
    expect(seen.error).toBe(false);
    expect(seen.body.equals(big)).toBe(true);
  });

  it('refuses, before sending anything, what it cannot send; the long way still answers', () => {
    const seen = exchange((ex, h, respond) => {
      const ok = fieldList([['x-ok', '1']]);
      expect(sendWhole(h, respond, 99, ok, 'x')).toBe(H2E.INVALID_ARG);
      expect(sendWhole(h, respond, 1000, ok, 'x')).toBe(H2E.INVALID_ARG);
      // A field list whose lengths run past its end.
      const torn = fieldList([['x-ok', '1']]).slice(0, 14);
      expect(sendWhole(h, respond, 200, torn, 'x')).toBe(H2E.INVALID_ARG);
      // A connection-specific field makes the response malformed (§8.2.2).
      expect(sendWhole(h, respond, 200, fieldList([['connection', 'close']]), 'x')).toBe(H2E.INVALID_ARG);
      // A 1xx is not a final response.
      expect(sendWhole(h, respond, 103, ok, '')).toBe(H2E.INVALID_ARG);
      expect(ex.h2_respond_send_whole(0, 200, 0, 0, 0, 0)).toBe(H2E.INVALID_ARG);
      // A body past the stream's send buffer (1 MiB by default) with the window shut.
      expect(sendWhole(h, respond, 200, ok, new Uint8Array((1 << 20) + 1))).toBe(H2E.LIMIT_EXCEEDED);
      // None of that was sent: the stream still takes its answer.
      expect(sendWhole(h, respond, 202, ok, 'after all')).toBe(H2E.OK);
    });
    expect(seen.status).toBe(202);
    expect(seen.headers).toEqual([['x-ok', '1']]);
    expect(seen.body.toString()).toBe('after all');
  });
});
