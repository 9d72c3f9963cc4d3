// serve(): the low-level handler streams as it goes, the fetch handler speaks WHATWG,
// and close() lets in-flight requests finish. node:http2 is the client, so these hold
// against a peer nobody here wrote.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import { serve } from '../../bindings/index.js';

function get(
  url: string,
  path: string,
): Promise<{ status: number; body: string; firstChunkAt: number; endAt: number }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(url);
    const start = Date.now();
    let firstChunkAt = -1;
    const req = client.request({ ':path': path });
    let status = 0;
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (d) => {
      if (firstChunkAt < 0) firstChunkAt = Date.now() - start;
      body += d;
    });
    req.on('end', () => {
      client.close();
      resolve({ status, body, firstChunkAt, endAt: Date.now() - start });
    });
    req.on('error', reject);
  });
}

describe('serve()', () => {
  it('a streamed body waiting for its next chunk holds none of the connection window', async () => {
    // node:http2's client opens 65,535 bytes of connection window: if the waiting stream
    // kept the capacity it was assigned, the other stream on the connection could not send.
    let release!: () => void;
    const later = new Promise<void>((r) => {
      release = r;
    });
    const big = new Uint8Array(200_000).fill(0x61);
    const server = await serve({
      port: 0,
      handler: (req, res) =>
        req.path === '/waiting'
          ? res.respond(
              200,
              [],
              (async function* () {
                await later;
                yield new TextEncoder().encode('late');
              })(),
            )
          : res.respond(
              200,
              [],
              (function* () {
                for (let at = 0; at < big.length; at += 50_000) yield big.subarray(at, at + 50_000);
              })(),
            ),
    });
    const client = http2.connect(server.url);
    try {
      const waiting = client.request({ ':path': '/waiting' });
      let waitingBody = '';
      waiting.setEncoding('utf8');
      waiting.on('data', (d: string) => {
        waitingBody += d;
      });
      const waitingEnd = new Promise((r) => waiting.on('end', r));
      await new Promise((r) => waiting.on('response', r));
      const other = client.request({ ':path': '/big' });
      let got = 0;
      other.on('data', (d: Buffer) => {
        got += d.length;
      });
      const answered = await Promise.race([
        new Promise((r) => other.on('end', () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 3000)),
      ]);
      expect(answered, 'the other stream was answered while the first waited').toBe(true);
      expect(got).toBe(big.length);
      release();
      await waitingEnd;
      expect(waitingBody).toBe('late');
    } finally {
      release();
      client.close();
      await server.close();
    }
  });

  it('streams a body chunk by chunk as the handler produces it', async () => {
    const server = await serve({
      port: 0,
      handler: (req, res) =>
        res.respond(
          200,
          [],
          (async function* () {
            for (let i = 0; i < 5; i++) {
              yield new TextEncoder().encode(`chunk ${i}\n`);
              await new Promise((r) => setTimeout(r, 60));
            }
          })(),
        ),
    });
    const r = await get(server.url, '/');
    await server.close();
    expect(r.status).toBe(200);
    expect(r.body.split('\n').filter(Boolean)).toHaveLength(5);
    // The first chunk left long before the last one was produced.
    expect(r.firstChunkAt).toBeLessThan(r.endAt - 150);
  });

  it('serves a WHATWG fetch handler, request body and headers included', async () => {
    const server = await serve({
      port: 0,
      fetch: async (req) =>
        new Response(`${req.method} ${new URL(req.url).pathname} ${req.headers.get('x-demo')}`, {
          status: 201,
          headers: { 'x-reply': 'yes' },
        }),
    });
    const client = http2.connect(server.url);
    const req = client.request({ ':path': '/things', ':method': 'PUT', 'x-demo': 'abc' });
    req.end('payload');
    let status = 0;
    let reply = '';
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
      reply = String(h['x-reply']);
    });
    req.on('data', (d) => {
      body += d;
    });
    await new Promise((r) => req.on('end', r));
    client.close();
    await server.close();
    expect([status, reply, body]).toEqual([201, 'yes', 'PUT /things abc']);
  });

  it('takes many requests per turn, and a head too large for one take the long way, each with its own fields', async () => {
    // 50 KB of header: past the bulk take's 32 KiB buffer, within the 64 KiB allowed.
    const big = 'x'.repeat(50_000);
    const server = await serve({
      port: 0,
      handler: (req, res) =>
        res.respond(
          200,
          [],
          `${req.method} ${req.path} ${req.authority} ${(req.headers.find(([n]) => n === 'x-big')?.[1] ?? '').length}`,
        ),
    });
    const client = http2.connect(server.url);
    const ask = (path: string, headers: Record<string, string> = {}) =>
      new Promise<string>((resolve, reject) => {
        const req = client.request({ ':path': path, ...headers });
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => resolve(body));
        req.on('error', reject);
      });
    const answers = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => ask(`/small/${i}`)),
      ask('/big', { 'x-big': big }),
      ask('/after'),
    ]);
    client.close();
    await server.close();
    const authority = new URL(server.url).host;
    expect(answers.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `GET /small/${i} ${authority} 0`));
    expect(answers[50]).toBe(`GET /big ${authority} ${big.length}`);
    expect(answers[51]).toBe(`GET /after ${authority} 0`);
  });

  it('answers each request with its own head when consecutive heads share, reorder or change strings', async () => {
    const constant: [string, string][] = [['x-kind', 'constant']];
    let n = 0;
    const server = await serve({
      port: 0,
      handler: (req, res) => {
        const i = n++;
        // The same array, a new one of the same strings, a changed value, two fields reordered.
        const heads: [string, string][][] = [
          constant,
          constant,
          [['x-kind', 'constant']],
          [['x-kind', `n${i}`]],
          [
            ['a', '1'],
            ['b', '2'],
          ],
          [
            ['b', '2'],
            ['a', '1'],
          ],
        ];
        return res.respond(200, heads[i % heads.length], `body ${i}`);
      },
    });
    const client = http2.connect(server.url);
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      seen.push(
        await new Promise<string>((resolve, reject) => {
          const req = client.request({ ':path': '/' });
          let head = '';
          let body = '';
          req.on(
            'response',
            (h) =>
              (head = Object.entries(h)
                .filter(([k]) => !k.startsWith(':') && k !== 'date')
                .map(([k, v]) => `${k}=${v}`)
                .join(',')),
          );
          req.on('data', (d) => (body += d));
          req.on('end', () => resolve(`${head} ${body}`));
          req.on('error', reject);
        }),
      );
    }
    client.close();
    await server.close();
    const expected = (i: number) =>
      [`x-kind=constant`, `x-kind=constant`, `x-kind=constant`, `x-kind=n${i}`, 'a=1,b=2', 'b=2,a=1'][i % 6] +
      ` body ${i}`;
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => expected(i)));
  });

  it('close() lets in-flight requests finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const server = await serve({
      port: 0,
      handler: async (req, res) => {
        await gate;
        await res.respond(200, [], 'finished\n');
      },
    });
    const pending = get(server.url, '/');
    await new Promise((r) => setTimeout(r, 100));
    const closed = server.close();
    setTimeout(release, 100);
    const r = await pending;
    await closed;
    expect(r).toMatchObject({ status: 200, body: 'finished\n' });
  });
});

