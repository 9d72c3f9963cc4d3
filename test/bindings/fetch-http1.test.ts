// fetch() and `h2wasm get` against origins that speak only HTTP/1.1 (node:http in
// cleartext, node:https with ALPN http/1.1): the same WHATWG Response over the HTTP/1.1
// sender, the origin's protocol remembered; connect() still refuses them in clear words.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, fetch } from '../../bindings/node.js';
import { createFetch, h2wasmTrailers, type H2RequestInit } from '../../bindings/fetch.js';
import { http1Sender } from '../../bindings/http1-client.js';
import { recorded } from '../interop/record.js';
import { cliPutArgs, makeCert, nodeServer, runCli, sha, type TestServer } from './support.js';

const VERSION = process.versions.node;
const RANDOM = randomBytes(1 << 20);
const cert = makeCert();

interface H1Server {
  url: string;
  /** TCP connections accepted. */
  connections: number;
  /** Connections whose first bytes were the HTTP/2 preface (cleartext only). */
  prefaces: number;
  /** The request headers of each /echo, by x-id. */
  seen: Map<string, http.IncomingHttpHeaders>;
  close(): Promise<void>;
}

/**
 * A node:http (or node:https, ALPN http/1.1 only) server:
 *   /random      1 MiB of random bytes, content-length
 *   /chunked     the same bytes chunked, then the trailer x-sha
 *   /echo        the request body back; x-method, x-framing (content-length or chunked)
 *   /headers     x-one, two set-cookie fields, 'ok'
 *   /status/N    status N, body 'status N'
 *   /redirect/X  302 to /id/X;  /id/X: the text X
 *   /hang        headers and 1000 bytes, then nothing
 */
