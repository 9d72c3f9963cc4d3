// h2wasm/node-http2 under @grpc/grpc-js: its client, bundled with `http2` aliased to our
// module (as a Bun or Deno user would alias it), runs in a child process under Node, Bun
// and Deno against a grpc-js server here on node's own http2. The client script is
// node-http2-client.ts (one JSON line per check); the counters it prints prove the calls
// took h2wasm. The checks include messages over 64 KiB and the trigger of oven-sh/bun#30342
// (where Bun's own http2 hung: a server raising SETTINGS_INITIAL_WINDOW_SIZE mid-stream);
// Bun 1.4.4's and Deno 2.9.6's own node:http2 pass them too (run by hand, not a test here:
// it would assert nothing of ours). The node:http2 API's own events are checked in this process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ROOT } from '../support/wasm.js';
import { recorded, skipForMissing, versionOf } from '../interop/record.js';
import { runtimeBinary } from '../runtimes/run-workerd.mjs';
import { SERVICE, pattern, FAIL_DETAILS } from './node-http2-service.js';
import type { Config } from './node-http2-client.js';
import { connect, constants, getDefaultSettings } from '../../bindings/node-http2.js';
import { freePort, until, makeCert } from './support.js';

const DIST = join(ROOT, 'dist', 'bindings');
const WASM = join(ROOT, 'build', 'h2wasm.wasm');
const GRPC_VERSION = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@grpc', 'grpc-js', 'package.json'), 'utf8'))
  .version as string;
const PEER = '@grpc/grpc-js';

type Runtime = 'Node' | 'Bun' | 'Deno';
const BINARIES: Record<Runtime, string | null> = {
  Node: process.execPath,
  Bun: runtimeBinary('bun'),
  Deno: runtimeBinary('deno'),
};
const argvOf = (rt: Runtime, bundle: string, args: string[]) =>
  rt === 'Deno' ? [BINARIES[rt]!, 'run', '-A', bundle, ...args] : [BINARIES[rt]!, bundle, ...args];
const versionOfRuntime = (rt: Runtime) =>
  rt === 'Node'
    ? process.versions.node
    : versionOf(spawnSync(BINARIES[rt]!, ['--version'], { timeout: 20000 }).stdout?.toString() ?? '');

interface Line {
  check?: string;
  ok?: boolean;
  ms?: number;
  detail?: string;
  error?: string;
  done?: boolean;
  via?: string;
  stats?: Record<string, number> | null;
}

/** Runs a bundle to its end (killed after `timeoutMs`); its JSON lines, and how it ended. */
function runClient(
  rt: Runtime,
  bundle: string,
  config: Config,
  timeoutMs: number,
): Promise<{ lines: Line[]; code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const [bin, ...rest] = argvOf(rt, bundle, [JSON.stringify(config)]);
    const p = spawn(bin, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    let killed = false;
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      killed = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
      resolve({ lines, code, killed, stderr: err.slice(-3000) });
    });
  });
}

/** Bundles the client script: `http2` is h2wasm/node-http2 (the built package) when `alias`. */
async function bundle(dir: string, alias: boolean): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, alias ? 'client-h2wasm.mjs' : 'client-native.mjs');
  // Bundled code is the runtime's user code: Deno gives it no Buffer/process globals.
  const globals = join(dir, 'globals.mjs');
  writeFileSync(
    globals,
    "export { Buffer } from 'node:buffer';\nexport { default as process } from 'node:process';\n" +
      "export { setImmediate, clearImmediate } from 'node:timers';\n",
  );
  await build({
    entryPoints: [join(ROOT, 'test', 'bindings', 'node-http2-client.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    logLevel: 'error',
    inject: [globals],
    // grpc-js is CommonJS: its require() of node's modules needs a require in an ES module.
    banner: {
      js: "import { createRequire as h2wasmCreateRequire } from 'node:module';\nconst require = h2wasmCreateRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'h2wasm-aliases',
        setup(b) {
          if (alias) b.onResolve({ filter: /^(node:)?http2$/ }, () => ({ path: join(DIST, 'node-http2.js') }));
          b.onResolve({ filter: /^h2wasm$/ }, () => ({ path: join(DIST, 'index.js') }));
        },
      },
    ],
  });
  return outfile;
}

