// The H2E code a failed send reports is the same on every path (assembly/ffi/errors.ts
// codeOfResult): a head larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE is
// H2E_LIMIT_EXCEEDED whether it is a response or a pushed request (a push used to report
// H2E_CLOSED for it), and the connection goes on.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, TASK, H2E } from './mem-host.js';
import { H2_OPT } from '../../bindings/abi.js';

const LIMIT = 256;

/** A client that announces a small header-list limit and takes pushes, a server, and one
 *  request accepted: the server's respond handle. */
function accepted() {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(
    h,
    exec,
    h,
    exec,
    [],
    [
      [H2_OPT.MAX_HEADER_LIST_SIZE, BigInt(LIMIT)],
      [H2_OPT.ENABLE_PUSH, 1n],
    ],
  );
  const req = ex.h2_request_new();
  h.with('http://x/page', (p, n) => ex.h2_request_set_uri(req, p, n));
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), 1);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), 2);
  let respond = 0;
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === 2 && type === TASK.REQUEST) {
      const sreq = ex.h2_task_value(t);
      respond = ex.h2_request_respond(sreq);
      ex.h2_request_free(sreq);
    }
    ex.h2_task_free(t);
  });
  expect(respond).not.toBe(0);
  return { h, ex, exec, respond };
}

const addHeader = (h: MemHost, headers: number, name: string, value: string) =>
  h.with(name, (np, nn) => h.with(value, (vp, vn) => h.ex.h2_headers_add(headers, np, nn, vp, vn)));

describe('the code of a failed send', () => {
  it("a pushed request over the peer's header-list limit: 0 and H2E_LIMIT_EXCEEDED", () => {
    const { h, ex, respond } = accepted();
    const pushed = ex.h2_request_new();
    h.with('http://x/style.css', (p, n) => ex.h2_request_set_uri(pushed, p, n));
    expect(addHeader(h, ex.h2_request_headers(pushed), 'x-big', 'v'.repeat(LIMIT))).toBe(H2E.OK);
    expect(ex.h2_respond_push(respond, pushed)).toBe(0);
    expect(ex.h2_last_result()).toBe(H2E.LIMIT_EXCEEDED);
  });

  it("a response over the peer's header-list limit: 0 and H2E_LIMIT_EXCEEDED, and a smaller one goes out", () => {
    const { h, ex, exec, respond } = accepted();
    const big = ex.h2_response_new();
    expect(addHeader(h, ex.h2_response_headers(big), 'x-big', 'v'.repeat(LIMIT))).toBe(H2E.OK);
    expect(ex.h2_respond_send_response(respond, big, 1)).toBe(0);
    expect(ex.h2_last_result()).toBe(H2E.LIMIT_EXCEEDED);
    const small = ex.h2_response_new();
    ex.h2_response_set_status(small, 204);
    expect(ex.h2_respond_send_response(respond, small, 1)).toBe(0); // END_STREAM with the head
    expect(ex.h2_last_result()).toBe(H2E.OK);
    let got = 0;
    pump([[h, exec]], (_h, t, type, user) => {
      if (user === 1 && type === TASK.RESPONSE) got = ex.h2_response_status(ex.h2_task_value(t));
      ex.h2_task_free(t);
    });
    expect(got, 'the client got the smaller response').toBe(204);
  });
});