describe('serve(): what the peer causes is counted, not reported as a handler error', () => {
  it('a response the peer resets mid-body: onStreamsLost once per connection, onError never', async () => {
    const errors: unknown[] = [];
    const lost: number[] = [];
    const server = await serve({
      port: 0,
      handler: (req, res) =>
        res.respond(
          200,
          [],
          (async function* () {
            for (;;) {
              yield new Uint8Array(16384);
              await new Promise((r) => setTimeout(r, 5));
            }
          })(),
        ),
      onError: (e) => errors.push(e),
      onStreamsLost: (n) => lost.push(n),
    });
    const client = http2.connect(server.url);
    await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<void>((resolve) => {
            const req = client.request({ ':path': '/' });
            req.once('data', () => {
              req.close(http2.constants.NGHTTP2_CANCEL);
              resolve();
            });
            req.on('error', () => {});
          }),
      ),
    );
    client.close();
    for (let i = 0; i < 200 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await server.close();
    expect(errors).toEqual([]);
    expect(lost).toEqual([3]);
  });

  it('an exception of the handler still reaches onError', async () => {
    const errors: unknown[] = [];
    const server = await serve({
      port: 0,
      handler: () => {
        throw new Error('handler bug');
      },
      onError: (e) => errors.push(e),
    });
    // Nothing was sent yet: the stream is reset with INTERNAL_ERROR (no response to give).
    await expect(get(server.url, '/')).rejects.toThrow(/INTERNAL_ERROR/);
    await server.close();
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler bug']);
  });
});
