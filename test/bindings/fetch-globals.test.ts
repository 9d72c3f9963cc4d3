// serve({ fetch }) by default (as @hono/node-server) makes every `new Response(…)` (a Hono
// app's c.text()) a LightResponse, and lets `new Request(request)` take the light request
// whatever the runtime's Request reads; `overrideGlobalObjects: false` leaves the globals
// alone. Process-wide: this suite puts the globals back when it is over.
import { describe, it, expect, afterAll } from 'vitest';
import http2 from 'node:http2';
import { Hono } from 'hono';
import { serve, LightResponse, nativeResponse } from '../../bindings/index.js';
import { call } from './fetch-support.js';

const saved = { Request: globalThis.Request, Response: globalThis.Response };
afterAll(() => {
  Object.defineProperty(globalThis, 'Request', { value: saved.Request, writable: true, configurable: true });
  Object.defineProperty(globalThis, 'Response', { value: saved.Response, writable: true, configurable: true });
});

describe('serve({ fetch, overrideGlobalObjects })', () => {
  it('leaves the globals alone when asked to (overrideGlobalObjects: false)', async () => {
    const server = await serve({ port: 0, fetch: () => new Response('x'), overrideGlobalObjects: false });
    await server.close();
    expect([globalThis.Request, globalThis.Response]).toEqual([saved.Request, saved.Response]);
  });

  it('answers a Hono app through LightResponse; Request and Response stay usable', async () => {
    let made: Response | undefined;
    const app = new Hono();
    app.get('/hi', (c) => {
      made = c.text('hi from hono', 200, { 'x-app': 'hono' });
      return made;
    });
    app.post('/copy', async (c) => {
      const copy = new Request(c.req.raw, { headers: { 'x-copied': '1' } });
      return c.json({ body: await copy.text(), copied: copy.headers.get('x-copied') });
    });
    const server = await serve({ port: 0, fetch: app.fetch }); // the default
    expect(globalThis.Response).toBe(LightResponse);
    const client = http2.connect(server.url);
    const hi = await call(client, { ':path': '/hi' });
    const copy = await call(client, { ':path': '/copy', ':method': 'POST' }, 'payload');
    const missing = await call(client, { ':path': '/nope' });
    client.close();
    await server.close();
    expect(made).toBeInstanceOf(saved.Response);
    expect(nativeResponse(made!)).not.toBe(made); // a LightResponse, a native one behind it only now
    expect([hi.status, hi.headers['x-app'], hi.headers['content-type'], hi.body.toString()]).toEqual([
      200,
      'hono',
      'text/plain; charset=UTF-8',
      'hi from hono',
    ]);
    expect(JSON.parse(copy.body.toString())).toEqual({ body: 'payload', copied: '1' });
    expect(missing.status).toBe(404);
    // A native Response built from a light one is a full Response.
    const r = new Response('z', { headers: { 'x-z': '1' } });
    expect(nativeResponse(r)).toBeInstanceOf(saved.Response);
    expect(await r.text()).toBe('z');
    expect(new Request('http://h2wasm.test/').url).toBe('http://h2wasm.test/');
    // What the runtime makes itself (fetch()'s answers) is still a Request, a Response.
    expect(new saved.Response('native') instanceof Response).toBe(true);
    expect(new saved.Request('http://h2wasm.test/') instanceof Request).toBe(true);
    expect(new Request('http://h2wasm.test/') instanceof saved.Request).toBe(true);
    expect({} instanceof Response || {} instanceof Request).toBe(false);
    class Mine extends Response {}
    expect([new Mine('m') instanceof Mine, new Mine('m') instanceof Response, r instanceof Mine]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('under the default, every kind of body a handler makes answers as the native Response would', async () => {
    const server = await serve({
      port: 0,
      fetch: async (req) => {
        switch (new URL(req.url).pathname) {
          case '/cloned': {
            const r = new Response('both halves');
            void r.clone().text();
            return r;
          }
          case '/read': {
            const r = new Response('already read');
            await r.text();
            return r;
          }
          case '/stream':
            return new Response(
              new ReadableStream({
                start(c) {
                  c.enqueue(new TextEncoder().encode('streamed'));
                  c.close();
                },
              }),
            );
          case '/blob':
            return new Response(new Blob(['a blob']));
          case '/params':
            return new Response(new URLSearchParams({ q: 'a b' }));
          case '/redirect':
            return Response.redirect('http://h2wasm.test/there', 307);
          default:
            return Response.json({ ok: true });
        }
      },
    });
    expect(globalThis.Response).toBe(LightResponse);
    const client = http2.connect(server.url);
    const out = [];
    for (const p of ['/cloned', '/read', '/stream', '/blob', '/params', '/redirect', '/json'])
      out.push(await call(client, { ':path': p }));
    client.close();
    await server.close();
    expect(out.map((a) => [a.status, a.headers['content-type'] ?? a.headers.location, a.body.toString()])).toEqual([
      [200, 'text/plain;charset=UTF-8', 'both halves'],
      [200, 'text/plain;charset=UTF-8', ''],
      [200, undefined, 'streamed'],
      [200, undefined, 'a blob'],
      [200, 'application/x-www-form-urlencoded;charset=UTF-8', 'q=a+b'],
      [307, 'http://h2wasm.test/there', ''],
      [200, 'application/json', '{"ok":true}'],
    ]);
  });
});
