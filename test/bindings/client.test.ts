// The TypeScript client (connect / ClientSession / fetch) against node:http2 over h2c and
// TLS, against our own serve(), and against nghttpd when it is installed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http2 from 'node:http2';
import tls from 'node:tls';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { connect, fetch, serve, type Server } from '../../bindings/node.js';
import { H2StreamError, H2ConnectionError, type ClientSession, type ClientResponse } from '../../bindings/client.js';
import { h2wasmTrailers } from '../../bindings/fetch.js';
import { FrameLogger } from '../../bindings/frames-debug.js';
import { instantiateSync, H2Module } from '../../bindings/loader.js';
import { readFileSync } from 'node:fs';
import { WASM_URL } from '../../bindings/wasm-path.js';
import { nodeServer, makeCert, body, sha, pattern, until, freePort, which, type TestServer } from './support.js';

const SIZES = [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 1 << 20, 64 << 20];
const cert = makeCert();
if (!cert) console.log('client tests: openssl not installed, TLS tests are skipped');

/** Reads a response body to its end, hashing as it goes (no copy of the whole body). */
async function hashBody(res: ClientResponse): Promise<{ sha: string; length: number }> {
  const h = createHash('sha256');
  let length = 0;
  for await (const chunk of res.body) {
    h.update(chunk);
    length += chunk.length;
  }
  return { sha: h.digest('hex'), length };
}

const header = (res: ClientResponse, name: string) => res.headers.find(([k]) => k === name)?.[1];

