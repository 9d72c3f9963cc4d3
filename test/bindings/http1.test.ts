// serve() answering HTTP/1.1 with the handler HTTP/2 uses: node's http client with
// keep-alive, raw sockets for what clients rarely do (pipelining, chunked bodies with
// trailers, 100-continue refused), the same Hono app over both protocols, graceful close,
// the limits of a connection's first bytes, and `http1: false`.
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Hono } from 'hono';
import { serve, type Server, type ServeOptions } from '../../bindings/index.js';
import type { IncomingRequest } from '../../bindings/server-conn.js';
import { makeCert, sleep, until } from './support.js';

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const start = async (o: Omit<ServeOptions, 'port'>) => (server = await serve({ port: 0, ...o }));

/** Writes `request` on a fresh socket and reads until the server closes it (or `ms`). */
function raw(port: number, request: string | string[], ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const parts = Array.isArray(request) ? [...request] : [request];
    socket.on('connect', async () => {
      for (const p of parts) {
        socket.write(p);
        await sleep(50);
      }
    });
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, ms);
  });
}

/** node:http GET with an agent; resolves status, headers, body and whether the socket was reused. */
function get(url: string, agent: http.Agent, headers: http.OutgoingHttpHeaders = {}, body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; reused: boolean }>(
    (resolve, reject) => {
      const req = http.request(url, { agent, headers, method: body === undefined ? 'GET' : 'POST' }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: b, reused: req.reusedSocket }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('serve(): HTTP/1.1 beside HTTP/2', () => {
  it('node:http with keep-alive: 100 requests on one socket, httpVersion 1.1', async () => {
    const versions = new Set<string>();
    await start({
      handler: (req, res) => {
        versions.add(req.httpVersion);
        return res.respond(200, [['content-type', 'text/plain']], `${req.method} ${req.path}`);
      },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let reused = 0;
    for (let i = 0; i < 100; i++) {
      const r = await get(`${server!.url}/n/${i}`, agent);
      expect([r.status, r.body, r.headers['content-length']]).toEqual([
        200,
        `GET /n/${i}`,
        String(`GET /n/${i}`.length),
      ]);
      if (r.reused) reused++;
    }
    agent.destroy();
    expect(reused).toBe(99);
    expect([...versions]).toEqual(['1.1']);
  });

  it('the handler sees the same request over both protocols: headers without the connection’s own', async () => {
    const seen: Record<string, unknown>[] = [];
    const shape = (req: IncomingRequest) => ({
      method: req.method,
      scheme: req.scheme,
      authority: req.authority,
      path: req.path,
      protocol: req.protocol,
      headers: req.headers.filter(([n]) => n === 'x-a' || n === 'host' || n === 'connection'),
    });
    await start({
      handler: (req, res) => {
        seen.push({ version: req.httpVersion, ...shape(req) });
        return res.respond(204);
      },
    });
    const agent = new http.Agent({ keepAlive: true });
    await get(`${server!.url}/p?q=1`, agent, { 'x-a': '1' });
    agent.destroy();
    const client = http2.connect(server!.url);
    await new Promise<void>((resolve, reject) => {
      const r = client.request({ ':path': '/p?q=1', 'x-a': '1' });
      r.on('response', () => r.resume());
      r.on('end', resolve).on('error', reject);
      r.end();
    });
    client.close();
    const authority = `127.0.0.1:${server!.port}`;
    const common = { method: 'GET', scheme: 'http', authority, path: '/p?q=1', protocol: '', headers: [['x-a', '1']] };
    expect(seen).toEqual([
      { version: '1.1', ...common },
      { version: '2.0', ...common },
    ]);
  });

  it('a Hono app answers both protocols identically', async () => {
    const app = new Hono();
    app.get('/hello/:name', (c) => c.text(`hello ${c.req.param('name')}`, 200, { 'x-url': c.req.url }));
    app.post('/echo', async (c) => c.json({ got: await c.req.json() }, 201, { 'x-app': 'hono' }));
    await start({ fetch: app.fetch });
    const agent = new http.Agent({ keepAlive: true });
    const h1 = [
      await get(`${server!.url}/hello/wasm`, agent),
      await get(`${server!.url}/echo`, agent, { 'content-type': 'application/json' }, '{"n":1}'),
      await get(`${server!.url}/missing`, agent),
    ].map((r) => ({ status: r.status, body: r.body, type: r.headers['content-type'], url: r.headers['x-url'] }));
    agent.destroy();
    const client = http2.connect(server!.url);
    const call = (headers: http2.OutgoingHttpHeaders, body?: string) =>
      new Promise<{ status: number; body: string; type: unknown; url: unknown }>((resolve, reject) => {
        const req = client.request(headers);
        let h: http2.IncomingHttpHeaders = {};
        let b = '';
        req.on('response', (x) => (h = x));
        req.on('data', (d) => (b += d));
        req.on('end', () =>
          resolve({ status: Number(h[':status']), body: b, type: h['content-type'], url: h['x-url'] }),
        );
        req.on('error', reject);
        req.end(body);
      });
    const h2 = [
      await call({ ':path': '/hello/wasm' }),
      await call({ ':path': '/echo', ':method': 'POST', 'content-type': 'application/json' }, '{"n":1}'),
      await call({ ':path': '/missing' }),
    ];
    client.close();
    expect(h1).toEqual(h2);
    expect(h1[0]).toEqual({
      status: 200,
      body: 'hello wasm',
      type: 'text/plain; charset=UTF-8',
      url: `${server!.url}/hello/wasm`,
    });
    expect(h1[1].status).toBe(201);
    expect(h1[2].status).toBe(404);
  });

  it('pipelining: three requests in one write, three answers in order', async () => {
    await start({ handler: (req, res) => res.respond(200, [], `answer ${req.path}\n`) });
    const out = await raw(
      server!.port,
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(out.match(/answer \/\d/g)).toEqual(['answer /1', 'answer /2', 'answer /3']);
    expect(out.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
  });

  it('a chunked request body with trailers; response trailers as chunked trailers when TE: trailers, else dropped', async () => {
    await start({
      handler: async (req, res) => {
        let body = '';
        for await (const c of req.body()) body += Buffer.from(c).toString();
        const t = await req.trailers();
        return res.respond(200, [['content-type', 'text/plain']], `${body}|${JSON.stringify(t)}`, [['x-sum', '42']]);
      },
    });
    const request = (te: string) =>
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${te}Connection: close\r\n\r\n` +
      '5\r\nhello\r\n6\r\n world\r\n0\r\nX-Check: abc\r\n\r\n';
    const withTe = await raw(server!.port, request('TE: trailers\r\n'));
    expect(withTe).toMatch(/transfer-encoding: chunked/i);
    expect(withTe).toMatch(/trailer: x-sum/i);
    expect(withTe).toContain('hello world|[["x-check","abc"]]');
    expect(withTe).toMatch(/\r\n0\r\nx-sum: 42\r\n\r\n$/);
    const without = await raw(server!.port, request(''));
    expect(without).toContain('hello world|[["x-check","abc"]]');
    expect(without).not.toMatch(/x-sum/i);
    expect(without).toMatch(/content-length: 31/i);
  });

  it('Expect: 100-continue: 100 once the handler reads; none when it answers without reading', async () => {
    await start({
      handler: async (req, res) => {
        if (req.path === '/refuse') return res.respond(413, [], 'too big\n');
        let n = 0;
        for await (const c of req.body()) n += c.length;
        return res.respond(200, [], `got ${n}\n`);
      },
    });
    const head = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    const reads = await raw(server!.port, [head('/read'), 'hello']);
    expect(reads).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(reads).toContain('got 5');
    const refuses = await raw(server!.port, head('/refuse'));
    expect(refuses).toMatch(/^HTTP\/1\.1 413 /);
    expect(refuses).not.toMatch(/100 Continue/);
  });

  it('Expect: 100-continue over HTTP/2: a 100 HEADERS once the handler reads the body', async () => {
    await start({
      handler: async (req, res) => {
        let n = 0;
        for await (const c of req.body()) n += c.length;
        return res.respond(200, [], `got ${n}`);
      },
    });
    const client = http2.connect(server!.url);
    const result = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
      const req = client.request({ ':method': 'POST', ':path': '/', expect: '100-continue' });
      let continued = false;
      let body = '';
      req.on('continue', () => {
        continued = true;
        req.end('hello'); // the body goes only after the 100
      });
      req.on('data', (d) => (body += d));
      req.on('end', () => resolve({ continued, body }));
      req.on('error', reject);
    });
    client.close();
    expect(result).toEqual({ continued: true, body: 'got 5' });
  }, 10_000);

  it('graceful close: the request in flight finishes with Connection: close; idle keep-alive sockets close', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    await start({
      handler: async (req, res) => {
        if (req.path === '/slow') {
          arrived();
          await held;
        }
        return res.respond(200, [], 'done\n');
      },
    });
    const idle = net.connect(server!.port, '127.0.0.1');
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const idleClosed = new Promise((r) => idle.on('close', r));
    idle.on('data', () => {});
    await sleep(100);
    const slow = net.connect(server!.port, '127.0.0.1');
    let slowOut = '';
    slow.on('data', (d) => (slowOut += d));
    const slowClosed = new Promise((r) => slow.on('close', r));
    slow.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await inFlight;
    const closing = server!.close();
    await idleClosed; // closed while the other request is still held
    release();
    await slowClosed;
    await closing;
    server = undefined;
    expect(slowOut).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(slowOut).toMatch(/connection: close/i);
    expect(slowOut).toMatch(/done\n$/);
  });

  it('handshakeTimeoutMs: nothing sent gets GOAWAY SETTINGS_TIMEOUT, half a request line a 408; headerTimeoutMs: a dribbled head gets 408', async () => {
    await start({
      handler: (_req, res) => res.respond(200),
      settings: { handshakeTimeoutMs: 300, headerTimeoutMs: 500 },
    });
    const t0 = Date.now();
    const silent = Buffer.from(await raw(server!.port, [], 5000), 'latin1');
    expect(Date.now() - t0).toBeLessThan(2000);
    const goaway = silent.indexOf(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]), 3);
    expect(goaway).toBeGreaterThan(0);
    expect(silent.readUInt32BE(goaway + 10)).toBe(0x4); // SETTINGS_TIMEOUT
    expect(await raw(server!.port, ['GET /long-'], 5000)).toMatch(/^HTTP\/1\.1 408 /);
    const t1 = Date.now();
    const slow = await raw(server!.port, ['GET / HTTP/1.1\r\n', 'Host: x\r\n'], 5000);
    expect(slow).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - t1).toBeLessThan(3000);
  });

  it('the first bytes decide: a request line split across writes is HTTP/1.1; neither a preface nor a request line gets GOAWAY', async () => {
    await start({ handler: (req, res) => res.respond(200, [], `over ${req.httpVersion}`) });
    const split = await raw(server!.port, ['GE', 'T / HT', 'TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(split).toMatch(/^HTTP\/1\.1 200 OK[^]*over 1\.1$/);
    const garbage = Buffer.from(await raw(server!.port, 'INVALID CONNECTION PREFACE\r\n\r\n'), 'latin1');
    // The engine's answer: its SETTINGS, then GOAWAY (type 7) PROTOCOL_ERROR (1); no HTTP/1.1 400.
    expect(garbage.toString('latin1')).not.toMatch(/HTTP\/1/);
    const goaway = garbage.indexOf(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]), 3);
    expect(goaway).toBeGreaterThan(0);
    expect(garbage.readUInt32BE(goaway + 10)).toBe(1);
  });

  it('a client that never reads its response loses the connection after writeStallTimeoutMs; the handler hears StreamClosedError', async () => {
    const lost: number[] = [];
    const piece = new Uint8Array(64 * 1024);
    await start({
      settings: { writeStallTimeoutMs: 500 },
      onStreamsLost: (n) => lost.push(n),
      handler: (_req, res) =>
        res.respond(
          200,
          [],
          (function* () {
            for (let i = 0; i < 4096; i++) yield piece; // 256 MiB: more than any socket buffer holds
          })(),
        ),
    });
    const t0 = Date.now();
    const socket = net.connect(server!.port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause(); // never reads
    // The server closed it: its connection is over, with the one stream it lost counted.
    await until('the lost stream is reported', () => lost.length > 0, 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(lost).toEqual([1]);
    socket.destroy();
  });

  it('survives what hostile or careless clients send first: a reset mid-check, an h2c upgrade whose target does not parse', async () => {
    await start({ handler: (req, res) => res.respond(200, [], `ok ${req.path}`) });
    for (const first of ['', 'G', 'GET / HTTP/1.1\r\nUpgrade: h2c\r\n']) {
      const s = net.connect(server!.port, '127.0.0.1');
      await new Promise((r) => s.on('connect', r));
      if (first) s.write(first);
      await sleep(20);
      s.resetAndDestroy(); // RST: the server's read fails with ECONNRESET
    }
    const bad = await raw(
      server!.port,
      'GET http://[/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n',
    );
    expect(bad).toMatch(/^HTTP\/1\.1 (?!101)\d\d\d /); // answered over HTTP/1.1, not upgraded, not a crash
    const agent = new http.Agent();
    expect((await get(`${server!.url}/still`, agent)).body).toBe('ok /still');
    agent.destroy();
  });

  it('a client that half-closes after its request still gets the answer', async () => {
    await start({
      handler: async (_req, res) => {
        await sleep(50);
        return res.respond(200, [], 'late answer');
      },
    });
    const out = await new Promise<string>((resolve) => {
      const s = net.connect(server!.port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); // FIN right after the request
    });
    expect(out).toMatch(/^HTTP\/1\.1 200 OK[^]*late answer$/);
  });

  it('a handler that stops reading a body and answers 413 is answered, not reset', async () => {
    await start({
      handler: async (req, res) => {
        for await (const c of req.body()) if (c.length > 0) break; // one chunk is enough to refuse
        return res.respond(413, [], 'too big\n');
      },
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${server!.url}/`,
        { method: 'POST', headers: { 'content-length': String(8 << 20) } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024));
      // The rest never comes: the handler has answered on what it saw.
    });
    expect(status).toBe(413);
  });

  it('trailers to a HEAD, a 204 or an HTTP/1.0 request are dropped, not a 500', async () => {
    await start({ handler: (req, res) => res.respond(req.path === '/204' ? 204 : 200, [], null, [['x-t', '1']]) });
    for (const [line, want] of [
      ['HEAD / HTTP/1.1', /^HTTP\/1\.1 200 /],
      ['GET /204 HTTP/1.1', /^HTTP\/1\.1 204 /],
      ['GET / HTTP/1.0', /^HTTP\/1\.1 200 /],
    ] as const) {
      const out = await raw(server!.port, `${line}\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n`);
      expect(out, line).toMatch(want);
      expect(out, line).not.toMatch(/x-t/);
    }
  });

  it('an absolute-form target (as proxies send) is the path and authority HTTP/2 would give', async () => {
    await start({ handler: (req, res) => res.respond(200, [], `${req.authority} ${req.path}`) });
    const out = await raw(
      server!.port,
      'GET http://example.test:81/a?b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(/example\.test:81 \/a\?b$/);
  });

  it('no h2c upgrade over TLS (a client without ALPN asking for one is answered over HTTP/1.1)', async () => {
    const cert = makeCert()!;
    await start({ tls: cert, handler: (req, res) => res.respond(200, [], `over ${req.httpVersion}`) });
    const out = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ port: server!.port, host: '127.0.0.1', rejectUnauthorized: false });
      let got = '';
      s.on('secureConnect', () =>
        s.write(
          'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
        ),
      );
      s.on('data', (d) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    expect(out).toMatch(/^HTTP\/1\.1 200 OK[^]*over 1\.1$/);
  });

  it('an upload that stops coming loses its connection after recvIdleTimeoutMs; the handler hears StreamClosedError', async () => {
    const lost: number[] = [];
    await start({
      settings: { recvIdleTimeoutMs: 400 },
      onStreamsLost: (n) => lost.push(n),
      handler: async (req, res) => {
        for await (const _ of req.body()) void _;
        return res.respond(200);
      },
    });
    const t0 = Date.now();
    const out = await raw(server!.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789', 5000);
    expect(out).toBe(''); // closed, unanswered
    expect(Date.now() - t0).toBeLessThan(3000);
    await until('the lost stream is reported', () => lost.length > 0, 3000);
  });

  it('h2cUpgrade: false answers an Upgrade: h2c request over HTTP/1.1', async () => {
    await start({ h2cUpgrade: false, handler: (req, res) => res.respond(200, [], `over ${req.httpVersion}`) });
    const out = await raw(
      server!.port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 OK[^]*over 1\.1$/);
  });

  it('http1: false: HTTP/2 only, cleartext and TLS', async () => {
    await start({ http1: false, handler: (_req, res) => res.respond(200, [], 'h2 only') });
    const out = await raw(server!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
    expect(out).not.toMatch(/HTTP\/1\.1/);
    await server!.close();
    const cert = makeCert()!;
    await start({ http1: false, tls: cert, handler: (_req, res) => res.respond(200) });
    const alpn = await new Promise<string>((resolve) => {
      const s = tls.connect({
        port: server!.port,
        host: '127.0.0.1',
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: false,
      });
      s.on('secureConnect', () => resolve(String(s.alpnProtocol)));
      s.on('error', (e) => resolve(e.message));
    });
    expect(alpn).toMatch(/no application protocol/);
  });

  it('over TLS, ALPN http/1.1 and a client offering no ALPN are both answered over HTTP/1.1', async () => {
    const cert = makeCert()!;
    await start({ tls: cert, handler: (req, res) => res.respond(200, [], `${req.httpVersion} ${req.scheme}`) });
    for (const ALPNProtocols of [['http/1.1'], undefined]) {
      const out = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ port: server!.port, host: '127.0.0.1', ALPNProtocols, rejectUnauthorized: false });
        let got = '';
        s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        s.on('data', (d) => (got += d));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      expect(out).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(out).toMatch(/1\.1 https$/);
    }
  });
});
