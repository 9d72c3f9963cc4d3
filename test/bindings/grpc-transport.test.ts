// The Connect-ES gRPC transport (bindings/grpc-transport.ts) against @grpc/grpc-js's
// server (test/support/grpc-echo-server.ts): every kind of call, metadata and trailers,
// error statuses, interceptors, readMaxBytes, request compression, deadlines,
// cancellation, one connection for concurrent calls, a refused connection and one that
// goes away.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import type { Compression } from '@connectrpc/connect/protocol';
import { connect, serve, type Server } from '../../bindings/node.js';
import { createGrpcTransport, type GrpcTransport, type GrpcTransportOptions } from '../../bindings/grpc-transport.js';
import type { ClientSession } from '../../bindings/client.js';
import { FrameLogger } from '../../bindings/frames-debug.js';
import { H2Module, instantiateSync } from '../../bindings/loader.js';
import { WASM_URL } from '../../bindings/wasm-path.js';
import { EchoService, interleavedBidi, runEchoCalls, type EchoClient } from '../support/grpc-echo.js';
import { startEchoServer, type EchoServer } from '../support/grpc-echo-server.js';
import { until } from './support.js';

/** A transport whose sessions are recorded (and their frames logged, when asked). */
function transportTo(url: string, frames?: string[], options: Partial<GrpcTransportOptions> = {}) {
  const sessions: ClientSession[] = [];
  const log =
    frames &&
    new FrameLogger((l) => frames.push(l), true, new H2Module(instantiateSync(readFileSync(WASM_URL)).exports));
  const transport = createGrpcTransport({
    ...options,
    baseUrl: url,
    connect: (origin) => {
      const s = connect(origin, log ? { onBytes: (d, b) => log.feed(d, b) } : {});
      sessions.push(s);
      return s;
    },
  });
  return { transport, sessions, client: createClient(EchoService, transport) };
}

const codeOf = (e: unknown) => (e instanceof ConnectError ? Code[e.code] : `not a ConnectError: ${String(e)}`);