// ---- the server: grpc-js on node's own http2 ------------------------------------------------

let server: grpc.Server;
let raiser: http2.Http2Server;
let target: string;
let raiseTarget: string;
/** The grpc-js server's TLS port and its certificate (none without the openssl CLI). */
let tlsTarget: { tls: string; ca: string } | undefined;
let dir: string;
let h2wasmBundle: string;
let nativeBundle: string;
const cancelled = new Set<string>();

function startServer(): Promise<number> {
  server = new grpc.Server();
  const ok = (cb: grpc.sendUnaryData<Buffer>, b: Buffer, trailer?: grpc.Metadata) => cb(null, b, trailer);
  server.addService(SERVICE as unknown as grpc.ServiceDefinition, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => ok(cb, call.request),
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const { count, size } = JSON.parse(call.request.toString()) as { count: number; size: number };
      let i = 0;
      const more = () => {
        while (i < count) if (!call.write(pattern(size, i++))) return void call.once('drain', more);
        call.end();
      };
      more();
    },
    ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const hash = createHash('sha256');
      let count = 0;
      let bytes = 0;
      call.on('data', (m: Buffer) => {
        count++;
        bytes += m.length;
        hash.update(m);
      });
      call.on('end', () => ok(cb, Buffer.from(JSON.stringify({ count, bytes, sha256: hash.digest('hex') }))));
    },
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(m));
      call.on('end', () => call.end());
    },
    Meta: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const initial = new grpc.Metadata();
      initial.set('x-initial', 'hello');
      initial.set('x-initial-bin', Buffer.from([9, 8, 7]));
      call.sendMetadata(initial);
      const trailer = new grpc.Metadata();
      trailer.set('x-trailer', 'bye');
      const bin = call.metadata.get('x-client-bin')[0] as Buffer | undefined;
      const seen = { client: call.metadata.get('x-client')[0], bin: bin?.toString('base64') };
      ok(cb, Buffer.from(JSON.stringify(seen)), trailer);
    },
    Fail: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => {
      const trailer = new grpc.Metadata();
      trailer.set('x-why', 'because');
      cb({ code: grpc.status.NOT_FOUND, details: FAIL_DETAILS, metadata: trailer });
    },
    Slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const timer = setTimeout(() => ok(cb, Buffer.from('late')), 20000);
      call.on('cancelled', () => {
        clearTimeout(timer);
        cancelled.add(String(call.metadata.get('x-tag')[0]));
      });
    },
    Sleep: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const { ms } = JSON.parse(call.request.toString()) as { ms: number };
      setTimeout(() => ok(cb, Buffer.from('slept')), ms);
    },
  });
  return bind(grpc.ServerCredentials.createInsecure());
}

function bind(credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (e, port) => (e ? reject(e) : resolve(port))),
  );
}

/**
 * gRPC's Unary by hand on node:http2, holding each stream's window shut (paused: node sends
 * no WINDOW_UPDATE for it) until, 300 ms into the connection's first call, it raises the
 * connection window and SETTINGS_INITIAL_WINDOW_SIZE: what grpc-go's BDP estimation does,
 * and what hung Bun's client (oven-sh/bun#30342).
 */