for (const secure of [false, true]) {
  describe.skipIf(secure && !cert)(`client against node:http2 over ${secure ? 'TLS' : 'h2c'}`, () => {
    let server: TestServer;
    let session: ClientSession;
    beforeAll(async () => {
      server = await nodeServer(secure ? cert! : undefined);
      session = connect(server.url, secure ? { ca: cert!.cert } : {});
      await session.ready;
    });
    afterAll(async () => {
      session?.destroy();
      await server?.close();
    });

    it('sends each request its own path when paths repeat and alternate (the last target is kept encoded)', async () => {
      const paths = ['/bytes/1', '/bytes/1', '/bytes/2', '/bytes/1', '/bytes/3', '/bytes/3', '/bytes/2'];
      const lengths = [];
      for (const path of paths) lengths.push((await hashBody(await session.request({ path }))).length);
      expect(lengths).toEqual([1, 1, 2, 1, 3, 3, 2]);
    });

    for (const n of SIZES) {
      it(`downloads ${n} bytes byte-exact, with the trailer after them`, async () => {
        const res = await session.request({ path: `/bytes/${n}` });
        expect(res.status).toBe(200);
        expect(header(res, 'content-type')).toBe('application/octet-stream');
        const got = await hashBody(res);
        expect(got.length).toBe(n);
        expect(got.sha).toBe(body(n).sha);
        expect(await res.trailers()).toEqual([['x-sha', body(n).sha]]);
      });

      it(`uploads ${n} bytes byte-exact (server hashes them), with trailers both ways`, async () => {
        const id = `up-${n}`;
        const res = await session.request({
          method: 'PUT',
          path: '/echo',
          headers: [['x-id', id]],
          body: body(n).data,
          trailers: [['x-client-sum', `n${n}`]],
        });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(String(n));
        expect(header(res, 'x-sha')).toBe(body(n).sha);
        expect(server.received.get(id)?.trailers['x-client-sum']).toBe(`n${n}`);
        expect(await res.trailers()).toEqual(
          expect.arrayContaining([
            ['x-done', '1'],
            ['x-got-x-client-sum', `n${n}`],
          ]),
        );
      });
    }

    it('uploads an AsyncIterable and a ReadableStream body in odd-sized chunks', async () => {
      const data = pattern(300_001, 3);
      async function* chunks() {
        for (let at = 0; at < data.length; at += 7777) yield data.subarray(at, at + 7777);
      }
      const a = await session.request({ method: 'POST', path: '/echo', body: chunks() });
      expect(header(a, 'x-sha')).toBe(sha(data));
      await a.text();
      let at = 0;
      const rs = new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= data.length) return c.close();
          c.enqueue(data.slice(at, at + 50_000));
          at += 50_000;
        },
      });
      const b = await session.request({ method: 'POST', path: '/echo', body: rs });
      expect(header(b, 'x-sha')).toBe(sha(data));
      expect(header(b, 'x-length')).toBe(String(data.length));
      expect(await b.text()).toBe(String(data.length));
    });

    it('gives the body as a ReadableStream and through arrayBuffer()', async () => {
      const r1 = await session.request({ path: '/bytes/40000' });
      const reader = r1.stream.getReader();
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 10000; i++) {
        const { value, done } = await reader.read();
        if (done) break;
        parts.push(value);
      }
      expect(sha(Buffer.concat(parts))).toBe(body(40000).sha);
      const r2 = await session.request({ path: '/bytes/40000' });
      expect(sha(new Uint8Array(await r2.arrayBuffer()))).toBe(body(40000).sha);
    });

    it('abort mid-response: the server sees RST_STREAM CANCEL, the client an AbortError', async () => {
      const ac = new AbortController();
      const res = await session.request({ path: '/hang', signal: ac.signal });
      const it = res.body[Symbol.asyncIterator]();
      const first = await it.next();
      expect(first.done).toBe(false);
      const pending = it.next();
      ac.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await until('the server to see the reset', () => server.rst.has('/hang'));
      expect(server.rst.get('/hang')).toBe(http2.constants.NGHTTP2_CANCEL);
      // The session is still good.
      expect(await (await session.request({ path: '/id/after-abort' })).text()).toBe('after-abort');
    });

    it('an already-aborted signal rejects at once; abort before the head rejects too', async () => {
      await expect(session.request({ path: '/id/1', signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      });
      const ac = new AbortController();
      const p = session.request({ path: '/hang', signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('a reset from the server is an H2StreamError with the RFC code, not retryable', async () => {
      const e = await session.request({ path: '/reset' }).catch((x) => x);
      expect(e).toBeInstanceOf(H2StreamError);
      expect(e.code).toBe('INTERNAL_ERROR');
      expect(e.errorCode).toBe(2);
      expect(e.retryable).toBe(false);
    });

    it('1,000 concurrent requests on one session, each answered with its own body', async () => {
      const before = server.sessions.length;
      const handles = session.rt.ex.h2_handle_count();
      const results = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const r = await session.request({ path: `/id/${i}` });
          return r.text();
        }),
      );
      results.forEach((t, i) => expect(t).toBe(String(i)));
      expect(server.sessions.length).toBe(before); // no new connection
      expect(session.activeRequests).toBe(0);
      expect(session.rt.ex.h2_handle_count()).toBe(handles); // every request let go of its handles
    });

    it('server push (node:http2 pushStream) arrives through onPush when enablePush is on', async () => {
      const pushes: [string, string][] = [];
      const waits: Promise<void>[] = [];
      const s2 = connect(server.url, {
        ...(secure ? { ca: cert!.cert } : {}),
        enablePush: true,
        onPush: (p) =>
          waits.push(
            p.response.then(async (r) => {
              pushes.push([p.path, await r.text()]);
            }),
          ),
      });
      expect(await (await s2.request({ path: '/push' })).text()).toBe('<html>');
      await until('the pushed response', () => waits.length === 1);
      await Promise.all(waits);
      expect(pushes).toEqual([['/style.css', 'body { color: red }']]);
      s2.destroy();
    });

    it('ping measures a round trip', async () => {
      const rtt = await session.ping();
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(rtt).toBeLessThan(5000);
    });
  });
}

