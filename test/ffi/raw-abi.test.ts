// The raw ABI against Node's http2 (nghttp2 inside), over real loopback sockets, driven
// by a host that uses only exports and imports (raw-host.ts).
import { describe, it, expect, afterEach } from 'vitest';
import http2 from 'node:http2';
import net from 'node:net';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { RawHost, TASK, PSEUDO, OPT } from './raw-host.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function nodeServer(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void) {
  const server = http2.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true); // HTTP/2 writes small frames: Nagle would hold them back
  await new Promise<void>((r, j) => {
    socket.once('connect', r);
    socket.once('error', j);
  });
  closers.push(() => {
    socket.destroy();
  });
  return socket;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const USER = { HANDSHAKE: 1, SEND: 2, BODY: 3, TRAILERS: 4, CAPACITY: 5, ACCEPT: 6, CLOSE: 7, RESET: 8 };

/** hyper's client.c: handshake, send, read the response, then its body to the end. */
async function clientHandshake(host: RawHost, port: number, options: [number, number][] = []) {
  const ex = host.ex;
  const io = host.io(await connect(port));
  const opts = ex.h2_clientconn_options_new();
  ex.h2_clientconn_options_exec(opts, host.exec);
  for (const [k, v] of options) expect(ex.h2_clientconn_options_set(opts, k, BigInt(v))).toBe(0);
  host.push(ex.h2_clientconn_handshake(io, opts), USER.HANDSHAKE);
  let conn = 0;
  await host.run((task, type, user) => {
    expect(user).toBe(USER.HANDSHAKE);
    if (type === TASK.ERROR) throw new Error(host.errorMessage(ex.h2_task_value(task)));
    expect(type).toBe(TASK.CLIENTCONN);
    conn = ex.h2_task_value(task);
    ex.h2_task_free(task);
    return true;
  });
  return conn;
}

function request(host: RawHost, method: string, port: number, path: string): number {
  const ex = host.ex;
  const req = ex.h2_request_new();
  host.with(method, (p, n) => expect(ex.h2_request_set_method(req, p, n)).toBe(0));
  host.with(`http://127.0.0.1:${port}${path}`, (p, n) => expect(ex.h2_request_set_uri(req, p, n)).toBe(0));
  return req;
}

/** Sends `req`, waits for the response, reads the whole body and the trailers. */
async function exchange(host: RawHost, conn: number, req: number) {
  const ex = host.ex;
  host.push(ex.h2_clientconn_send(conn, req), USER.SEND);
  let status = 0;
  let headers: [string, string][] = [];
  let body: number = 0;
  const chunks: Uint8Array[] = [];
  let trailers: [string, string][] | null = null;
  await host.run((task, type, user) => {
    if (type === TASK.ERROR) throw new Error(`task ${user}: ${host.errorMessage(ex.h2_task_value(task))}`);
    if (user === USER.SEND) {
      expect(type).toBe(TASK.RESPONSE);
      const resp = ex.h2_task_value(task);
      status = ex.h2_response_status(resp);
      headers = host.headers(ex.h2_response_headers(resp));
      body = ex.h2_response_body(resp);
      ex.h2_response_free(resp);
      host.push(ex.h2_body_data(body), USER.BODY);
    } else if (user === USER.BODY) {
      if (type === TASK.BUF) {
        chunks.push(host.takeBuf(task));
        host.push(ex.h2_body_data(body), USER.BODY);
      } else {
        expect(type).toBe(TASK.EMPTY);
        host.push(ex.h2_body_trailers(body), USER.TRAILERS);
      }
    } else if (user === USER.TRAILERS) {
      if (type === TASK.TRAILERS) {
        const t = ex.h2_task_value(task);
        trailers = host.headers(t);
        ex.h2_headers_free(t);
      }
      ex.h2_task_free(task);
      ex.h2_body_free(body);
      return true;
    }
    ex.h2_task_free(task);
  });
  return { status, headers, body: Buffer.concat(chunks), trailers };
}

