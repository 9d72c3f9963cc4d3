// gRPC over h2wasm, against @grpc/grpc-js (npm) in both roles. No protobuf: the service
// is defined with identity serializers on Buffers, and the gRPC length-prefixed framing
// (1-byte compressed flag, 4-byte big-endian length, payload) is written here. The
// service echoes each message upper-cased; `Missing` answers NOT_FOUND.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, serve, type Server, type ClientResponse } from '../../bindings/index.js';
import type { ClientSession } from '../../bindings/client.js';
import { ROOT } from '../support/wasm.js';
import { recorded } from './record.js';
import { rawMethod } from '../bindings/node-http2-service.js';

type Grpc = typeof import('@grpc/grpc-js');
const grpc: Grpc | null = await import('@grpc/grpc-js').then(
  (m) => (m as any).default ?? m,
  () => null,
);
const VERSION = grpc
  ? (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@grpc', 'grpc-js', 'package.json'), 'utf8')).version as string)
  : '';
console.log(grpc ? `interop: @grpc/grpc-js ${VERSION}` : 'interop: @grpc/grpc-js not installed, its tests are skipped');
const PEER = '@grpc/grpc-js';
const TO_GRPC = 'h2wasm connect() → peer server (h2c)';
const FROM_GRPC = 'peer client → h2wasm serve() (h2c)';

// ---- gRPC message framing --------------------------------------------------------------

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Splits a byte stream into gRPC messages, however the chunks cut it. */
async function* deframe(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const c of chunks) {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 5) {
      if (buf[0] !== 0) throw new Error(`compressed gRPC message (flag ${buf[0]}) not expected`);
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      yield buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
    }
  }
  if (buf.length) throw new Error(`${buf.length} bytes of a truncated gRPC message`);
}

const upper = (b: Uint8Array) => Buffer.from(Buffer.from(b).toString('latin1').toUpperCase(), 'latin1');
const field = (fields: [string, string][], name: string) => fields.find(([n]) => n === name)?.[1];

/** Resolves with `p`, or fails after `ms` (so a lost message fails the test with a reason, not a hang). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A queue one side pushes into and the other awaits, one item at a time. */
class Queue<T> {
  private items: T[] = [];
  private waiters: ((v: T) => void)[] = [];
  push(v: T) {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }
  next(ms = 10000): Promise<T> {
    if (this.items.length) return Promise.resolve(this.items.shift()!);
    return within(new Promise<T>((r) => this.waiters.push(r)), ms, 'the next message');
  }
}

const method = (name: string, requestStream: boolean, responseStream: boolean) =>
  rawMethod(`/pkg.Echo/${name}`, requestStream, responseStream);
const SERVICE = {
  Unary: method('Unary', false, false),
  Bidi: method('Bidi', true, true),
  Missing: method('Missing', false, false),
};
const GRPC_HEADERS = { 'content-type': 'application/grpc', te: 'trailers' };
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

/** gRPC puts grpc-status in the trailers, or in the headers of a trailers-only response. */
async function grpcStatus(res: ClientResponse): Promise<{ status?: string; message?: string; where: string }> {
  const trailers = await res.trailers();
  const from = field(trailers, 'grpc-status') !== undefined ? trailers : res.headers;
  return {
    status: field(from, 'grpc-status'),
    message: field(from, 'grpc-message'),
    where: from === trailers ? 'trailers' : 'headers',
  };
}

// ---- (1) our client → grpc-js server ----------------------------------------------------