function startRaisingServer(): Promise<number> {
  raiser = http2.createServer();
  const raised = new WeakMap<http2.Http2Session, http2.ServerHttp2Stream[] | null>();
  raiser.on('stream', (stream) => {
    const session = stream.session!;
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat(chunks));
    });
    const held = raised.get(session);
    if (held === null) return; // raised already
    stream.pause();
    if (held) return void held.push(stream);
    raised.set(session, [stream]);
    setTimeout(() => {
      if (session.destroyed) return;
      session.setLocalWindowSize(8 << 20);
      session.settings({ initialWindowSize: 4 << 20 }, () => {
        for (const s of raised.get(session) ?? []) s.resume();
        raised.set(session, null);
      });
    }, 300);
  });
  return new Promise((resolve) => raiser.listen(0, '127.0.0.1', () => resolve((raiser.address() as AddressInfo).port)));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h2wasm-node-http2-'));
  const port = await startServer();
  target = `127.0.0.1:${port}`;
  raiseTarget = `127.0.0.1:${await startRaisingServer()}`;
  const cert = makeCert();
  if (cert) {
    const port = await bind(grpc.ServerCredentials.createSsl(null, [{ private_key: cert.key, cert_chain: cert.cert }]));
    tlsTarget = { tls: `127.0.0.1:${port}`, ca: cert.cert.toString() };
  } else console.log('node-http2: no openssl CLI, the TLS check is skipped');
  [h2wasmBundle, nativeBundle] = await Promise.all([bundle(dir, true), bundle(dir, false)]);
});

