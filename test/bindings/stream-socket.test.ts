// Sessions and served connections over sockets made of WHATWG streams (stream-socket.ts),
// the transport the Workers, browser and Deno-native paths use, driven here by Node's own
// sockets as web streams (Duplex.toWeb): a client against node:http2 (bodies both ways by
// hash, past every window), a server answering node:http2's client, and an HTTP/1.1 origin
// recognised for what it is.
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import {
  connect,
  connectStreamSocket,
  serveStreamSocket,
  isNotHttp2,
  type StreamSocket,
} from '../../bindings/index.js';
import { body, nodeServer, sha, until, type TestServer } from './support.js';

/** A TCP connection to 127.0.0.1:port as a StreamSocket. */
function webSocketTo(port: number): StreamSocket {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  return Duplex.toWeb(s) as unknown as StreamSocket;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a session over a StreamSocket (connect({ socket }))', () => {
  let server: TestServer;
  const start = async () => {
    server = await nodeServer();
    cleanups.push(() => server.close());
  };

  it('GETs and streams 4 MiB down and 4 MiB up, byte for byte', async () => {
    await start();
    const session = connect(server.url, { socket: () => webSocketTo(server.port) });
    cleanups.push(() => session.destroy());
    const small = await session.request({ path: '/id/7' });
    expect([small.status, await small.text()]).toEqual([200, '7']);

    const down = await session.request({ path: `/bytes/${4 << 20}` });
    const got = await down.bytes();
    expect(got.length).toBe(4 << 20);
    expect(sha(got)).toBe(body(4 << 20).sha);

    const up = body(4 << 20);
    const echo = await session.request({ method: 'POST', path: '/echo', headers: { 'x-id': 'up' }, body: up.data });
    await echo.text();
    expect(server.received.get('up')?.sha).toBe(up.sha);
    expect(server.sessions.length).toBe(1);
  });

  it('connectStreamSocket fails with NOT_HTTP2 when the origin answers in HTTP/1.1', async () => {
    const h1 = http.createServer((_, res) => res.end('old'));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => h1.close(r)));
    const port = (h1.address() as net.AddressInfo).port;
    const session = connectStreamSocket(`http://127.0.0.1:${port}`, webSocketTo(port));
    cleanups.push(() => session.destroy());
    const e = await session.ready.then(
      () => null,
      (err: unknown) => err,
    );
    expect(isNotHttp2(e), String(e)).toBe(true);
    expect(String((e as Error).message)).toMatch(/HTTP\/1\.1 400/);
  });
});

describe('a StreamSocket that fails', () => {
  it("the session's handshake reports the socket's own error, not a generic one", async () => {
    const broken: StreamSocket = {
      readable: new ReadableStream({ start: (c) => c.error(new Error('ECONNREFUSED 127.0.0.1:9')) }),
      writable: new WritableStream(),
    };
    const session = connectStreamSocket('http://127.0.0.1:9', broken);
    const e = await session.ready.then(
      () => null,
      (err: unknown) => err,
    );
    expect(String((e as Error)?.message)).toMatch(/ECONNREFUSED 127\.0\.0\.1:9/);
  });

  it('a peer that ends before its SETTINGS: the session fails, and our side of the socket is let go', async () => {
    let ended = '';
    let serverEnd!: ReadableStreamDefaultController<Uint8Array>;
    const socket: StreamSocket = {
      readable: new ReadableStream({ start: (c) => void (serverEnd = c) }),
      writable: new WritableStream({ close: () => void (ended = 'closed'), abort: () => void (ended = 'aborted') }),
    };
    const session = connectStreamSocket('http://127.0.0.1:9', socket);
    const ready = session.ready.catch((err: unknown) => err);
    serverEnd.close(); // EOF before any SETTINGS
    expect(String(await ready)).toMatch(/closed|EOF|handshake/i);
    await session.closed;
    await until('our side of the socket to end', () => ended !== '', 5000);
    expect(ended).toBe('aborted'); // a failed connection stops at once, it does not flush
  });
});

describe('a served connection over a StreamSocket (serveStreamSocket)', () => {
  it("answers node:http2's client: a GET and a 1 MiB POST echoed", async () => {
    const done: Promise<void>[] = [];
    const listener = net.createServer((socket) => {
      done.push(
        serveStreamSocket(Duplex.toWeb(socket) as unknown as StreamSocket, {
          fetch: async (req) =>
            req.method === 'POST'
              ? new Response(await req.arrayBuffer(), { headers: { 'x-method': 'POST' } })
              : new Response(`hello ${new URL(req.url).pathname}`),
        }),
      );
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => listener.close(r)));
    const port = (listener.address() as net.AddressInfo).port;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    cleanups.push(() => client.destroy());
    const ask = (method: string, path: string, data?: Uint8Array) =>
      new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const req = client.request({ ':method': method, ':path': path });
        const chunks: Buffer[] = [];
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
        req.on('error', reject);
        req.end(data);
      });
    const get = await ask('GET', '/x');
    expect([get.status, get.body.toString()]).toEqual([200, 'hello /x']);
    const up = body(1 << 20);
    const post = await ask('POST', '/echo', up.data);
    expect(post.status).toBe(200);
    expect(sha(post.body)).toBe(up.sha);
    // The connection ends when the client closes it, and serveStreamSocket resolves.
    await new Promise<void>((r) => client.close(() => r()));
    await Promise.race([Promise.all(done), new Promise((_, j) => setTimeout(() => j(new Error('not over')), 5000))]);
  });
});
