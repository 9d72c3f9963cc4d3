// serve({ fetch }) by default (as @hono/node-server) makes every `new Response(…)` (a Hono
// app's c.text()) a LightResponse, and lets `new Request(request)` take the light request
// whatever the runtime's Request reads; `overrideGlobalObjects: false` leaves the globals
// alone. Process-wide: this suite puts the globals back when it is over.
import { describe, it, expect, afterAll } from 'vitest';
import http2 from 'node:http2';
import { Hono } from 'hono';
import { serve, LightResponse, nativeResponse } from '../../bindings/index.js';
import { call, everyBodyKind, BODY_KINDS } from './fetch-support.js';

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
      fetch: (req) =>
        new URL(req.url).pathname === '/redirect'
          ? Response.redirect('http://h2wasm.test/there', 307)
          : everyBodyKind(req),
    });
    expect(globalThis.Response).toBe(LightResponse);
    const client = http2.connect(server.url);
    const out = [];
    for (const [p] of BODY_KINDS) out.push(await call(client, { ':path': p }));
    const redirect = await call(client, { ':path': '/redirect' });
    client.close();
    await server.close();
    expect(out.map((a) => [a.status, a.headers['content-type'], a.body.toString()])).toEqual(
      BODY_KINDS.map(([, t, b]) => [200, t, b]),
    );
    expect([redirect.status, redirect.headers.location, redirect.body.length]).toEqual([
      307,
      'http://h2wasm.test/there',
      0,
    ]);
  });
});
