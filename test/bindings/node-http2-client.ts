// @grpc/grpc-js as a CLIENT, in a child process of test/bindings/node-http2.test.ts: bundled
// there (esbuild) with `http2` aliased to h2wasm/node-http2, or left to the runtime as the
// baseline, and run under Node, Bun or Deno against the suite's grpc-js server. Prints one
// JSON line per check, then a summary line with h2wasm's counters (absent when the
// runtime's own http2 carried the calls).
// Usage: <runtime> client.mjs '<Config as JSON>'
import * as http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import * as grpc from '@grpc/grpc-js';
import { setCompiledModule } from 'h2wasm';
import { SERVICE, pattern, sha256, FAIL_DETAILS, type MethodName } from './node-http2-service.js';

export interface Config {
  /** host:port of the grpc-js server (h2c). */
  target: string;
  /** 'all' checks, or only the 'big' ones (messages over 64 KiB). */
  mode: 'all' | 'big';
  /** The module's file, when bundled (the package cannot find it beside itself then). */
  wasm?: string;
  /** Names this run's cancelled calls (x-tag) for the server. */
  tag: string;
  /** host:port of the server that raises SETTINGS_INITIAL_WINDOW_SIZE mid-stream. */
  raise?: string;
  /** host:port of the grpc-js server over TLS, and the PEM of its (self-signed) certificate. */
  tls?: string;
  ca?: string;
}

const config = JSON.parse(process.argv[2]) as Config;
const { target, mode, wasm, tag } = config;
if (wasm) setCompiledModule(new WebAssembly.Module(readFileSync(wasm)));
const stats = (http2 as unknown as { h2wasmStats?: Record<string, number> }).h2wasmStats;

const CHECK_MS = mode === 'big' ? 15_000 : 20_000;
const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

