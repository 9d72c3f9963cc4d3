// Runtime.source(): a request body pulled from JS through the data-source path
// (h2_request_set_body + h2_host.body_read), against node:http2. A source that answers
// 'pending' is asked again only after its wake(): the engine holds a waker, never polls.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import { connect, runtime } from '../../bindings/index.js';
import { TASK } from '../../bindings/runtime.js';
import { sha } from './support.js';

describe('Runtime.source', () => {
  it("sends a body that pauses with 'pending' and goes on at wake()", async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        stream.respond({
          ':status': 200,
          'x-sha': sha(Buffer.concat(parts)),
          'x-len': String(Buffer.concat(parts).length),
        });
        stream.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      await session.ready;
      const rt = runtime();
      const ex = rt.ex;
      const body = new Uint8Array(80_000).map((_, i) => i % 251);
      let at = 0;
      let asked = 0;
      let gate = false;
      const src = rt.source((max) => {
        asked++;
        if (!gate) return 'pending';
        if (at === body.length) return null;
        const c = body.subarray(at, Math.min(body.length, at + max));
        at += c.length;
        return c;
      });
      const req = ex.h2_request_new();
      rt.with('POST', (p, n) => ex.h2_request_set_method(req, p, n));
      rt.with(`http://127.0.0.1:${port}/up`, (p, n) => ex.h2_request_set_uri(req, p, n));
      ex.h2_request_set_body(req, src.body);
      const response = rt.wait(ex.h2_clientconn_send(session.conn, req));
      await new Promise((r) => setTimeout(r, 100));
      expect(asked, 'asked once, then it waits for the wake').toBe(1);
      gate = true;
      src.wake();
      const { type, value } = await response;
      expect(type).toBe(TASK.RESPONSE);
      expect(ex.h2_response_status(value)).toBe(200);
      const headers = new Map(rt.headers(ex.h2_response_headers(value)));
      ex.h2_response_free(value);
      src.release();
      // What the server got is what the source gave, whole and in order.
      expect(headers.get('x-len')).toBe('80000');
      expect(headers.get('x-sha')).toBe(sha(body));
    } finally {
      session.close();
      await new Promise((r) => server.close(r));
    }
  });
});
