// serve({ fetch }) hands the handler a light request: a Request as far as the handler can
// tell (instanceof, method, url, headers, body, signal, clone, new Request(request)),
// whose native Request is built only for what is not on the fast path.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import http from 'node:http';
import { serve, runtime, nativeRequest } from '../../bindings/index.js';
import { body as pattern, sha, until, sleep } from './support.js';
import { call } from './fetch-support.js';

type Fetch = (request: Request) => Response | Promise<Response>;

async function withServer<T>(fetch: Fetch, run: (client: http2.ClientHttp2Session, url: string) => Promise<T>) {
  const server = await serve({ port: 0, fetch, overrideGlobalObjects: false });
  const client = http2.connect(server.url);
  try {
    return await run(client, server.url);
  } finally {
    client.close();
    await server.close();
  }
}

describe('the request serve({ fetch }) hands the handler', () => {
  it('is a Request: instanceof, method, url, headers (cookies joined), no body on GET', async () => {
    let seen: Record<string, unknown> = {};
    const answer = await withServer(
      (req) => {
        seen = {
          instance: req instanceof Request,
          light: nativeRequest(req) !== req, // a native Request was not built for it
          tag: Object.prototype.toString.call(req),
          method: req.method,
          url: req.url,
          agent: req.headers.get('x-agent'),
          cookie: req.headers.get('cookie'),
          same: req.headers === req.headers,
          body: req.body,
          bodyUsed: req.bodyUsed,
          mode: req.mode,
          redirect: req.redirect,
        };
        return new Response('ok');
      },
      (client) => call(client, { ':path': '/a/b?c=d', 'x-agent': 'vitest', cookie: ['a=1', 'b=2'] }),
    );
    expect(answer.status).toBe(200);
    expect(seen).toMatchObject({
      instance: true,
      light: true,
      tag: '[object Request]',
      method: 'GET',
      agent: 'vitest',
      cookie: 'a=1; b=2',
      same: true,
      body: null,
      bodyUsed: false,
      mode: 'cors',
      redirect: 'follow',
    });
    expect(String(seen.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/a\/b\?c=d$/);
  });

  it('streams a large upload through request.body, chunk by chunk', async () => {
    const upload = pattern(5 * 1024 * 1024);
    let chunks = 0;
    const answer = await withServer(
      async (req) => {
        const parts: Uint8Array[] = [];
        for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
          chunks++;
          parts.push(chunk);
        }
        return new Response(sha(Buffer.concat(parts)));
      },
      (client) => call(client, { ':path': '/up', ':method': 'POST' }, upload.data),
    );
    expect(answer.body.toString()).toBe(upload.sha);
    expect(chunks).toBeGreaterThan(1);
  });

  it('reads the body with text(), json(), arrayBuffer(), bytes(), blob(); once', async () => {
    const upload = pattern(1024 * 1024);
    const answer = await withServer(
      async (req) => {
        const path = new URL(req.url).pathname;
        if (path === '/json') {
          const j = (await req.json()) as { n: number };
          return new Response(String(j.n + 1));
        }
        if (path === '/text') {
          const t = await req.text();
          const again = await req.text().then(
            () => 'read twice',
            (e: Error) => e.name,
          );
          return new Response(`${t.length} ${String(req.bodyUsed)} ${again}`);
        }
        if (path === '/blob') {
          const b = await req.blob();
          return new Response(`${b.type} ${b.size}`);
        }
        const ab = await req.arrayBuffer();
        return new Response(sha(new Uint8Array(ab)));
      },
      async (client) => [
        await call(client, { ':path': '/json', ':method': 'POST' }, '{"n":41}'),
        await call(client, { ':path': '/text', ':method': 'POST' }, 'x'.repeat(100_000)),
        await call(client, { ':path': '/blob', ':method': 'POST', 'content-type': 'text/x-test' }, 'abc'),
        await call(client, { ':path': '/bin', ':method': 'PUT' }, upload.data),
      ],
    );
    expect(answer.map((a) => a.body.toString())).toEqual(['42', '100000 true TypeError', 'text/x-test 3', upload.sha]);
  });

  it('clone() gives a second Request with the same body; new Request(request) takes it', async () => {
    const answer = await withServer(
      async (req) => {
        if (new URL(req.url).pathname === '/copy') {
          const copy = new Request(req, { headers: { 'x-copied': 'yes' } });
          return new Response(`${copy.method} ${copy.headers.get('x-copied')} ${await copy.text()}`);
        }
        const twin = req.clone();
        const [a, b] = await Promise.all([req.bytes(), twin.text()]);
        return new Response(
          `${String(twin instanceof Request)} ${new TextDecoder().decode(a)} ${b} ${String(req.bodyUsed)}`,
        );
      },
      async (client) => [
        await call(client, { ':path': '/clone', ':method': 'POST' }, 'twice'),
        await call(client, { ':path': '/copy', ':method': 'POST' }, 'moved'),
      ],
    );
    expect(answer.map((a) => a.body.toString())).toEqual(['true twice twice true', 'POST yes moved']);
  });

  it('aborts request.signal when the client resets the stream', async () => {
    let aborted: unknown;
    let started!: () => void;
    const inHandler = new Promise<void>((r) => (started = r));
    await withServer(
      (req) =>
        new Promise<Response>((resolve) => {
          req.signal.addEventListener('abort', () => {
            aborted = req.signal.reason;
            resolve(new Response('too late'));
          });
          started();
        }),
      async (client) => {
        const stream = client.request({ ':path': '/slow' });
        stream.on('error', () => {});
        await inHandler;
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await until('the handler saw the abort', () => aborted !== undefined);
      },
    );
    expect((aborted as Error).name).toBe('AbortError');
  });

  it('aborts request.signal when the connection goes', async () => {
    const { server, inHandler, aborted } = await serveUntilAborted((signal, onAbort) => (signal.onabort = onAbort));
    const client = http2.connect(server.url);
    client.on('error', () => {});
    client.request({ ':path': '/slow' }).on('error', () => {});
    await inHandler;
    client.destroy();
    await until('the handler saw the abort', aborted);
    await server.close();
  });

  it('aborts request.signal over HTTP/1.1 when the client resets its connection', async () => {
    // (A FIN alone is a half-close: such a client is still answered, so it aborts nothing.)
    const { server, inHandler, aborted } = await serveUntilAborted((signal, onAbort) =>
      signal.addEventListener('abort', onAbort),
    );
    const req = http.get(`${server.url}/slow`);
    req.on('error', () => {});
    await inHandler;
    req.socket!.resetAndDestroy();
    await until('the handler saw the abort', aborted);
    await server.close();
  });

  it('leaves request.signal alone for a request answered normally, and holds nothing after', async () => {
    const rt = runtime();
    const waiting = () => rt.waitingTasks;
    const signals: AbortSignal[] = [];
    const before = waiting();
    await withServer(
      (req) => {
        signals.push(req.signal);
        return new Response('fine');
      },
      async (client) => {
        for (let i = 0; i < 50; i++) await call(client, { ':path': `/n/${i}` });
      },
    );
    await sleep(50);
    expect(signals).toHaveLength(50);
    expect(signals.some((s) => s.aborted)).toBe(false);
    expect(waiting()).toBeLessThanOrEqual(before);
  });
});

/** A server whose fetch handler waits until its request's signal aborts (watched by
 *  `watch`), then answers; `inHandler` settles once a request is in, `aborted()` says
 *  whether the handler saw the abort. */
async function serveUntilAborted(watch: (signal: AbortSignal, onAbort: () => void) => void) {
  let seen = false;
  let started!: () => void;
  const inHandler = new Promise<void>((r) => (started = r));
  const server = await serve({
    port: 0,
    fetch: (req) =>
      new Promise<Response>((resolve) => {
        watch(req.signal, () => {
          seen = true;
          resolve(new Response(null));
        });
        started();
      }),
  });
  return { server, inHandler, aborted: () => seen };
}