describe('client: zero-copy uploads (a streamed or large body, no-copy-feed.ts) against node:http2', () => {
  let server: TestServer;
  let session: ClientSession;
  const stalled: http2.ServerHttp2Stream[] = [];
  beforeAll(async () => {
    server = await nodeServer(undefined, (stream, headers) => {
      const path = String(headers[':path']);
      if (path === '/stall') {
        // Never read: the stream's window stays shut once the client filled it.
        stalled.push(stream);
        stream.pause();
        return true;
      }
      if (path.startsWith('/sink/')) {
        // Reads and drops the body; answers its length unless the stream was reset first.
        let length = 0;
        stream.on('data', (d: Buffer) => (length += d.length));
        stream.on('end', () => {
          if (stream.destroyed || stream.closed) return;
          stream.respond({ ':status': 200 });
          stream.end(String(length));
        });
        return true;
      }
      return false;
    });
    session = connect(server.url);
    await session.ready;
  });
  afterAll(async () => {
    session?.destroy();
    for (const s of stalled) s.destroy();
    await server?.close();
  });

  it('a source that reuses one buffer: each chunk arrives as it was when it was yielded', async () => {
    const buf = new Uint8Array(64 * 1024);
    const sent: Uint8Array[] = [];
    async function* reused() {
      for (let i = 0; i < 40; i++) {
        buf.fill(i + 1);
        buf[i] = 0xff;
        sent.push(buf.slice());
        yield buf;
      }
    }
    const res = await session.request({ method: 'POST', path: '/echo', body: reused() });
    expect(header(res, 'x-sha')).toBe(sha(Buffer.concat(sent)));
    expect(await res.text()).toBe(String(40 * 64 * 1024));
  });

  it('two streamed uploads on one session: one waiting on its source does not hold the other', async () => {
    const slowData = pattern(60_000, 4);
    const fastData = pattern(2 << 20, 5);
    async function* slow() {
      for (let at = 0; at < slowData.length; at += 20_000) {
        await new Promise((r) => setTimeout(r, 40));
        yield slowData.subarray(at, at + 20_000);
      }
    }
    async function* fast() {
      for (let at = 0; at < fastData.length; at += 100_000) yield fastData.subarray(at, at + 100_000);
    }
    const a = session.request({ method: 'POST', path: '/echo', body: slow() });
    await new Promise((r) => setTimeout(r, 10)); // the slow one is waiting on its source
    const b = await session.request({ method: 'POST', path: '/echo', body: fast() });
    expect(header(b, 'x-sha')).toBe(sha(fastData));
    await b.text();
    const ra = await a;
    expect(header(ra, 'x-sha')).toBe(sha(slowData));
    await ra.text();
  });

  it('a large Uint8Array body keeps its stream id, and trailers follow it', async () => {
    const data = pattern(3 << 20, 7);
    const res = await session.request({
      method: 'POST',
      path: '/echo',
      headers: [['x-id', 'zc-big']],
      body: data,
      trailers: [['x-client-sum', 'big']],
    });
    expect(res.streamId % 2).toBe(1);
    expect(header(res, 'x-sha')).toBe(sha(data));
    expect(await res.text()).toBe(String(data.length));
    expect(server.received.get('zc-big')?.trailers['x-client-sum']).toBe('big');
  });

  it('a source that throws: the request rejects with its error, the server sees RST_STREAM INTERNAL_ERROR', async () => {
    const boom = new Error('source failed');
    async function* failing() {
      yield pattern(100_000, 1);
      yield pattern(5_000, 2);
      throw boom;
    }
    await expect(session.request({ method: 'POST', path: '/sink/throw', body: failing() })).rejects.toBe(boom);
    await until('the server to see the reset', () => server.rst.has('/sink/throw'));
    expect(server.rst.get('/sink/throw')).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect(await (await session.request({ path: '/id/after-throw' })).text()).toBe('after-throw');
  });

  it('abort mid-upload: the source is closed, the request rejects with an AbortError, the server sees CANCEL', async () => {
    const ac = new AbortController();
    let pulled = 0;
    let closed = false;
    async function* slow() {
      try {
        for (;;) {
          pulled++;
          if (pulled === 3) ac.abort();
          yield pattern(20_000, pulled);
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        closed = true;
      }
    }
    await expect(
      session.request({ method: 'POST', path: '/sink/abort', body: slow(), signal: ac.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    await until('the source to be closed', () => closed);
    await until('the server to see the reset', () => server.rst.has('/sink/abort'));
    expect(server.rst.get('/sink/abort')).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(pulled).toBeLessThan(6);
  });

  it('backpressure: a peer that reads nothing gets its window, and the source is pulled no further', async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield pattern(16 * 1024, pulled);
      }
    }
    const ac = new AbortController();
    const p = session.request({ method: 'POST', path: '/stall', body: endless(), signal: ac.signal });
    p.catch(() => {});
    await until('the window to fill', () => pulled >= 4).catch((e) => {
      throw new Error(`${e.message}: pulled ${pulled}`);
    });
    await new Promise((r) => setTimeout(r, 300));
    // 64 KiB of window (4 chunks), what waits on the socket, one chunk in hand: nowhere near
    // what 300 ms of pulling would take.
    expect(pulled).toBeLessThan(12);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('client: connection lifecycle against node:http2', () => {
  let server: TestServer;
  const held: http2.ServerHttp2Stream[] = [];
  beforeAll(async () => {
    server = await nodeServer(undefined, (stream, headers) => {
      if (String(headers[':path']).startsWith('/held/')) {
        held.push(stream);
        return true;
      }
      return false;
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GOAWAY from the server: requests past its last stream id reject with retryable: true', async () => {
    held.length = 0;
    const session = connect(server.url);
    const ps = [1, 2, 3].map((i) =>
      session.request({ path: `/held/${i}` }).then(
        (r) => r.text(),
        (e) => e,
      ),
    );
    await until('three streams at the server', () => held.length === 3);
    const first = held[0];
    first.session!.goaway(http2.constants.NGHTTP2_NO_ERROR, first.id!);
    first.respond({ ':status': 200 });
    first.end('first');
    const [a, b, c] = await Promise.all(ps);
    expect(a).toBe('first');
    for (const e of [b, c]) {
      expect(e).toBeInstanceOf(H2StreamError);
      expect(e.retryable).toBe(true);
      expect(e.code).toBe('REFUSED_STREAM');
    }
    // No new requests on a session that got GOAWAY; they too are safe to retry.
    const late = await session.request({ path: '/id/late' }).catch((e) => e);
    expect(late).toBeInstanceOf(Error);
    expect(late.retryable).toBe(true);
    session.destroy();
  });

  it('close() is graceful: an in-flight request finishes, then the session closes', async () => {
    held.length = 0;
    const session = connect(server.url);
    const p = session.request({ path: '/held/x' });
    await until('the stream at the server', () => held.length === 1);
    const closing = session.close();
    expect(session.isOpen).toBe(false);
    held[0].respond({ ':status': 200 });
    held[0].end('done');
    expect(await (await p).text()).toBe('done');
    await closing;
  });

  it('destroy() fails in-flight requests with an error', async () => {
    held.length = 0;
    const session = connect(server.url);
    const p = session.request({ path: '/held/y' }).catch((e) => e);
    await until('the stream at the server', () => held.length === 1);
    session.destroy();
    expect(await p).toBeInstanceOf(Error);
    await session.closed;
  });

  it('connection refused rejects ready and requests with the socket error', async () => {
    const port = await freePort();
    const session = connect(`http://127.0.0.1:${port}`);
    await expect(session.ready).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(session.request({ path: '/' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  // (One that answers in HTTP/1.x fails with 'did not negotiate HTTP/2': fetch-http1.test.ts.)
  it('a server that speaks neither HTTP/2 nor HTTP/1.1 fails the handshake with an H2ConnectionError', async () => {
    const h1 = net.createServer((s) => {
      s.once('data', () => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
    });
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    const session = connect(`http://127.0.0.1:${(h1.address() as net.AddressInfo).port}`);
    const e = await session.ready.catch((x) => x);
    expect(e).toBeInstanceOf(H2ConnectionError);
    expect(e.message).toMatch(/handshake/);
    await new Promise<void>((r) => h1.close(() => r()));
  });

  it.skipIf(!cert)(
    'TLS: an untrusted certificate is refused by default and accepted with rejectUnauthorized: false',
    async () => {
      const s = await nodeServer(cert!);
      try {
        const strict = connect(s.url);
        await expect(strict.ready).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE/) });
        const lax = connect(s.url, { rejectUnauthorized: false });
        expect(await (await lax.request({ path: '/id/tls' })).text()).toBe('tls');
        lax.destroy();
      } finally {
        await s.close();
      }
    },
  );

  for (const alpn of [undefined, ['http/1.1']]) {
    it.skipIf(!cert)(`TLS: a server without h2 in ALPN (${alpn ? 'refusing h2' : 'no ALPN'}) is an error`, async () => {
      const t = tls.createServer({ key: cert!.key, cert: cert!.cert, ALPNProtocols: alpn }, (s) =>
        s.on('error', () => {}),
      );
      await new Promise<void>((r) => t.listen(0, '127.0.0.1', r));
      const session = connect(`https://127.0.0.1:${(t.address() as net.AddressInfo).port}`, {
        rejectUnauthorized: false,
      });
      await expect(session.ready).rejects.toThrow(/did not negotiate HTTP\/2/);
      await new Promise<void>((r) => t.close(() => r()));
    });
  }

  it('options are every ConnectionOptions key; a bad value throws RangeError', async () => {
    const session = connect(server.url, {
      initialWindowSize: 1 << 20,
      maxFrameSize: 1 << 16,
      headerTableSize: 0,
      maxConcurrentStreams: 10,
      keepaliveIntervalMs: 0,
    });
    expect(await (await session.request({ path: '/bytes/100000' })).bytes()).toHaveLength(100000);
    session.destroy();
    const bad = connect(server.url, { maxFrameSize: 5 });
    await expect(bad.ready).rejects.toBeInstanceOf(RangeError);
  });
});

describe('fetch() over HTTP/2', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await nodeServer();
  });
  afterAll(async () => {
    await fetch.close();
    await server?.close();
  });

  it('GET: a WHATWG Response with status, headers and a streamed body; one session per origin', async () => {
    const r = await fetch(`${server.url}/bytes/70000`);
    expect(r).toBeInstanceOf(Response);
    expect(r.status).toBe(200);
    expect(r.ok).toBe(true);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect(r.url).toBe(`${server.url}/bytes/70000`);
    expect(sha(new Uint8Array(await r.arrayBuffer()))).toBe(body(70000).sha);
    const before = server.sessions.length;
    const r2 = await fetch(new URL('/id/again', server.url));
    expect(await r2.text()).toBe('again');
    expect(server.sessions.length).toBe(before);
    expect(fetch.sessions.size).toBe(1);
  });

  it('POST with method, headers, a string body; trailers through h2wasmTrailers()', async () => {
    const r = await fetch(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'x-id': 'fetch-post', 'x-custom': 'yes' },
      body: 'hello',
    });
    expect(r.headers.get('x-method')).toBe('POST');
    expect(await r.text()).toBe('5');
    expect(await h2wasmTrailers(r)).toContainEqual(['x-done', '1']);
    const got = server.received.get('fetch-post')!;
    expect(got.headers['x-custom']).toBe('yes');
    expect(got.headers['content-type']).toBe('text/plain;charset=UTF-8');
  });

  it("streams a ReadableStream body with duplex: 'half'", async () => {
    const data = pattern(200_000, 9);
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.subarray(0, 1000));
        c.enqueue(data.subarray(1000));
        c.close();
      },
    });
    const r = await fetch(`${server.url}/echo`, { method: 'PUT', body: rs, duplex: 'half' } as RequestInit);
    expect(r.headers.get('x-sha')).toBe(sha(data));
  });

  it('404 and 503 are responses, not errors; HEAD has a null body', async () => {
    expect((await fetch(`${server.url}/status/404`)).status).toBe(404);
    const r = await fetch(`${server.url}/status/503`);
    expect(r.status).toBe(503);
    expect(await r.text()).toBe('status 503');
    const h = await fetch(`${server.url}/id/x`, { method: 'HEAD' });
    expect(h.body).toBeNull();
  });

  it("follows redirects (redirect: 'follow'), or returns them with redirect: 'manual'", async () => {
    const r = await fetch(`${server.url}/redirect/there`);
    expect(r.status).toBe(200);
    expect(r.redirected).toBe(true);
    expect(r.url).toBe(`${server.url}/id/there`);
    expect(await r.text()).toBe('there');
    const m = await fetch(`${server.url}/redirect/there`, { redirect: 'manual' });
    expect(m.status).toBe(302);
    expect(m.headers.get('location')).toBe('/id/there');
  });

  it('honours init.signal: abort mid-body errors the stream with an AbortError', async () => {
    const ac = new AbortController();
    const r = await fetch(`${server.url}/hang`, { signal: ac.signal });
    const reader = r.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    const next = reader.read();
    ac.abort();
    await expect(next).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fetch(`${server.url}/id/1`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('reconnects when the pooled session was closed by the server', async () => {
    expect(await (await fetch(`${server.url}/id/a`)).text()).toBe('a');
    const pooled = fetch.sessions.get(server.url)!;
    for (const s of server.sessions) s.close();
    await pooled.closed;
    expect(await (await fetch(`${server.url}/id/b`)).text()).toBe('b');
    expect(fetch.sessions.get(server.url)).not.toBe(pooled);
  });
});

describe('client against our own serve() (both in-process)', () => {
  let ours: Server;
  let session: ClientSession;
  beforeAll(async () => {
    ours = await serve({
      handler: async (req, res) => {
        const h = createHash('sha256');
        let n = 0;
        for await (const c of req.body()) {
          h.update(c);
          n += c.length;
        }
        const trailers = await req.trailers();
        if (req.path.startsWith('/bytes/'))
          return res.respond(200, [], body(Number(req.path.slice(7))).data, [
            ['x-sha', body(Number(req.path.slice(7))).sha],
          ]);
        await res.respond(
          200,
          [
            ['x-sha', h.digest('hex')],
            ['x-method', req.method],
          ],
          String(n),
          trailers.map(([k, v]) => [`x-got-${k}`, v]),
        );
      },
    });
    session = connect(ours.url);
  });
  afterAll(async () => {
    await session?.close();
    await ours?.close();
  });

  for (const n of [0, 16 * 1024 + 1, 1 << 20, 64 << 20]) {
    it(`${n} bytes both ways, trailers both ways`, async () => {
      const up = await session.request({ method: 'POST', path: '/up', body: body(n).data, trailers: { 'x-t': 'v' } });
      expect(up.status).toBe(200);
      expect(header(up, 'x-sha')).toBe(body(n).sha);
      expect(await up.text()).toBe(String(n));
      expect(await up.trailers()).toEqual([['x-got-x-t', 'v']]);
      const down = await session.request({ path: `/bytes/${n}` });
      expect((await hashBody(down)).sha).toBe(body(n).sha);
      expect(await down.trailers()).toEqual([['x-sha', body(n).sha]]);
    });
  }

  it('100 concurrent requests', async () => {
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        session.request({ method: 'POST', path: '/c', body: `x${i}` }).then((r) => r.text()),
      ),
    );
    all.forEach((t, i) => expect(t).toBe(String(`x${i}`.length)));
  });
});

const nghttpd = which('nghttpd');
if (!nghttpd) console.log('client tests: nghttpd not installed, its tests are skipped');

describe.skipIf(!nghttpd)('client against nghttpd (h2c)', () => {
  let proc: ChildProcess;
  let port = 0;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-nghttpd-'));
    for (const n of [0, 1 << 20, 64 << 20]) writeFileSync(join(dir, `f${n}`), body(n).data);
    writeFileSync(join(dir, 'index.html'), 'index');
    writeFileSync(join(dir, 'pushed.txt'), 'pushed body');
    for (let attempt = 0; attempt < 5 && !proc; attempt++) {
      port = await freePort();
      const p = spawn(nghttpd!, ['--no-tls', '-d', dir, '-p/=/pushed.txt', String(port)], { stdio: 'ignore' });
      const up = await waitListening(port, 5000);
      if (up) proc = p;
      else p.kill();
    }
    if (!proc) throw new Error('nghttpd did not start');
  });
  afterAll(() => {
    proc?.kill();
  });

  for (const n of [0, 1 << 20, 64 << 20]) {
    it(`fetches a ${n}-byte file verified by hash`, async () => {
      const session = connect(`http://127.0.0.1:${port}`);
      const res = await session.request({ path: `/f${n}` });
      expect(res.status).toBe(200);
      expect(await hashBody(res)).toEqual({ sha: body(n).sha, length: n });
      await session.close();
    });
  }

  it('with enablePush: true, a push (PUSH_PROMISE seen on the wire) does not disturb the response', async () => {
    const lines: string[] = [];
    const log = new FrameLogger(
      (l) => lines.push(l),
      true,
      new H2Module(instantiateSync(readFileSync(WASM_URL)).exports),
    );
    const session = connect(`http://127.0.0.1:${port}`, { enablePush: true, onBytes: (d, b) => log.feed(d, b) });
    const res = await session.request({ path: '/' });
    expect(await res.text()).toBe('index');
    expect(lines.some((l) => /recv PUSH_PROMISE frame .*stream_id=1>/.test(l))).toBe(true);
    expect(lines).toContain('          :path: /pushed.txt');
    // The session keeps working after the pushed stream.
    expect(await (await session.request({ path: '/pushed.txt' })).text()).toBe('pushed body');
    await session.close();
  });

  it('receives the pushed response /pushed.txt through onPush', async () => {
    const pushes: { path: string; status: number; text: string }[] = [];
    const done: Promise<void>[] = [];
    const session = connect(`http://127.0.0.1:${port}`, {
      enablePush: true,
      onPush: (p) =>
        done.push(
          p.response.then(async (r) => {
            pushes.push({ path: p.path, status: r.status, text: await r.text() });
          }),
        ),
    });
    expect(await (await session.request({ path: '/' })).text()).toBe('index');
    await until('the push', () => done.length === 1);
    await Promise.all(done);
    expect(pushes).toEqual([{ path: '/pushed.txt', status: 200, text: 'pushed body' }]);
    await session.close();
  });
});

async function waitListening(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