describe('raw ABI client against node:http2 (hyper client.c flow)', () => {
  it('GETs a page: status, headers, body', async () => {
    const port = await nodeServer((req, res) => {
      res.setHeader('x-path', req.url);
      res.end(`hello from ${req.method}`);
    });
    const host = new RawHost();
    const conn = await clientHandshake(host, port);
    const r = await exchange(host, conn, request(host, 'GET', port, '/index.html'));
    expect(r.status).toBe(200);
    expect(r.headers).toContainEqual(['x-path', '/index.html']);
    expect(r.body.toString()).toBe('hello from GET');
    expect(r.trailers).toBeNull();
    host.ex.h2_clientconn_free(conn);
  });

  it('streams an upload paced by poll_capacity, verified by hash on the server', async () => {
    let serverHash = '';
    const port = await nodeServer((req, res) => {
      const h = createHash('sha256');
      req.on('data', (d) => h.update(d));
      req.on('end', () => {
        serverHash = h.digest('hex');
        res.end('ok');
      });
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port);
    const req = request(host, 'POST', port, '/upload');
    const send = ex.h2_request_send_stream(req);
    expect(send).not.toBe(0);
    const payload = new Uint8Array(3 << 20).map((_, i) => (i * 7919) & 0xff);
    host.push(ex.h2_clientconn_send(conn, req), USER.SEND);
    let sent = 0;
    let status = 0;
    ex.h2_send_stream_reserve_capacity(send, payload.length);
    host.push(ex.h2_send_stream_poll_capacity(send), USER.CAPACITY);
    let capacityTasks = 0;
    await host.run((task, type, user) => {
      if (type === TASK.ERROR) throw new Error(host.errorMessage(ex.h2_task_value(task)));
      if (user === USER.CAPACITY) {
        capacityTasks++;
        expect(type).toBe(TASK.CAPACITY);
        const cap = ex.h2_task_value(task);
        expect(cap).toBeGreaterThan(0);
        const n = Math.min(cap, payload.length - sent);
        const end = sent + n === payload.length ? 1 : 0;
        host.with(payload.subarray(sent, sent + n), (p, len) =>
          expect(ex.h2_send_stream_send_data(send, p, len, end)).toBe(0),
        );
        sent += n;
        if (!end) host.push(ex.h2_send_stream_poll_capacity(send), USER.CAPACITY);
      } else if (user === USER.SEND) {
        status = ex.h2_response_status(ex.h2_task_value(task));
        ex.h2_task_free(task);
        return true;
      }
      ex.h2_task_free(task);
    });
    expect(status).toBe(200);
    expect(sent).toBe(payload.length);
    expect(capacityTasks).toBeGreaterThan(1); // paced by the windows, not sent at once
    expect(serverHash).toBe(sha(payload));
    ex.h2_send_stream_free(send);
  });

  it('sends a body from a data source and receives trailers', async () => {
    const port = await nodeServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.addTrailers({ 'x-length': String(Buffer.concat(parts).length) });
        res.end(Buffer.concat(parts).toString().toUpperCase());
      });
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port);
    const req = request(host, 'POST', port, '/echo');
    expect(ex.h2_request_set_body(req, host.source(new TextEncoder().encode('abc'.repeat(10000))))).toBe(0);
    const r = await exchange(host, conn, req);
    expect(r.body.toString()).toBe('ABC'.repeat(10000));
    expect(r.trailers).toContainEqual(['x-length', '30000']);
  });

  it('sends a 100 MiB body zero-copy (NO_COPY + send_data), verified by hash on the server', async () => {
    let serverHash = '';
    let received = 0;
    const port = await nodeServer((req, res) => {
      const h = createHash('sha256');
      req.on('data', (d) => {
        h.update(d);
        received += d.length;
      });
      req.on('end', () => {
        serverHash = h.digest('hex');
        res.end('ok');
      });
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port, [[OPT.MAX_FRAME_SIZE, 16384]]);
    const payload = new Uint8Array(100 << 20);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = (i / 4096) & 0xff;
    const req = request(host, 'PUT', port, '/big');
    const memoryBefore = ex.memory.buffer.byteLength;
    expect(ex.h2_request_set_body(req, host.source(payload, host.lastIo))).toBe(0);
    const r = await exchange(host, conn, req);
    expect(r.status).toBe(200);
    expect(received).toBe(payload.length);
    expect(serverHash).toBe(sha(payload));
    expect(host.zeroCopyFrames).toBeGreaterThan(1000);
    // The payload never entered linear memory.
    expect(ex.memory.buffer.byteLength - memoryBefore).toBeLessThan(8 << 20);
  }, 60000);

  it('pads DATA frames when asked, and the peer still gets the exact body', async () => {
    const port = await nodeServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => res.end(createHash('sha256').update(Buffer.concat(parts)).digest('hex')));
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port);
    const req = request(host, 'POST', port, '/pad');
    const send = ex.h2_request_send_stream(req);
    expect(ex.h2_send_stream_set_padding(send, 256)).toBe(2); // out of range
    host.push(ex.h2_clientconn_send(conn, req), USER.SEND);
    expect(ex.h2_send_stream_set_padding(send, 200)).toBe(0);
    const body = new Uint8Array(50000).map((_, i) => i & 0xff);
    host.with(body, (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 1)).toBe(0));
    let resp = 0;
    await host.run((task, type, user) => {
      if (user === USER.SEND) {
        resp = ex.h2_task_value(task);
        ex.h2_task_free(task);
        return true;
      }
      ex.h2_task_free(task);
    });
    expect(ex.h2_response_status(resp)).toBe(200);
    const b = ex.h2_response_body(resp);
    host.push(ex.h2_body_data(b), USER.BODY);
    const parts: Uint8Array[] = [];
    await host.run((task, type) => {
      if (type === TASK.BUF) {
        parts.push(host.takeBuf(task));
        host.push(ex.h2_body_data(b), USER.BODY);
        ex.h2_task_free(task);
        return false;
      }
      ex.h2_task_free(task);
      return true;
    });
    expect(Buffer.concat(parts).toString()).toBe(sha(body));
    ex.h2_send_stream_free(send);
  });

  it('sends trailers after a streamed body; node:http2 sees them', async () => {
    let seen: Record<string, unknown> = {};
    const port = await nodeServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen = { ...req.trailers };
        res.end();
      });
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port);
    const req = request(host, 'POST', port, '/t');
    const send = ex.h2_request_send_stream(req);
    host.push(ex.h2_clientconn_send(conn, req), USER.SEND);
    host.with('body', (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 0)).toBe(0));
    const t = ex.h2_headers_new();
    host.setHeader(t, 'x-checksum', 'abc123');
    expect(ex.h2_send_stream_send_trailers(send, t)).toBe(0);
    await host.run((task, type, user) => {
      ex.h2_task_free(task);
      return user === USER.SEND;
    });
    expect(seen['x-checksum']).toBe('abc123');
    ex.h2_send_stream_free(send);
  });

  it('resets a stream from our side; the server sees RST_STREAM with our code', async () => {
    let code = -1;
    const port = await nodeServer((req) => {
      req.stream.on('close', () => {
        code = req.stream.rstCode;
      });
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port);
    const req = request(host, 'POST', port, '/r');
    const send = ex.h2_request_send_stream(req);
    host.push(ex.h2_clientconn_send(conn, req), USER.SEND);
    host.push(ex.h2_send_stream_poll_reset(send), USER.RESET);
    await host.run(() => false, 200).catch(() => {});
    expect(ex.h2_send_stream_send_reset(send, 0x8)).toBe(0);
    let failed = false;
    await host.run((task, type, user) => {
      if (user === USER.SEND) {
        failed = type === TASK.ERROR;
        ex.h2_task_free(task);
        return true;
      }
      ex.h2_task_free(task);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(failed).toBe(true);
    expect(code).toBe(0x8);
    ex.h2_send_stream_free(send);
  });

  it('reports a reset from the server as an error task with the RFC code', async () => {
    const port = await nodeServer((req) => {
      req.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    });
    const host = new RawHost();
    const ex = host.ex;
    const conn = await clientHandshake(host, port);
    host.push(ex.h2_clientconn_send(conn, request(host, 'GET', port, '/')), USER.SEND);
    let reason = -1;
    await host.run((task, type) => {
      expect(type).toBe(TASK.ERROR);
      const err = ex.h2_task_value(task);
      reason = ex.h2_error_reason(err);
      ex.h2_error_free(err);
      ex.h2_task_free(task);
      return true;
    });
    expect(reason).toBe(0xb);
  });
});

describe('raw ABI server answering node:http2 clients', () => {
  async function rawServer(
    onRequest: (host: RawHost, req: number, respond: number, conn: number) => void,
    onTask: (host: RawHost, task: number, type: number, user: number) => void = () => {},
  ) {
    const host = new RawHost();
    const ex = host.ex;
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      const io = host.io(socket);
      const opts = ex.h2_serverconn_options_new();
      ex.h2_serverconn_options_exec(opts, host.exec);
      host.push(ex.h2_serverconn_handshake(io, opts), USER.HANDSHAKE);
      host.kick();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    // The server's loop: accept requests as they come; runs until the test ends.
    const loop = host
      .run((task, type, user) => {
        if (user === USER.HANDSHAKE && type === TASK.SERVERCONN) {
          const conn = ex.h2_task_value(task);
          host.push(ex.h2_serverconn_accept(conn), conn);
        } else if (type === TASK.REQUEST) {
          const req = ex.h2_task_value(task);
          const respond = ex.h2_request_respond(req);
          onRequest(host, req, respond, user);
          host.push(ex.h2_serverconn_accept(user), user);
        } else {
          onTask(host, task, type, user);
        }
        ex.h2_task_free(task);
      }, 30000)
      .catch(() => {});
    closers.push(() => loop);
    closers.push(() => host.stop()); // runs first: closers unwind in reverse
    return { host, port: (server.address() as AddressInfo).port };
  }

  function respond(host: RawHost, respond: number, status: number, body: string, headers: [string, string][] = []) {
    const ex = host.ex;
    const resp = ex.h2_response_new();
    ex.h2_response_set_status(resp, status);
    const h = ex.h2_response_headers(resp);
    for (const [k, v] of headers) host.setHeader(h, k, v);
    const send = ex.h2_respond_send_response(respond, resp, body.length === 0 ? 1 : 0);
    if (body.length > 0) {
      expect(send).not.toBe(0);
      host.with(body, (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 1)).toBe(0));
      ex.h2_send_stream_free(send);
    }
    ex.h2_respond_free(respond);
  }

  it('answers a GET', async () => {
    const { port } = await rawServer((host, req, r) => {
      const path = host.pseudo(req, PSEUDO.PATH);
      host.ex.h2_request_free(req);
      respond(host, r, 200, `you asked for ${path}`, [['content-type', 'text/plain']]);
    });
    const client = http2.connect(`http://127.0.0.1:${port}`);
    closers.push(() => {
      client.close();
    });
    const stream = client.request({ ':path': '/hello' });
    const parts: Buffer[] = [];
    let status = 0;
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('data', (d) => parts.push(d));
    await new Promise((r) => stream.on('end', r));
    expect(status).toBe(200);
    expect(Buffer.concat(parts).toString()).toBe('you asked for /hello');
  });

  it('reads a request body and trailers sent by node:http2, and echoes them back', async () => {
    // Task userdata: 1000 + n reads body n, 2000 + n its trailers.
    const BODY = 1000,
      TRAIL = 2000;
    const bodies: { body: number; respond: number; chunks: Uint8Array[] }[] = [];
    const { port } = await rawServer(
      (host, req, r) => {
        const ex = host.ex;
        const body = ex.h2_request_body(req);
        ex.h2_request_free(req);
        bodies.push({ body, respond: r, chunks: [] });
        host.push(ex.h2_body_data(body), BODY + bodies.length - 1);
      },
      (host, task, type, user) => {
        const ex = host.ex;
        if (user < BODY) return;
        const n = user % 1000;
        const s = bodies[n];
        if (user < TRAIL) {
          if (type === TASK.BUF) {
            s.chunks.push(host.takeBuf(task));
            host.push(ex.h2_body_data(s.body), user);
          } else {
            expect(type).toBe(TASK.EMPTY);
            host.push(ex.h2_body_trailers(s.body), TRAIL + n);
          }
        } else {
          const t = type === TASK.TRAILERS ? ex.h2_task_value(task) : 0;
          const trailers = t ? host.headers(t) : [];
          if (t) ex.h2_headers_free(t);
          ex.h2_body_free(s.body);
          const text = Buffer.concat(s.chunks).toString();
          respond(host, s.respond, 200, `${text}|${trailers.map(([k, v]) => `${k}=${v}`).join(',')}`);
        }
      },
    );
    const client = http2.connect(`http://127.0.0.1:${port}`);
    closers.push(() => {
      client.close();
    });
    const stream = client.request({ ':method': 'POST', ':path': '/up' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sum': '42' }));
    stream.end('payload');
    const parts: Buffer[] = [];
    stream.on('data', (d) => parts.push(d));
    await new Promise((r) => stream.on('end', r));
    expect(Buffer.concat(parts).toString()).toBe('payload|x-sum=42');
  });
  it('graceful shutdown: in-flight requests finish with their full bodies, a later one is refused, poll_close is EMPTY', async () => {
    let conn = 0;
    const responds: [string, number][] = [];
    let acceptEnded = false;
    let closeType = -1;
    const { host, port } = await rawServer(
      (h, req, r, c) => {
        conn = c;
        responds.push([h.pseudo(req, PSEUDO.PATH), r]);
        h.ex.h2_request_free(req);
      },
      (h, task, type, user) => {
        if (user === USER.CLOSE) {
          closeType = type;
          if (type === TASK.ERROR) h.ex.h2_error_free(h.ex.h2_task_value(task));
        } else if (user === conn && type === TASK.EMPTY) {
          acceptEnded = true; // accept: no more requests will come
        }
      },
    );
    const until = async (what: string, cond: () => boolean, ms = 10000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const client = http2.connect(`http://127.0.0.1:${port}`);
    closers.push(() => {
      client.destroy();
    });
    client.on('error', () => {});
    const goaway = new Promise<[number, number]>((r) =>
      client.once('goaway', (code, lastStreamId) => r([code, lastStreamId])),
    );
    const fetch = (path: string) =>
      new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const stream = client.request({ ':path': path });
        let status = 0;
        const parts: Buffer[] = [];
        stream.on('response', (h) => {
          status = Number(h[':status']);
        });
        stream.on('data', (d) => parts.push(d));
        stream.on('end', () => resolve({ status, body: Buffer.concat(parts) }));
        stream.on('error', reject);
      });
    const paths = ['/a', '/b', '/c'];
    const inFlight = paths.map(fetch);
    await until('three requests at the server', () => responds.length === 3);

    expect(host.ex.h2_serverconn_graceful_shutdown(conn)).toBe(0);
    host.push(host.ex.h2_serverconn_poll_close(conn), USER.CLOSE);
    host.kick();
    const [code] = await goaway;
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);

    // A request started after the shutdown is refused.
    const late = await new Promise<Error & { code?: string }>((resolve) => {
      try {
        const stream = client.request({ ':path': '/late' });
        stream.on('error', (e) => resolve(e));
        stream.on('response', () =>
          resolve(Object.assign(new Error('the late request was answered'), { code: 'ANSWERED' })),
        );
      } catch (e) {
        resolve(e as Error);
      }
    });
    expect(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_STREAM_ERROR']).toContain(late.code);
    if (late.code === 'ERR_HTTP2_STREAM_ERROR') expect(late.message).toMatch(/REFUSED_STREAM/);

    // The in-flight requests are answered only now, each with a body larger than a window.
    const bodyFor = (path: string) => `${path}:`.padEnd(100_000, path.slice(1));
    for (const [path, r] of responds) respond(host, r, 200, bodyFor(path));
    host.kick();
    const results = await Promise.all(inFlight);
    results.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(bodyFor(paths[i]));
    });
    await until('poll_close', () => closeType !== -1);
    expect(closeType).toBe(TASK.EMPTY);
    expect(acceptEnded).toBe(true);
    expect(responds.map(([p]) => p).sort()).toEqual(paths); // '/late' never reached the server
  });
});
