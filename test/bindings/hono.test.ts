// A Hono app mounts on serve() with `fetch: app.fetch`, as on Deno.serve and Bun.serve.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import { Hono } from 'hono';
import { serve } from '../../bindings/index.js';

describe('Hono on serve()', () => {
  it('routes, reads JSON bodies and sets headers', async () => {
    const app = new Hono();
    app.get('/hello/:name', (c) => c.text(`hello ${c.req.param('name')}`));
    app.post('/echo', async (c) =>
      c.json({ got: await c.req.json(), ua: c.req.header('user-agent') }, 201, { 'x-app': 'hono' }),
    );
    const server = await serve({ port: 0, fetch: app.fetch });
    const client = http2.connect(server.url);
    const call = (headers: http2.OutgoingHttpHeaders, body?: string) =>
      new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = client.request(headers);
        let h: http2.IncomingHttpHeaders = {};
        let b = '';
        req.on('response', (x) => {
          h = x;
        });
        req.on('data', (d) => {
          b += d;
        });
        req.on('end', () => resolve({ status: Number(h[':status']), headers: h, body: b }));
        req.on('error', reject);
        req.end(body);
      });
    const a = await call({ ':path': '/hello/wasm' });
    const b = await call(
      { ':path': '/echo', ':method': 'POST', 'content-type': 'application/json', 'user-agent': 'test' },
      JSON.stringify({ n: 1 }),
    );
    const c = await call({ ':path': '/missing' });
    client.close();
    await server.close();
    expect([a.status, a.body]).toEqual([200, 'hello wasm']);
    expect([b.status, b.headers['x-app'], JSON.parse(b.body)]).toEqual([201, 'hono', { got: { n: 1 }, ua: 'test' }]);
    expect(c.status).toBe(404);
  });
});