afterAll(() => {
  server?.forceShutdown();
  raiser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CHECKS = [
  'unary',
  'metadata both ways, initial and trailing',
  'unary, 1 MiB message each way',
  'server streaming, 1000 messages',
  'server streaming, 16 × 256 KiB',
  'client streaming, 100 small + 4 × 256 KiB',
  'bidi streaming, interleaved',
  'error status NOT_FOUND with message and trailers',
  'deadline exceeded',
  'cancellation',
  '100 concurrent unary calls on one channel',
  'keepalive pings during a call',
  'unary 8 × 1 MiB, the server raising SETTINGS_INITIAL_WINDOW_SIZE mid-stream',
];
const TLS_CHECK = 'TLS (ALPN h2): unary, and 1 MiB each way';

/** The whole script on h2wasm under `rt`: each check recorded, and the proof it took h2wasm. */
async function grpcOnH2wasm(rt: Runtime): Promise<void> {
  const version = versionOfRuntime(rt);
  const direction = `peer client on h2wasm/node-http2 in ${rt} ${version} → peer server (h2c)`;
  const tag = `${rt}-${Date.now()}`;
  const run = await runClient(
    rt,
    h2wasmBundle,
    { target, mode: 'all', wasm: WASM, tag, raise: raiseTarget, ...tlsTarget },
    150_000,
  );
  const byName = new Map(run.lines.filter((l) => l.check).map((l) => [l.check!, l]));
  const summary = run.lines.find((l) => l.done);
  const failures: unknown[] = [];
  for (const name of tlsTarget ? [...CHECKS, TLS_CHECK] : CHECKS) {
    const where = name === TLS_CHECK ? direction.replace('(h2c)', '(TLS)') : direction;
    await recorded(PEER, GRPC_VERSION, where, name, () => {
      const line = byName.get(name);
      expect(line, `no result (exit ${run.code}${run.killed ? ', killed' : ''}): ${run.stderr}`).toBeDefined();
      expect(line!.error).toBeUndefined();
      expect(line!.ok).toBe(true);
    }).catch((e) => failures.push(e));
  }
  await recorded(PEER, GRPC_VERSION, direction, 'the calls went through h2wasm (its counters)', () => {
    expect(summary?.via, run.stderr).toBe('h2wasm');
    const s = summary!.stats!;
    // 9 MiB each way, 4 MiB more down, 1 MiB more up: all of it through our sockets.
    expect(s.sessions).toBeGreaterThanOrEqual(3);
    expect(s.streams).toBeGreaterThanOrEqual(119);
    expect(s.bytesReceived).toBeGreaterThan(13 << 20);
    expect(s.bytesSent).toBeGreaterThan(10 << 20);
    // The server saw the cancelled call reset (RST_STREAM), not merely our side giving up.
    expect([...cancelled]).toContain(`${tag}-cancel`);
  }).catch((e) => failures.push(e));
  expect(run.killed, 'the client was killed at its timeout').toBe(false);
  expect(failures).toEqual([]);
}

describe('h2wasm/node-http2 module', () => {
  it("constants and getDefaultSettings() are node:http2's", () => {
    expect({ ...constants }).toEqual({ ...http2.constants });
    expect(getDefaultSettings()).toEqual(http2.getDefaultSettings());
  });
});

// ---- node's API, event by event, against node:http2's server (in this process) ------------

describe('h2wasm/node-http2: the session and stream events node:http2 has', () => {
  let h2server: http2.Http2Server;
  let origin: string;
  const seen: { path: string; rstCode?: number; aborted?: boolean }[] = [];
  beforeAll(async () => {
    h2server = http2.createServer({ settings: { maxConcurrentStreams: 7 } });
    h2server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      const entry: (typeof seen)[number] = { path };
      seen.push(entry);
      stream.on('aborted', () => (entry.aborted = true));
      stream.on('error', () => {}); // its own resets, below
      stream.on('close', () => (entry.rstCode = stream.rstCode));
      if (path === '/reset') return void stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      if (path === '/goaway')
        return void stream.session!.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too_many_pings'));
      if (path === '/hold') return; // answered never: the client cancels
      const body: Buffer[] = [];
      stream.on('data', (c: Buffer) => body.push(c));
      stream.on('end', () => {
        stream.respond({ ':status': 201, 'set-cookie': ['a=1', 'b=2'], 'x-dup': 'one' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sum': String(Buffer.concat(body).length) }));
        stream.end(`you sent ${Buffer.concat(body).length} bytes`);
      });
    });
    await new Promise<void>((r) => h2server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(h2server.address() as AddressInfo).port}`;
  });
  afterAll(() => h2server?.close());

  const events = (e: NodeJS.EventEmitter, name: string) => new Promise<unknown[]>((r) => e.once(name, (...a) => r(a)));

  it("a POST: 'response' as node's headers object, body, 'trailers', 'end', 'close' with rstCode 0", async () => {
    const session = connect(origin);
    try {
      const [settings] = (await events(session, 'remoteSettings')) as [Record<string, unknown>];
      expect(settings.maxConcurrentStreams).toBe(7);
      const req = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'text/plain' });
      const response = events(req, 'response');
      const trailers = events(req, 'trailers');
      const closed = events(req, 'close');
      req.end(Buffer.alloc(100_000, 1));
      const [headers, flags] = (await response) as [Record<string, unknown>, number];
      expect(headers[':status']).toBe(201);
      expect(headers['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(headers['x-dup']).toBe('one');
      expect(flags & constants.NGHTTP2_FLAG_END_STREAM).toBe(0);
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      expect(((await trailers)[0] as Record<string, string>)['x-sum']).toBe('100000');
      await closed;
      expect(text).toBe('you sent 100000 bytes');
      expect(req.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
      expect(req.sentHeaders[':method']).toBe('POST');
    } finally {
      session.close();
    }
  });

  it("the server's RST_STREAM: 'aborted', 'error' ERR_HTTP2_STREAM_ERROR, 'close' with its code", async () => {
    const session = connect(origin);
    try {
      const req = session.request({ ':path': '/reset' });
      const error = events(req, 'error');
      const aborted = events(req, 'aborted');
      await events(req, 'close');
      await aborted;
      expect(((await error)[0] as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_STREAM_ERROR');
      expect(req.rstCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    } finally {
      session.close();
    }
  });

  it('stream.close(NGHTTP2_CANCEL) resets the stream on the wire', async () => {
    const session = connect(origin);
    try {
      const req = session.request({ ':method': 'POST', ':path': '/hold' });
      req.write('x');
      await new Promise((r) => setTimeout(r, 100));
      const closed = events(req, 'close');
      req.close(constants.NGHTTP2_CANCEL);
      await closed;
      expect(req.rstCode).toBe(constants.NGHTTP2_CANCEL);
      await until('the server to see the reset', () =>
        seen.some((e) => e.path === '/hold' && e.rstCode === constants.NGHTTP2_CANCEL),
      );
    } finally {
      session.close();
    }
  });

  it("ping() and settings(): callbacks with the round trip; 'localSettings' on the ACK", async () => {
    const session = connect(origin);
    try {
      const [err, duration, payload] = await new Promise<unknown[]>((r) =>
        session.ping(Buffer.from('12345678'), (...a) => r(a)),
      );
      expect(err).toBeNull();
      expect(typeof duration).toBe('number');
      expect(String(payload)).toBe('12345678');
      const local = events(session, 'localSettings');
      const acked = await new Promise<unknown[]>((r) =>
        session.settings({ initialWindowSize: 1 << 20 }, (...a) => r(a)),
      );
      expect(acked[0]).toBeNull();
      expect((acked[1] as Record<string, number>).initialWindowSize).toBe(1 << 20);
      await local;
    } finally {
      session.close();
    }
  });

  it('settings() of several keys calls back once, after the last ACK; one with nothing to send at once; in order', async () => {
    const session = connect(origin);
    try {
      const order: string[] = [];
      const two = new Promise<unknown[]>((r) =>
        session.settings({ initialWindowSize: 2 << 20, maxFrameSize: 32768 }, (...a) => (order.push('two'), r(a))),
      );
      const none = new Promise<unknown[]>((r) => session.settings({}, (...a) => (order.push('none'), r(a))));
      const one = new Promise<unknown[]>((r) =>
        session.settings({ maxHeaderListSize: 65536 }, (...a) => (order.push('one'), r(a))),
      );
      const [a, , c] = await Promise.all([two, none, one]);
      expect(a[0]).toBeNull();
      expect(a[1]).toMatchObject({ initialWindowSize: 2 << 20, maxFrameSize: 32768 });
      expect(c[1]).toMatchObject({ maxHeaderListSize: 65536 });
      expect(order).toEqual(['none', 'two', 'one']);
      expect(session.pendingSettingsAck).toBe(false);
    } finally {
      session.close();
    }
  });

  it("the server's GOAWAY: 'goaway' with its code, last stream and data, then 'error' and 'close'", async () => {
    const session = connect(origin);
    const goaway = events(session, 'goaway');
    const error = events(session, 'error');
    const closed = events(session, 'close');
    const req = session.request({ ':path': '/goaway' });
    req.on('error', () => {});
    const [code, last, data] = (await goaway) as [number, number, Buffer];
    expect(code).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(last).toBeLessThanOrEqual(1); // node's server counts the stream it did not process
    expect(String(data)).toBe('too_many_pings');
    expect(((await error)[0] as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_SESSION_ERROR');
    await closed;
    expect(session.destroyed).toBe(true);
    expect(() => session.request({ ':path': '/' })).toThrow(/destroyed/);
  });

  it("a refused connection: 'error' (ECONNREFUSED), then 'close'", async () => {
    const port = await freePort();
    const session = connect(`http://127.0.0.1:${port}`);
    const error = events(session, 'error');
    const closed = events(session, 'close');
    const [err] = (await error) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
    await closed;
  });
});

describe('@grpc/grpc-js client on h2wasm/node-http2 → grpc-js server', () => {
  it('Node: every check passes over h2wasm', () => grpcOnH2wasm('Node'), 180_000);

  it('Node: the same script on node:http2 itself passes (the checks are sound)', async () => {
    const config: Config = { target, mode: 'all', tag: 'Node-native', raise: raiseTarget, ...tlsTarget };
    const run = await runClient('Node', nativeBundle, config, 150_000);
    const failed = run.lines.filter((l) => l.check && !l.ok);
    expect(failed).toEqual([]);
    expect(run.lines.filter((l) => l.check).length).toBe(CHECKS.length + (tlsTarget ? 1 : 0));
    expect(run.lines.find((l) => l.done)?.via).toBe('runtime');
  }, 180_000);
});

for (const rt of ['Bun', 'Deno'] as const) {
  const skip = skipForMissing(`node-http2 under ${rt}`, BINARIES[rt] ? [] : [rt.toLowerCase()]);
  describe.skipIf(skip)(`@grpc/grpc-js on h2wasm/node-http2 in ${rt}`, () => {
    it(`${rt}: every check passes over h2wasm (messages over 64 KiB included)`, () => grpcOnH2wasm(rt), 180_000);
  });
}