async function h1Server(tlsCert?: { key: Buffer; cert: Buffer }): Promise<H1Server> {
  const seen = new Map<string, http.IncomingHttpHeaders>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? '/';
    if (path === '/random') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': RANDOM.length });
      res.end(RANDOM);
    } else if (path === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', trailer: 'x-sha' });
      for (let at = 0; at < RANDOM.length; at += 100_000) res.write(RANDOM.subarray(at, at + 100_000));
      res.addTrailers({ 'x-sha': sha(RANDOM) });
      res.end();
    } else if (path === '/echo') {
      seen.set(String(req.headers['x-id'] ?? ''), req.headers);
      res.writeHead(200, {
        'x-method': req.method,
        'x-framing': req.headers['transfer-encoding'] ?? `content-length ${req.headers['content-length']}`,
      });
      req.pipe(res);
    } else if (path === '/headers') {
      res.setHeader('x-one', '1');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    } else if (path.startsWith('/status/')) {
      res.writeHead(Number(path.slice(8)));
      res.end(`status ${path.slice(8)}`);
    } else if (path.startsWith('/redirect/')) {
      res.writeHead(302, { location: `/id/${path.slice(10)}` });
      res.end('moved');
    } else if (path.startsWith('/id/')) {
      res.end(path.slice(4));
    } else if (path === '/hang') {
      res.writeHead(200);
      res.write(new Uint8Array(1000));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  };
  const server = tlsCert
    ? https.createServer({ key: tlsCert.key, cert: tlsCert.cert, ALPNProtocols: ['http/1.1'] }, handler)
    : http.createServer(handler);
  const out: H1Server = {
    url: '',
    connections: 0,
    prefaces: 0,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  server.on('connection', (s: net.Socket) => {
    out.connections++;
    if (!tlsCert)
      s.once('data', (d: Buffer) => {
        if (d.subarray(0, 6).toString('latin1') === 'PRI * ') out.prefaces++;
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  out.url = `${tlsCert ? 'https' : 'http'}://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return out;
}

/** `h2wasm get …args`, run without blocking this process's event loop (the servers live here). */
const get = (args: string[], timeoutMs = 30000) => runCli(['get', ...args], timeoutMs);

const bytesOf = async (r: Response) => new Uint8Array(await r.arrayBuffer());
const CLEAR = 'h2wasm fetch() → peer server (HTTP/1.1, cleartext)';
const SECURE = 'h2wasm fetch() → peer server (HTTP/1.1, TLS)';

const servers: H1Server[] = [];
let plain: H1Server;
let secure: H1Server;
beforeAll(async () => {
  // The TLS rows need a certificate: without openssl they fail rather than skip.
  expect(cert, 'openssl makes the test certificate').not.toBeNull();
  plain = await h1Server();
  secure = await h1Server(cert!);
  servers.push(plain, secure);
});
afterAll(async () => {
  await fetch.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('fetch() against node:http (HTTP/1.1, cleartext)', () => {
  it('remembers the origin speaks HTTP/1.1: h2 is tried once, later requests reuse one connection', async () => {
    const s = await h1Server();
    servers.push(s);
    await recorded('node:http', VERSION, CLEAR, 'h2 tried once, then HTTP/1.1 kept alive', async () => {
      expect(await (await fetch(`${s.url}/id/first`)).text()).toBe('first');
      expect(s.prefaces).toBe(1);
      expect(s.connections).toBe(2); // the h2c attempt, then the HTTP/1.1 connection
      for (const id of ['a', 'b', 'c']) expect(await (await fetch(`${s.url}/id/${id}`)).text()).toBe(id);
      expect(s.prefaces).toBe(1);
      expect(s.connections).toBe(2);
      expect(fetch.sessions.has(s.url)).toBe(false);
    });
  });

  it('GET: 1 MiB of random bytes byte for byte, with its headers and url', async () => {
    await recorded('node:http', VERSION, CLEAR, 'GET 1 MiB random by sha256', async () => {
      const r = await fetch(`${plain.url}/random`);
      expect(r).toBeInstanceOf(Response);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      expect(r.headers.get('content-length')).toBe(String(RANDOM.length));
      expect(r.url).toBe(`${plain.url}/random`);
      expect(r.redirected).toBe(false);
      const got = await bytesOf(r);
      expect(got.length).toBe(RANDOM.length);
      expect(sha(got)).toBe(sha(RANDOM));
    });
  });

  it('a chunked body streams, and its trailers come through h2wasmTrailers()', async () => {
    await recorded('node:http', VERSION, CLEAR, 'chunked body and trailers', async () => {
      const r = await fetch(`${plain.url}/chunked`);
      expect(r.headers.get('transfer-encoding')).toBe('chunked');
      const reader = r.body!.getReader();
      let n = 0;
      let chunks = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        n += value.length;
        chunks++;
      }
      expect(n).toBe(RANDOM.length);
      expect(chunks).toBeGreaterThan(1);
      expect(await h2wasmTrailers(r)).toEqual([['x-sha', sha(RANDOM)]]);
    });
  });

  it('POST: a body in bytes and a streamed body are echoed byte for byte, headers sent', async () => {
    await recorded('node:http', VERSION, CLEAR, 'POST body echoed by sha256', async () => {
      const data = randomBytes(300_000);
      const r = await fetch(`${plain.url}/echo`, {
        method: 'POST',
        headers: { 'x-id': 'bytes', 'x-custom': 'yes', 'content-type': 'application/x-test' },
        body: data,
      });
      expect(r.headers.get('x-method')).toBe('POST');
      expect(r.headers.get('x-framing')).toBe(`content-length ${data.length}`);
      expect(sha(await bytesOf(r))).toBe(sha(data));
      const h = plain.seen.get('bytes')!;
      expect(h['x-custom']).toBe('yes');
      expect(h['content-type']).toBe('application/x-test');
      expect(h.host).toBe(new URL(plain.url).host);
      expect(h['accept-encoding']).toBeUndefined();

      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(data.subarray(0, 1000));
          c.enqueue(data.subarray(1000));
          c.close();
        },
      });
      const s = await fetch(`${plain.url}/echo`, {
        method: 'PUT',
        headers: { 'x-id': 'stream' },
        body: stream,
        duplex: 'half',
      } satisfies H2RequestInit);
      expect(s.headers.get('x-method')).toBe('PUT');
      expect(s.headers.get('x-framing')).toBe('chunked');
      expect(sha(await bytesOf(s))).toBe(sha(data));
    });
  });

  it('offers HTTP/2 again once protocolTtlMs has passed (an origin is not pinned to HTTP/1.1 for good)', async () => {
    const s = await h1Server();
    servers.push(s);
    const short = createFetch(
      (origin, options) => connect(origin, { ...options, unrefWhenIdle: true }, { offerHttp1: true }),
      http1Sender(),
      { protocolTtlMs: 200 },
    );
    try {
      expect(await (await short(`${s.url}/id/a`)).text()).toBe('a');
      expect(await (await short(`${s.url}/id/b`)).text()).toBe('b');
      expect(s.prefaces).toBe(1); // remembered
      await new Promise((r) => setTimeout(r, 300));
      expect(await (await short(`${s.url}/id/c`)).text()).toBe('c');
      expect(s.prefaces).toBe(2); // asked again, found HTTP/1.1 again
    } finally {
      await short.close();
    }
  });

  it('a streamed body to an origin not yet known is not consumed by the failed h2 attempt', async () => {
    const s = await h1Server();
    servers.push(s);
    const data = randomBytes(50_000);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data);
        c.close();
      },
    });
    const r = await fetch(`${s.url}/echo`, { method: 'POST', body: stream, duplex: 'half' } satisfies H2RequestInit);
    expect(sha(await bytesOf(r))).toBe(sha(data));
    expect(s.prefaces).toBe(1);
  });

  it('response headers, repeated set-cookie included; 404 and 503 are responses; HEAD has no body', async () => {
    await recorded('node:http', VERSION, CLEAR, 'headers, 404, HEAD', async () => {
      const r = await fetch(`${plain.url}/headers`);
      expect(r.headers.get('x-one')).toBe('1');
      expect(r.headers.get('content-type')).toBe('text/plain');
      expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
      expect(await r.text()).toBe('ok');
      const nf = await fetch(`${plain.url}/status/404`);
      expect(nf.status).toBe(404);
      expect(nf.ok).toBe(false);
      expect(await nf.text()).toBe('status 404');
      const su = await fetch(`${plain.url}/status/503`);
      expect(su.status).toBe(503);
      expect(await su.text()).toBe('status 503');
      const head = await fetch(`${plain.url}/random`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBeNull();
    });
  });

  it("follows a 302 from the HTTP/1.1 origin, or returns it with redirect: 'manual'", async () => {
    await recorded('node:http', VERSION, CLEAR, '302 followed', async () => {
      expect(await (await fetch(`${plain.url}/id/warm`)).text()).toBe('warm');
      const before = plain.connections;
      const r = await fetch(`${plain.url}/redirect/there`);
      expect(r.status).toBe(200);
      expect(r.redirected).toBe(true);
      expect(r.url).toBe(`${plain.url}/id/there`);
      expect(await r.text()).toBe('there');
      // The 302's body was read and dropped: the next hop went on the same connection.
      expect(plain.connections).toBe(before);
      const m = await fetch(`${plain.url}/redirect/there`, { redirect: 'manual' });
      expect(m.status).toBe(302);
      expect(m.headers.get('location')).toBe('/id/there');
      expect(await m.text()).toBe('moved');
    });
  });

  it('a redirect from an HTTP/2 origin to the HTTP/1.1 one goes on over HTTP/1.1', async () => {
    let h2: TestServer | undefined;
    try {
      h2 = await nodeServer(undefined, (stream, headers) => {
        if (headers[':path'] !== '/away') return false;
        stream.respond({ ':status': 302, location: `${plain.url}/id/moved` });
        stream.end();
        return true;
      });
      const r = await fetch(`${h2.url}/away`);
      expect(r.status).toBe(200);
      expect(r.url).toBe(`${plain.url}/id/moved`);
      expect(await r.text()).toBe('moved');
      // The HTTP/2 origin stayed on HTTP/2.
      expect(fetch.sessions.has(h2.url)).toBe(true);
      expect(h2.sessions.length).toBe(1);
      expect(await (await fetch(`${h2.url}/id/still-h2`)).text()).toBe('still-h2');
      expect(h2.sessions.length).toBe(1);
    } finally {
      await fetch.sessions.get(h2?.url ?? '')?.close();
      await h2?.close();
    }
  });

  it('a kept-alive connection closed under a request: an idempotent one goes again on a new one, a POST fails', async () => {
    // Answers the first request of each connection; closes it at the second (as a server
    // whose keep-alive timer fired just as the request went out).
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      let requests = 0;
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        if (text.startsWith('PRI * HTTP/2.0')) {
          socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
          return;
        }
        requests += (text.match(/^(GET|POST) \//gm) ?? []).length;
        if (requests >= 2) socket.destroy();
        else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(raw.address() as net.AddressInfo).port}`;
    try {
      expect(await (await fetch(`${url}/a`)).text()).toBe('ok');
      expect(connections).toBe(2); // the h2c attempt, then HTTP/1.1
      expect(await (await fetch(`${url}/b`)).text()).toBe('ok');
      expect(connections).toBe(3);
      await expect(fetch(`${url}/c`, { method: 'POST', body: 'x' })).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(connections).toBe(3);
    } finally {
      await new Promise<void>((r) => {
        raw.close(() => r());
        for (const s of sockets) s.destroy();
      });
    }
  });

  it('abort mid-body errors the stream with an AbortError', async () => {
    const ac = new AbortController();
    const r = await fetch(`${plain.url}/hang`, { signal: ac.signal });
    const reader = r.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    const next = reader.read();
    ac.abort();
    await expect(next).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fetch(`${plain.url}/id/1`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe("createFetch's default HTTP/1.1 sender (the platform's fetch, one hop at a time)", () => {
  it('gets the body, and the redirect is followed by our loop, hop by hop', async () => {
    const own = createFetch((origin, options) => connect(origin, options, { offerHttp1: true }));
    try {
      const r = await own(`${plain.url}/redirect/platform`);
      expect(r.status).toBe(200);
      expect(r.redirected).toBe(true);
      expect(r.url).toBe(`${plain.url}/id/platform`);
      expect(await r.text()).toBe('platform');
      expect(await h2wasmTrailers(r)).toEqual([]);
      const big = await own(`${plain.url}/random`);
      expect(sha(await bytesOf(big))).toBe(sha(RANDOM));
      expect(own.sessions.size).toBe(0);
    } finally {
      await own.close();
    }
  });
});

describe('fetch() against node:https with ALPN http/1.1 only', () => {
  it('GET 1 MiB byte for byte (rejectUnauthorized: false); h2 tried once', async () => {
    await recorded('node:https', VERSION, SECURE, 'GET 1 MiB random by sha256', async () => {
      const r = await fetch(`${secure.url}/random`, { h2: { rejectUnauthorized: false } } satisfies H2RequestInit);
      expect(r.status).toBe(200);
      expect(sha(await bytesOf(r))).toBe(sha(RANDOM));
      expect(secure.connections).toBe(2); // the TLS handshake that chose http/1.1, then HTTP/1.1
      const again = await fetch(`${secure.url}/chunked`, { h2: { rejectUnauthorized: false } } satisfies H2RequestInit);
      expect(sha(await bytesOf(again))).toBe(sha(RANDOM));
      expect(await h2wasmTrailers(again)).toEqual([['x-sha', sha(RANDOM)]]);
      expect(secure.connections).toBe(2);
    });
  });

  it('honours init.h2 TLS settings on HTTP/1.1: the certificate is refused by default, trusted with ca', async () => {
    await recorded('node:https', VERSION, SECURE, 'ca / rejectUnauthorized honoured', async () => {
      await expect(fetch(`${secure.url}/id/strict`)).rejects.toMatchObject({
        code: expect.stringMatching(/SELF_SIGNED|UNABLE/),
      });
      const r = await fetch(`${secure.url}/echo`, {
        method: 'POST',
        body: 'with ca',
        h2: { ca: cert!.cert },
      } satisfies H2RequestInit);
      expect(await r.text()).toBe('with ca');
    });
  });
});

describe('h2wasm get against HTTP/1.1 origins', () => {
  it('node:http: stdout is the body byte for byte; -X, -H, -d @file go as given', async () => {
    await recorded(
      'node:http',
      VERSION,
      'h2wasm get → peer server (HTTP/1.1, cleartext)',
      'body by sha256',
      async () => {
        const r = await get([`${plain.url}/random`]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBe(RANDOM.length);
        expect(sha(r.stdout)).toBe(sha(RANDOM));
        const dir = mkdtempSync(join(tmpdir(), 'h2wasm-get1-'));
        const data = randomBytes(70_000);
        writeFileSync(join(dir, 'up.bin'), data);
        const p = await get(cliPutArgs(join(dir, 'up.bin'), `${plain.url}/echo`));
        expect(p.code).toBe(0);
        expect(sha(p.stdout)).toBe(sha(data));
        const h = plain.seen.get('cli-put')!;
        expect(h['x-mixed']).toBe('Case');
        expect(h['content-length']).toBe(String(data.length));
      },
    );
  });

  it('-v says in one line that the origin speaks HTTP/1.1 and the request went over it', async () => {
    const r = await get(['-v', `${plain.url}/id/verbose`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('verbose');
    const lines = r.stderr.split('\n').filter((l) => /HTTP\/1\.1/.test(l));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^h2wasm: .*did not negotiate HTTP\/2.*it speaks HTTP\/1\.1, the request went over HTTP\/1\.1$/,
    );
  });

  it('node:https with -k: stdout is the body byte for byte; without -k one line about the certificate', async () => {
    await recorded('node:https', VERSION, 'h2wasm get → peer server (HTTP/1.1, TLS)', 'body by sha256', async () => {
      const r = await get(['-k', `${secure.url}/chunked`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(sha(r.stdout)).toBe(sha(RANDOM));
    });
    const strict = await get([`${secure.url}/random`]);
    expect(strict.code).toBe(1);
    expect(strict.stdout.length).toBe(0);
    expect(strict.stderr).toMatch(/^h2wasm: TLS: .*\(use -k to accept it\)\n$/);
  });
});

describe('connect() to an HTTP/1.1 origin is still an error, in clear words', () => {
  const refused = async (session: ReturnType<typeof connect>) => {
    const e = await session.ready.then(
      () => null,
      (x: Error) => x,
    );
    expect(e).toBeInstanceOf(Error);
    expect(e!.message).toMatch(/did not negotiate HTTP\/2/);
    expect(e!.message).not.toMatch(/PROTOCOL_ERROR|FRAME_SIZE/);
    expect(e).toMatchObject({ code: 'H2WASM_NOT_HTTP2', http1: true });
    await expect(session.request({ path: '/' })).rejects.toBe(e);
    await session.closed;
  };

  it('node:http (cleartext): the HTTP/1.1 answer to the preface', async () => {
    await recorded(
      'node:http',
      VERSION,
      'h2wasm connect() → peer server (HTTP/1.1, cleartext)',
      'refused: did not negotiate HTTP/2',
      async () => {
        const session = connect(plain.url);
        await refused(session);
      },
    );
  });

  it('node:https (ALPN http/1.1 only)', async () => {
    await recorded(
      'node:https',
      VERSION,
      'h2wasm connect() → peer server (HTTP/1.1, TLS)',
      'refused: did not negotiate HTTP/2',
      async () => {
        const session = connect(secure.url, { rejectUnauthorized: false });
        await refused(session);
      },
    );
  });
});
