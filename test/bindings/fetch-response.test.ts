// serve({ fetch }) answers a LightResponse with a string, bytes or null body at once (no
// ReadableStream), and any other Response through its stream: both must put the same
// status, fields and body on the wire.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import { serve, LightResponse, nativeResponse } from '../../bindings/index.js';
import { call, everyBodyKind, BODY_KINDS } from './fetch-support.js';

type Fetch = (request: Request) => Response | Promise<Response>;
const Light = LightResponse as unknown as typeof Response;

async function answers(fetch: Fetch, requests: http2.OutgoingHttpHeaders[]) {
  const server = await serve({ port: 0, fetch, overrideGlobalObjects: false });
  const client = http2.connect(server.url);
  try {
    const out = [];
    for (const r of requests) out.push(await call(client, r));
    return out;
  } finally {
    client.close();
    await server.close();
  }
}

const bytes = new Uint8Array([0, 1, 2, 250, 255]);

/** The same answers from LightResponse and from the runtime's own Response. */
function routes(R: typeof Response): Fetch {
  return (req) => {
    switch (new URL(req.url).pathname) {
      case '/text':
        return new R('hello', { status: 201, headers: { 'X-Upper': 'kept', 'content-language': 'en' } });
      case '/bytes':
        return new R(bytes, { headers: [['content-type', 'application/octet-stream']] });
      case '/buffer':
        return new R(bytes.buffer);
      case '/empty':
        return new R('', { status: 200 });
      case '/null':
        return new R(null, { status: 204, headers: { 'x-none': '1' } });
      case '/cookies': {
        const h = new Headers({ 'content-type': 'text/html' });
        h.append('set-cookie', 'a=1; Path=/');
        h.append('set-cookie', 'b=2; HttpOnly');
        return new R('<p>', { headers: h });
      }
      case '/cookie-pairs':
        return new R('pairs', {
          headers: [
            ['set-cookie', 'c=3'],
            ['set-cookie', 'd=4'],
          ],
        });
      case '/padded':
        return new R('p', { headers: { 'x-pad': ' \t kept inside  ' } });
      default:
        return new R('missing', { status: 404 });
    }
  };
}

const paths = ['/text', '/bytes', '/buffer', '/empty', '/null', '/cookies', '/cookie-pairs', '/padded', '/nothing'];

describe('the Response of serve({ fetch })', () => {
  it('LightResponse answers as the native Response does: status, fields, set-cookie, bodies', async () => {
    const light = await answers(
      routes(Light),
      paths.map((p) => ({ ':path': p })),
    );
    const native = await answers(
      routes(Response),
      paths.map((p) => ({ ':path': p })),
    );
    const view = (a: (typeof light)[number]) => ({
      status: a.status,
      type: a.headers['content-type'],
      cookies: a.headers['set-cookie'],
      upper: a.headers['x-upper'],
      language: a.headers['content-language'],
      none: a.headers['x-none'],
      pad: a.headers['x-pad'],
      body: [...a.body],
    });
    expect(light.map(view)).toEqual(native.map(view));
    expect(light.map(view)).toEqual([
      { status: 201, type: 'text/plain;charset=UTF-8', upper: 'kept', language: 'en', body: [...Buffer.from('hello')] },
      { status: 200, type: 'application/octet-stream', body: [...bytes] },
      { status: 200, body: [...bytes] },
      { status: 200, type: 'text/plain;charset=UTF-8', body: [] },
      { status: 204, none: '1', body: [] },
      { status: 200, type: 'text/html', cookies: ['a=1; Path=/', 'b=2; HttpOnly'], body: [...Buffer.from('<p>')] },
      { status: 200, type: 'text/plain;charset=UTF-8', cookies: ['c=3', 'd=4'], body: [...Buffer.from('pairs')] },
      { status: 200, type: 'text/plain;charset=UTF-8', pad: 'kept inside', body: [...Buffer.from('p')] },
      { status: 404, type: 'text/plain;charset=UTF-8', body: [...Buffer.from('missing')] },
    ]);
  });

  it('answers HEAD with the fields and no body, light or native', async () => {
    const [light, native] = await Promise.all(
      [Light, Response].map((R) => answers(routes(R), [{ ':path': '/text', ':method': 'HEAD' }])),
    );
    for (const [a] of [light, native]) {
      expect([a.status, a.headers['x-upper'], a.body.length, a.dataFrames]).toEqual([201, 'kept', 0, 0]);
    }
  });

  it('sends fields changed after construction, and bytes as they were when given', async () => {
    const [a] = await answers(() => {
      const data = new Uint8Array([1, 2, 3]);
      const r = new Light(data, { headers: { 'x-a': '1' } });
      data[0] = 9; // a Response copies its BufferSource
      r.headers.set('x-b', '2');
      r.headers.append('set-cookie', 'late=1');
      return r;
    }, [{ ':path': '/' }]);
    expect([a.headers['x-a'], a.headers['x-b'], a.headers['set-cookie'], [...a.body]]).toEqual([
      '1',
      '2',
      ['late=1'],
      [1, 2, 3],
    ]);
  });

  it('a native Response answers what its body would give: cloned, read, a stream, a Blob, JSON', async () => {
    const out = await answers(
      everyBodyKind,
      BODY_KINDS.map(([p]) => ({ ':path': p })),
    );
    expect(out.map((a) => [a.headers['content-type'], a.body.toString()])).toEqual(
      BODY_KINDS.map(([, t, b]) => [t, b]),
    );
  });

  it('is a Response to its maker: instanceof, ok, text(), clone(), statics; streams what it cannot hold', async () => {
    const r = new Light('abc', { status: 202 });
    expect(r instanceof Response).toBe(true);
    expect([r.status, r.ok, r.statusText, r.headers.get('content-type')]).toEqual([
      202,
      true,
      '',
      'text/plain;charset=UTF-8',
    ]);
    expect(await r.clone().text()).toBe('abc');
    expect(await r.text()).toBe('abc');
    expect(r.bodyUsed).toBe(true);
    expect(nativeResponse(r as unknown as Response)).toBeInstanceOf(Response);
    expect(await (LightResponse as unknown as typeof Response).json({ a: 1 }).json()).toEqual({ a: 1 });
    expect(() => new Light('body', { status: 204 })).toThrow(TypeError);
    expect(() => new Light('x', { status: 99 })).toThrow(RangeError);

    const chunks = ['one ', 'two ', 'three'];
    const out = await answers(
      (req) => {
        const path = new URL(req.url).pathname;
        if (path === '/read') {
          // Its body read before it is returned: what is left goes out the streamed way.
          const used = new Light('gone');
          void used.body;
          return used;
        }
        return new Light(
          new ReadableStream({
            pull(c) {
              const next = chunks.shift();
              if (next === undefined) c.close();
              else c.enqueue(new TextEncoder().encode(next));
            },
          }),
          { status: 200, statusText: 'Fine', headers: { 'x-s': 'y' } },
        );
      },
      [{ ':path': '/stream' }, { ':path': '/read' }],
    );
    expect(out.map((a) => [a.status, a.headers['x-s'], a.body.toString()])).toEqual([
      [200, 'y', 'one two three'],
      [200, undefined, 'gone'],
    ]);
  });
});
