// Server push received by a raw-ABI client from node:http2 (RFC 9113 §8.4).
import { describe, it, expect, afterEach } from 'vitest';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RawHost, TASK, PSEUDO, OPT } from './raw-host.js';

const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('client-side server push', () => {
  it('receives a pushed request and its response when push is enabled', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.pushStream({ ':path': '/style.css' }, (err, push) => {
        if (err) throw err;
        push.respond({ ':status': 200, 'content-type': 'text/css' });
        push.end('body { color: red }');
      });
      stream.respond({ ':status': 200 });
      stream.end('<html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((r) => socket.once('connect', r));
    closers.push(() => {
      socket.destroy();
    });

    const host = new RawHost();
    const ex = host.ex;
    const opts = ex.h2_clientconn_options_new();
    ex.h2_clientconn_options_exec(opts, host.exec);
    expect(ex.h2_clientconn_options_set(opts, OPT.ENABLE_PUSH, 1n)).toBe(0);
    host.push(ex.h2_clientconn_handshake(host.io(socket), opts), 1);
    let conn = 0;
    await host.run((task, type) => {
      expect(type).toBe(TASK.CLIENTCONN);
      conn = ex.h2_task_value(task);
      ex.h2_task_free(task);
      return true;
    });

    host.push(ex.h2_clientconn_poll_push(conn), 2);
    const req = ex.h2_request_new();
    host.with(`http://127.0.0.1:${port}/`, (p, n) => ex.h2_request_set_uri(req, p, n));
    host.push(ex.h2_clientconn_send(conn, req), 3);
    let pushedPath = '';
    let pushedStatus = 0;
    let pushedBody = '';
    let body = 0;
    await host.run((task, type, user) => {
      if (user === 2) {
        expect(type).toBe(TASK.REQUEST);
        const preq = ex.h2_task_value(task);
        pushedPath = host.pseudo(preq, PSEUDO.PATH);
        host.push(ex.h2_request_pushed_response(preq), 4);
        expect(ex.h2_request_pushed_response(preq)).toBe(0); // once
        ex.h2_request_free(preq);
      } else if (user === 4) {
        expect(type).toBe(TASK.RESPONSE);
        const resp = ex.h2_task_value(task);
        pushedStatus = ex.h2_response_status(resp);
        body = ex.h2_response_body(resp);
        ex.h2_response_free(resp);
        host.push(ex.h2_body_data(body), 5);
      } else if (user === 5) {
        if (type === TASK.BUF) {
          pushedBody += new TextDecoder().decode(host.takeBuf(task));
          host.push(ex.h2_body_data(body), 5);
        } else {
          ex.h2_task_free(task);
          return true;
        }
      }
      ex.h2_task_free(task);
    });
    expect(pushedPath).toBe('/style.css');
    expect(pushedStatus).toBe(200);
    expect(pushedBody).toBe('body { color: red }');
    ex.h2_body_free(body);
    ex.h2_clientconn_free(conn);
  });
});