describe.skipIf(!grpc)('h2wasm client → @grpc/grpc-js server', () => {
  let server: import('@grpc/grpc-js').Server;
  let session: ClientSession;
  const seenMetadata: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const g = grpc!;
    server = new g.Server();
    server.addService(SERVICE as any, {
      Unary: (call: any, cb: any) => {
        seenMetadata.push(call.metadata.getMap());
        cb(null, upper(call.request));
      },
      Bidi: (call: any) => {
        call.on('data', (m: Buffer) => call.write(upper(m)));
        call.on('end', () => call.end());
      },
      Missing: (_call: any, cb: any) => cb({ code: g.status.NOT_FOUND, details: 'no widget named café' }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', g.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    session = connect(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await session?.close();
    await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
  });

  it('unary: one framed message each way, grpc-status 0 in the trailers', () =>
    recorded(PEER, VERSION, TO_GRPC, 'unary call, status 0 in trailers', async () => {
      const res = await session.request({
        method: 'POST',
        path: '/pkg.Echo/Unary',
        headers: { ...GRPC_HEADERS, 'x-trace': 'abc' },
        body: frame(Buffer.from('hello, grpc')),
      });
      expect(res.status).toBe(200);
      expect(field(res.headers, 'content-type')).toMatch(/^application\/grpc/);
      const messages: string[] = [];
      for await (const m of deframe(res.body)) messages.push(m.toString());
      expect(messages).toEqual(['HELLO, GRPC']);
      const trailers = await res.trailers();
      expect(field(trailers, 'grpc-status')).toBe('0');
      expect(seenMetadata.at(-1)?.['x-trace']).toBe('abc');
    }));

  it('unary: a 1 MiB message (many DATA frames, flow control both ways) comes back whole', () =>
    recorded(PEER, VERSION, TO_GRPC, 'unary call, 1 MiB message each way', async () => {
      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = 97 + ((i * 7 + (i >> 10)) % 26);
      const res = await session.request({
        method: 'POST',
        path: '/pkg.Echo/Unary',
        headers: GRPC_HEADERS,
        body: frame(big),
      });
      const messages: Buffer[] = [];
      for await (const m of deframe(res.body)) messages.push(Buffer.from(m));
      expect(messages.length).toBe(1);
      expect(messages[0].equals(upper(big))).toBe(true);
      expect(field(await res.trailers(), 'grpc-status')).toBe('0');
    }));

  it('bidirectional streaming: each message answered before the next is sent, then status 0', () =>
    recorded(PEER, VERSION, TO_GRPC, 'bidi stream, 6 messages each way interleaved', async () => {
      const replies = new Queue<string>();
      const order: string[] = [];
      async function* requests() {
        for (const w of WORDS) {
          order.push(`send ${w}`);
          yield frame(Buffer.from(w));
          // The next message goes only after this one's answer arrived: that is interleaving.
          const reply = await replies.next();
          order.push(`recv ${reply}`);
        }
      }
      const res = await session.request({
        method: 'POST',
        path: '/pkg.Echo/Bidi',
        headers: GRPC_HEADERS,
        body: requests(),
      });
      expect(res.status).toBe(200);
      const received: string[] = [];
      for await (const m of deframe(res.body)) {
        received.push(m.toString());
        replies.push(m.toString());
        if (received.length > WORDS.length) break;
      }
      expect(received).toEqual(WORDS.map((w) => w.toUpperCase()));
      expect(order).toEqual(WORDS.flatMap((w) => [`send ${w}`, `recv ${w.toUpperCase()}`]));
      const { status, where } = await grpcStatus(res);
      expect([status, where]).toEqual(['0', 'trailers']);
    }));

  it('an error status (NOT_FOUND) with its grpc-message reaches our client', () =>
    recorded(PEER, VERSION, TO_GRPC, 'unary call, status 5 NOT_FOUND + grpc-message', async () => {
      // grpc-js answers an error before any message "trailers-only": one HEADERS frame with
      // END_STREAM carrying :status, grpc-status and grpc-message.
      const res = await session.request({
        method: 'POST',
        path: '/pkg.Echo/Missing',
        headers: GRPC_HEADERS,
        body: frame(Buffer.from('x')),
      });
      expect(res.status).toBe(200);
      const messages: Buffer[] = [];
      for await (const m of deframe(res.body)) messages.push(m);
      expect(messages).toEqual([]);
      const { status, message } = await grpcStatus(res);
      expect(status).toBe('5');
      expect(decodeURIComponent(message ?? '')).toBe('no widget named café');
    }));
});

// ---- (2) grpc-js client → our server -----------------------------------------------------

describe.skipIf(!grpc)('@grpc/grpc-js client → h2wasm serve', () => {
  let server: Server;
  let client: any;
  const requests: { path: string; method: string; headers: [string, string][] }[] = [];
  beforeAll(async () => {
    server = await serve({
      port: 0,
      hostname: '127.0.0.1',
      handler: async (req, res) => {
        requests.push({ path: req.path, method: req.method, headers: req.headers });
        if (req.path === '/pkg.Echo/Missing') {
          for await (const _ of req.body()) void _;
          await res.respond(200, [['content-type', 'application/grpc']], null, [
            ['grpc-status', '5'],
            ['grpc-message', 'no widget named caf%C3%A9'],
          ]);
          return;
        }
        // Each message is answered as it arrives: the response body pulls from the request body.
        async function* answers() {
          for await (const m of deframe(req.body())) yield frame(upper(m));
        }
        await res.respond(200, [['content-type', 'application/grpc']], answers(), [['grpc-status', '0']]);
      },
    });
    const Client = grpc!.makeGenericClientConstructor(SERVICE as any, 'Echo');
    client = new Client(`127.0.0.1:${server.port}`, grpc!.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('unary: grpc-js gets the answer and status OK; te: trailers and content-type arrive', () =>
    recorded(PEER, VERSION, FROM_GRPC, 'unary call, status 0; te: trailers received', async () => {
      const md = new grpc!.Metadata();
      md.set('x-trace', 'abc');
      const reply = await within(
        new Promise<Buffer>((resolve, reject) =>
          client.Unary(Buffer.from('hello, h2wasm'), md, (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r))),
        ),
        10000,
        'the unary reply',
      );
      expect(reply.toString()).toBe('HELLO, H2WASM');
      const req = requests.find((r) => r.path === '/pkg.Echo/Unary')!;
      expect(req.method).toBe('POST');
      expect(field(req.headers, 'te')).toBe('trailers');
      expect(field(req.headers, 'content-type')).toMatch(/^application\/grpc/);
      expect(field(req.headers, 'x-trace')).toBe('abc');
      expect(field(req.headers, 'user-agent')).toMatch(/grpc-node-js/);
    }));

  it('bidirectional streaming: each message answered before the next is sent, then status OK', () =>
    recorded(PEER, VERSION, FROM_GRPC, 'bidi stream, 6 messages each way interleaved', async () => {
      const call = client.Bidi();
      const replies = new Queue<string>();
      const status = new Promise<{ code: number; details: string }>((r) => call.on('status', r));
      const errored = new Promise<never>((_, reject) => call.on('error', reject));
      errored.catch(() => {});
      call.on('data', (m: Buffer) => replies.push(m.toString()));
      const got: string[] = [];
      for (const w of WORDS) {
        call.write(Buffer.from(w));
        got.push(await Promise.race([replies.next(), errored]));
      }
      call.end();
      expect(got).toEqual(WORDS.map((w) => w.toUpperCase()));
      const s = await within(Promise.race([status, errored]), 10000, 'the call status');
      expect(s.code).toBe(grpc!.status.OK);
      expect(field(requests.find((r) => r.path === '/pkg.Echo/Bidi')!.headers, 'te')).toBe('trailers');
    }));

  it('grpc-status 5 NOT_FOUND from our trailers: grpc-js reports that code and message', () =>
    recorded(PEER, VERSION, FROM_GRPC, 'status 5 NOT_FOUND + grpc-message in trailers', async () => {
      const err = await within(
        new Promise<any>((resolve) =>
          client.Missing(Buffer.from('x'), (e: any, r: Buffer) => resolve(e ?? new Error(`unexpected success: ${r}`))),
        ),
        10000,
        'the failed call',
      );
      expect(err.code).toBe(grpc!.status.NOT_FOUND);
      expect(err.details).toBe('no widget named café');
    }));
});