describe('gRPC transport against grpc-js', () => {
  let server: EchoServer;
  let transport: GrpcTransport;
  let sessions: ClientSession[];
  let client: EchoClient;
  beforeAll(async () => {
    server = await startEchoServer();
    ({ transport, sessions, client } = transportTo(server.url));
  });
  afterAll(async () => {
    await transport?.close();
    await server?.stop();
  });

  it('runs a call of each kind (the scripts for other runtimes run the same)', async () => {
    expect(await runEchoCalls(client)).toEqual({
      unary: 'hello',
      serverStream: 10,
      clientStream: 'a,b,c',
      bidi: ['m0', 'm1', 'm2'],
    });
  });

  it('unary: the answer, with response headers and trailers', async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const r = await client.unary(
      { text: 'one' },
      { headers: { 'x-client': 'c-1' }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    expect(r.text).toBe('one');
    expect(header?.get('x-echo-header')).toBe('c-1');
    expect(header?.get('content-type')).toBe('application/grpc+proto');
    expect(trailer?.get('x-trailer')).toBe('Unary');
    expect(trailer?.get('grpc-status')).toBe('0');
  });

  it('server streaming: 1000 messages in order, then the trailers', async () => {
    const got: number[] = [];
    let trailer: Headers | undefined;
    for await (const r of client.serverStream({ text: 'n', count: 1000 }, { onTrailer: (t) => (trailer = t) })) {
      expect(r.text).toBe(`n-${r.index}`);
      got.push(r.index);
    }
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(trailer?.get('x-trailer')).toBe('ServerStream');
  });

  it('client streaming: every request message reaches the server, in order', async () => {
    const texts = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const r = await client.clientStream(
      (async function* () {
        for (const text of texts) yield { text };
      })(),
    );
    expect(r.text).toBe(texts.join(','));
    expect(r.index).toBe(50);
  });

  it('bidi interleaves: each answer arrives before the next request is made', async () => {
    // interleavedBidi makes request i+1 only after answer i: a transport holding the
    // request body back would stall until the deadline.
    const t0 = performance.now();
    expect(await interleavedBidi(client, 20, 5000)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(performance.now() - t0).toBeLessThan(4000);
  }, 15_000);

  it('the first answer of a bidi call is read while the request stream is still open', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let ended = false;
    const call = client.bidi(
      (async function* () {
        yield { text: 'first' };
        await held; // the request stream stays open until the answer came
        ended = true;
      })(),
      { timeoutMs: 5000 },
    );
    const it = call[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.text).toBe('first');
    expect(ended).toBe(false);
    release();
    expect((await it.next()).done).toBe(true);
  }, 15_000);

  it('a 4 MiB message both ways, byte-exact', async () => {
    const text = Array.from({ length: 4 << 20 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26))).join('');
    const r = await client.unary({ text });
    expect(r.text.length).toBe(text.length);
    expect(r.text === text).toBe(true);
  });

  it('an error status: ConnectError with its code, message and metadata', async () => {
    const e = await client.unary({ text: 'fail' }).catch((x) => x);
    expect(codeOf(e)).toBe('InvalidArgument');
    expect((e as ConnectError).rawMessage).toBe('fail requested');
    expect((e as ConnectError).metadata.get('x-trailer')).toBe('Unary');
    // The same from a stream (the server answers trailers only: grpc-status in the head).
    const s = await (async () => {
      for await (const _ of client.serverStream({ text: 'fail', count: 3 })) void _;
    })().catch((x) => x);
    expect(codeOf(s)).toBe('InvalidArgument');
    expect((s as ConnectError).rawMessage).toBe('fail requested');
  });

  it('interceptors see every call and can add metadata', async () => {
    const seen: string[] = [];
    const tag: Interceptor = (next) => async (req) => {
      seen.push(`${req.method.name} ${req.stream}`);
      req.header.set('x-client', `from-${req.method.name}`);
      return next(req);
    };
    const { transport: t, client: c } = transportTo(server.url, undefined, { interceptors: [tag] });
    try {
      let header: Headers | undefined;
      await c.unary({ text: 'i' }, { onHeader: (h) => (header = h) });
      expect(header?.get('x-echo-header')).toBe('from-Unary');
      for await (const _ of c.serverStream({ text: 'i', count: 2 }, { onHeader: (h) => (header = h) })) void _;
      expect(header?.get('x-echo-header')).toBe('from-ServerStream');
      expect(seen).toEqual(['Unary false', 'ServerStream true']);
    } finally {
      await t.close();
    }
  });

  it('readMaxBytes: a larger answer is ResourceExhausted (unary and streaming)', async () => {
    const { transport: t, client: c } = transportTo(server.url, undefined, { readMaxBytes: 1000 });
    try {
      expect((await c.unary({ text: 'x'.repeat(900) })).text.length).toBe(900);
      expect(codeOf(await c.unary({ text: 'x'.repeat(2000) }).catch((x) => x))).toBe('ResourceExhausted');
      const e = await (async () => {
        for await (const _ of c.serverStream({ text: 'y'.repeat(2000), count: 2 })) void _;
      })().catch((x) => x);
      expect(codeOf(e)).toBe('ResourceExhausted');
    } finally {
      await t.close();
    }
  });

  it('sendCompression: gzip-compressed requests reach the server (unary and client streaming)', async () => {
    const gzip: Compression = {
      name: 'gzip',
      compress: async (b) => new Uint8Array(gzipSync(b)),
      decompress: async (b) => new Uint8Array(gunzipSync(b)),
    };
    const sent: number[] = [];
    const { transport: t, client: c } = transportTo(server.url, undefined, {
      sendCompression: { ...gzip, compress: async (b) => (sent.push(b.length), gzip.compress(b)) },
      acceptCompression: [gzip],
      compressMinBytes: 1,
    });
    try {
      const text = 'compressible '.repeat(500);
      expect((await c.unary({ text })).text).toBe(text);
      const r = await c.clientStream(
        (async function* () {
          yield { text: 'a'.repeat(100) };
          yield { text: 'b'.repeat(100) };
        })(),
      );
      expect(r.text).toBe(`${'a'.repeat(100)},${'b'.repeat(100)}`);
      expect(sent.length).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('a deadline: 100 ms on a 2 s call is DeadlineExceeded well before 2 s (unary and streaming)', async () => {
    let t0 = performance.now();
    const e = await client.unary({ text: 'slow', delayMs: 2000 }, { timeoutMs: 100 }).catch((x) => x);
    let ms = performance.now() - t0;
    expect(codeOf(e)).toBe('DeadlineExceeded');
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(ms).toBeLessThan(1000);

    t0 = performance.now();
    const s = await (async () => {
      for await (const _ of client.serverStream({ text: 'slow', count: 1, delayMs: 2000 }, { timeoutMs: 100 })) void _;
    })().catch((x) => x);
    ms = performance.now() - t0;
    expect(codeOf(s)).toBe('DeadlineExceeded');
    expect(ms).toBeLessThan(1000);
  });

  it('cancellation: the stream is reset with CANCEL, the server sees it, the client gets Canceled', async () => {
    const frames: string[] = [];
    const { transport: t, client: c } = transportTo(server.url, frames);
    try {
      const ac = new AbortController();
      const calls = server.calls;
      const p = c.unary({ text: 'to-cancel', delayMs: 5000 }, { signal: ac.signal }).catch((x) => x);
      await until('the call at the server', () => server.calls > calls);
      ac.abort();
      expect(codeOf(await p)).toBe('Canceled');
      await until('the server saw the cancellation', () => server.cancelled.includes('Unary to-cancel'));
      const rst = frames.findIndex((l) => /send RST_STREAM/.test(l));
      expect(frames[rst + 1]).toMatch(/error_code=CANCEL/);

      // A server stream broken off mid-way by the signal.
      const ac2 = new AbortController();
      let n = 0;
      const e = await (async () => {
        for await (const _ of c.serverStream({ text: 'long', count: 100_000 }, { signal: ac2.signal })) {
          void _;
          if (++n === 10) ac2.abort();
        }
      })().catch((x) => x);
      expect(codeOf(e)).toBe('Canceled');
      await until('the server saw the stream cancelled', () => server.cancelled.includes('ServerStream long'));
    } finally {
      await t.close();
    }
  });

  it('100 concurrent unary calls share one HTTP/2 connection', async () => {
    const { transport: t, client: c, sessions: ss } = transportTo(server.url);
    const peersBefore = new Set(server.peers);
    try {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => c.unary({ text: `c${i}` })));
      expect(answers.map((a) => a.text)).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`));
      expect(ss.length).toBe(1);
      const newPeers = [...server.peers].filter((p) => !peersBefore.has(p));
      expect(newPeers.length).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('an origin that refuses connections: Unavailable, and the next call connects again', async () => {
    // A listener that resets every connection until told to pass them to the Echo server.
    let up = false;
    const gate = net.createServer((socket) => {
      if (!up) return void socket.destroy();
      const to = net.connect(server.port, '127.0.0.1');
      socket.pipe(to).pipe(socket);
      socket.on('error', () => to.destroy());
      to.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    const port = (gate.address() as net.AddressInfo).port;
    const { transport: t, client: c, sessions: ss } = transportTo(`http://127.0.0.1:${port}`);
    try {
      expect(codeOf(await c.unary({ text: 'x' }).catch((x) => x))).toBe('Unavailable');
      up = true;
      expect((await c.unary({ text: 'back' })).text).toBe('back');
      expect(ss.length).toBe(2);
    } finally {
      await t.close();
      await new Promise((r) => gate.close(r));
    }
  });

  it('an empty answer (a message of 0 bytes) is a message, unary and streamed', async () => {
    expect(await client.unary({ text: '' })).toMatchObject({ text: '', index: 0 });
    const all = [];
    for await (const r of client.serverStream({ text: '', count: 0 })) all.push(r);
    expect(all).toEqual([]);
    const answers = [];
    for await (const r of client.bidi(
      (async function* () {
        yield { text: '' };
      })(),
    ))
      answers.push(r.text);
    expect(answers).toEqual(['']);
  });

  it('a connection that received GOAWAY is replaced; a call it refused goes on the new one', async () => {
    const own = await startEchoServer();
    const { transport: t, client: c, sessions: ss } = transportTo(own.url);
    try {
      expect((await c.unary({ text: 'before' })).text).toBe('before');
      // A slow call keeps the first connection open through the GOAWAY.
      const slow = c.unary({ text: 'slow', delayMs: 300 });
      await until('the slow call at the server', () => own.calls === 2);
      own.drain();
      await ss[0].ping(); // the GOAWAY came before the PING's answer
      // Both refused by the first connection: the unary's one buffer and the client
      // stream's messages taken so far go again on the second.
      const [after, streamed] = await Promise.all([
        c.unary({ text: 'after' }),
        c.clientStream(
          (async function* () {
            for (const text of ['s1', 's2', 's3']) yield { text };
          })(),
        ),
      ]);
      expect(after.text).toBe('after');
      expect(streamed.text).toBe('s1,s2,s3');
      expect((await slow).text).toBe('slow');
      expect(ss.length).toBe(2);
      expect(own.peers.size).toBe(2);
    } finally {
      await t.close();
      await own.stop();
    }
  });

  it('every call so far went over the suite transport’s one session', () => {
    expect(sessions.length).toBe(1);
  });
});

describe('unary answers the transport must refuse (a server framing them badly: h2wasm serve, scripted)', () => {
  // EchoResponse { text: "ok" }: field 1, length 2.
  const MESSAGE = Uint8Array.from([0x0a, 0x02, 0x6f, 0x6b]);
  const prefix = (flags: number, length: number) =>
    Uint8Array.from([flags, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  const ANSWERS: Record<string, Uint8Array[]> = {
    // The prefix split across DATA frames, then the message: a good answer.
    split: [prefix(0, MESSAGE.length).subarray(0, 2), prefix(0, MESSAGE.length).subarray(2), MESSAGE],
    // The prefix promises 10 bytes, the body ends after 4.
    truncated: [prefix(0, 10), MESSAGE],
    // Two messages for a unary method.
    two: [prefix(0, MESSAGE.length), MESSAGE, prefix(0, MESSAGE.length), MESSAGE],
    // A message larger than readMaxBytes (64 here): refused from its prefix.
    large: [prefix(0, 1000), new Uint8Array(1000)],
  };
  let server: Server;
  let client: EchoClient;
  let transport: GrpcTransport;
  beforeAll(async () => {
    server = await serve({
      port: 0,
      hostname: '127.0.0.1',
      handler: async (req, res) => {
        for await (const chunk of req.body()) void chunk;
        const answer = ANSWERS[req.headers.find(([k]) => k === 'x-answer')?.[1] ?? ''] ?? [];
        async function* body() {
          for (const part of answer) yield part;
        }
        await res.respond(200, [['content-type', 'application/grpc+proto']], body(), [['grpc-status', '0']]);
      },
    });
    ({ transport, client } = transportTo(server.url, undefined, { readMaxBytes: 64 }));
  });
  afterAll(async () => {
    await transport?.close();
    await server?.close();
  });
  const call = (answer: string) => client.unary({ text: 'x' }, { headers: { 'x-answer': answer } });

  it('a prefix split across chunks is read', async () => {
    expect((await call('split')).text).toBe('ok');
  });
  it('a body that ends inside the message: InvalidArgument', async () => {
    expect(codeOf(await call('truncated').catch((e) => e))).toBe('InvalidArgument');
  });
  it('a second message: Unimplemented', async () => {
    expect(codeOf(await call('two').catch((e) => e))).toBe('Unimplemented');
  });
  it('a message over readMaxBytes: ResourceExhausted', async () => {
    expect(codeOf(await call('large').catch((e) => e))).toBe('ResourceExhausted');
  });
});