async function check(name: string, fn: () => Promise<string | void>): Promise<void> {
  const t0 = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_MS} ms`)), CHECK_MS);
    });
    const detail = await Promise.race([fn(), timeout]);
    out({ check: name, ok: true, ms: Date.now() - t0, detail });
  } catch (e) {
    out({ check: name, ok: false, ms: Date.now() - t0, error: (e as Error)?.message ?? String(e) });
  } finally {
    clearTimeout(timer);
  }
}

const client = new grpc.Client(target, grpc.credentials.createInsecure());
const id = (b: Buffer) => b;
const path = (m: MethodName) => SERVICE[m].path;

interface UnaryResult {
  reply?: Buffer;
  error?: grpc.ServiceError;
  metadata?: grpc.Metadata;
  status?: grpc.StatusObject;
}

function unary(
  m: MethodName,
  request: Buffer,
  md = new grpc.Metadata(),
  options: grpc.CallOptions = {},
  c: grpc.Client = client,
  onCall?: (call: grpc.ClientUnaryCall) => void,
): Promise<UnaryResult> {
  return new Promise((resolve) => {
    const r: UnaryResult = {};
    let pending = 2; // the callback and the status
    const done = () => --pending === 0 && resolve(r);
    const call = c.makeUnaryRequest(path(m), id, id, request, md, options, (error, reply) => {
      r.error = error ?? undefined;
      r.reply = reply;
      done();
    });
    call.on('metadata', (md2) => (r.metadata = md2));
    call.on('status', (s) => {
      r.status = s;
      done();
    });
    onCall?.(call);
  });
}

function collect(stream: grpc.ClientReadableStream<Buffer>): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    stream.on('data', (m: Buffer) => got.push(m));
    stream.on('error', reject);
    stream.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve(got) : undefined));
  });
}

async function serverStream(count: number, size: number): Promise<string> {
  const call = client.makeServerStreamRequest(
    path('ServerStream'),
    id,
    id,
    Buffer.from(JSON.stringify({ count, size })),
  );
  const got = await collect(call);
  assert(got.length === count, `${got.length} of ${count} messages`);
  got.forEach((m, i) => assert(m.equals(pattern(size, i)), `message ${i} differs`));
  return `${count} × ${size} B`;
}

async function bigUnary(): Promise<string> {
  const big = pattern(1 << 20, 7);
  const r = await unary('Unary', big);
  assert(!r.error, `error: ${r.error?.message}`);
  assert(r.reply && r.reply.length === big.length && sha256(r.reply) === sha256(big), 'the echo differs');
  return '1 MiB each way';
}

/** bun#30342's trigger: the stream window is used up, then the server raises its connection
 *  window and SETTINGS_INITIAL_WINDOW_SIZE, which must reopen the streams (RFC 9113 §6.9.2). */
async function raisedWindow(): Promise<string> {
  const c = new grpc.Client(config.raise!, grpc.credentials.createInsecure());
  try {
    const big = pattern(1 << 20, 9);
    const rs = await Promise.all(Array.from({ length: 8 }, () => unary('Unary', big, undefined, {}, c)));
    for (const r of rs) {
      assert(!r.error, `error: ${r.error?.message}`);
      assert(r.reply && sha256(r.reply) === sha256(big), 'the echo differs');
    }
    return '8 × 1 MiB each way';
  } finally {
    c.close();
  }
}

const RAISED = 'unary 8 × 1 MiB, the server raising SETTINGS_INITIAL_WINDOW_SIZE mid-stream';

async function main(): Promise<void> {
  if (mode === 'big') {
    await check('unary, 1 MiB message each way', bigUnary);
    await check('server streaming, 16 × 256 KiB', () => serverStream(16, 256 << 10));
    if (config.raise) await check(RAISED, raisedWindow);
  } else {
    await check('unary', async () => {
      const r = await unary('Unary', Buffer.from('hello, grpc'));
      assert(!r.error, `error: ${r.error?.message}`);
      assert(r.reply?.toString() === 'hello, grpc', `reply ${r.reply}`);
      assert(r.status?.code === grpc.status.OK, `status ${r.status?.code}`);
    });

    await check('metadata both ways, initial and trailing', async () => {
      const md = new grpc.Metadata();
      md.set('x-client', 'abc');
      md.set('x-client-bin', Buffer.from([0, 1, 2, 255]));
      const r = await unary('Meta', Buffer.from('m'), md);
      assert(!r.error, `error: ${r.error?.message}`);
      const seen = JSON.parse(r.reply!.toString());
      assert(seen.client === 'abc' && seen.bin === 'AAEC/w==', `the server saw ${r.reply}`);
      assert(r.metadata?.get('x-initial')[0] === 'hello', 'initial metadata x-initial');
      assert(Buffer.from([9, 8, 7]).equals(r.metadata!.get('x-initial-bin')[0] as Buffer), 'x-initial-bin');
      assert(r.status?.metadata.get('x-trailer')[0] === 'bye', 'trailing metadata x-trailer');
    });

    await check('unary, 1 MiB message each way', bigUnary);

    await check('server streaming, 1000 messages', () => serverStream(1000, 100));

    await check('server streaming, 16 × 256 KiB', () => serverStream(16, 256 << 10));

    await check('client streaming, 100 small + 4 × 256 KiB', async () => {
      const messages = [
        ...Array.from({ length: 100 }, (_, i) => pattern(50, i)),
        ...[0, 1, 2, 3].map((i) => pattern(256 << 10, 100 + i)),
      ];
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const call = client.makeClientStreamRequest(path('ClientStream'), id, id, (e, r) =>
          e ? reject(e) : resolve(r!),
        );
        // Written with backpressure: the next after 'drain' when write() says so.
        let i = 0;
        const more = () => {
          while (i < messages.length) if (!call.write(messages[i++])) return void call.once('drain', more);
          call.end();
        };
        more();
      });
      const got = JSON.parse(reply.toString());
      const all = Buffer.concat(messages);
      assert(got.count === messages.length, `count ${got.count}`);
      assert(got.bytes === all.length && got.sha256 === sha256(all), 'the server got other bytes');
      return `${got.count} messages, ${got.bytes} B`;
    });

    await check('bidi streaming, interleaved', async () => {
      const call = client.makeBidiStreamRequest(path('Bidi'), id, id);
      const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
      const waiting: ((m: Buffer) => void)[] = [];
      call.on('data', (m: Buffer) => waiting.shift()?.(m));
      const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
      call.on('error', () => {});
      for (const w of words) {
        // The next message goes only after this one's echo came back.
        const echo = new Promise<Buffer>((r) => waiting.push(r));
        call.write(Buffer.from(w));
        assert((await echo).toString() === w, `echo of ${w}`);
      }
      call.end();
      assert((await status).code === grpc.status.OK, 'status');
    });

    await check('error status NOT_FOUND with message and trailers', async () => {
      const r = await unary('Fail', Buffer.from('x'));
      assert(r.error?.code === grpc.status.NOT_FOUND, `code ${r.error?.code}`);
      assert(r.error.details === FAIL_DETAILS, `details ${r.error.details}`);
      assert(r.error.metadata.get('x-why')[0] === 'because', 'trailing metadata x-why');
    });

    await check('deadline exceeded', async () => {
      const md = new grpc.Metadata();
      md.set('x-tag', `${tag}-deadline`);
      const t0 = Date.now();
      const r = await unary('Slow', Buffer.from('x'), md, { deadline: Date.now() + 300 });
      assert(r.error?.code === grpc.status.DEADLINE_EXCEEDED, `code ${r.error?.code}: ${r.error?.details}`);
      return `after ${Date.now() - t0} ms`;
    });

    await check('cancellation', async () => {
      const md = new grpc.Metadata();
      md.set('x-tag', `${tag}-cancel`);
      const r = await unary('Slow', Buffer.from('x'), md, {}, client, (call) => setTimeout(() => call.cancel(), 200));
      assert(r.error?.code === grpc.status.CANCELLED, `code ${r.error?.code}: ${r.error?.details}`);
    });

    await check('100 concurrent unary calls on one channel', async () => {
      const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => unary('Unary', Buffer.from(`call ${i}`))));
      rs.forEach((r, i) => assert(r.reply?.toString() === `call ${i}`, `call ${i}: ${r.error?.message}`));
    });

    await check('keepalive pings during a call', async () => {
      const keepalive = new grpc.Client(target, grpc.credentials.createInsecure(), {
        'grpc.keepalive_time_ms': 150,
        'grpc.keepalive_timeout_ms': 5000,
      });
      const before = stats?.pings ?? 0;
      try {
        const r = await unary('Sleep', Buffer.from(JSON.stringify({ ms: 1000 })), undefined, {}, keepalive);
        assert(!r.error, `error: ${r.error?.message}`);
      } finally {
        keepalive.close();
      }
      const pings = (stats?.pings ?? 0) - before;
      assert(!stats || pings >= 3, `${pings} pings`);
      return stats ? `${pings} pings sent, the call lived` : undefined;
    });

    if (config.raise) await check(RAISED, raisedWindow);

    if (config.tls)
      await check('TLS (ALPN h2): unary, and 1 MiB each way', async () => {
        // grpc-js makes the TLS socket itself and hands it over through createConnection.
        const secure = new grpc.Client(config.tls!, grpc.credentials.createSsl(Buffer.from(config.ca!)), {
          'grpc.ssl_target_name_override': 'localhost',
        });
        try {
          const small = await unary('Unary', Buffer.from('over tls'), undefined, {}, secure);
          assert(small.reply?.toString() === 'over tls', `error: ${small.error?.message}`);
          const big = pattern(1 << 20, 11);
          const r = await unary('Unary', big, undefined, {}, secure);
          assert(r.reply && sha256(r.reply) === sha256(big), `error: ${r.error?.message}`);
        } finally {
          secure.close();
        }
      });
  }
  out({ done: true, via: stats ? 'h2wasm' : 'runtime', stats: stats ?? null });
  client.close();
}

main().then(
  () => setTimeout(() => process.exit(0), 50),
  (e) => {
    out({ done: true, error: String(e) });
    process.exit(1);
  },
);
