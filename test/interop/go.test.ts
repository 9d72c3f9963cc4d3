// h2wasm against Go's HTTP/2 (golang.org/x/net/http2), both ways, h2c and TLS. The peer is
// test/peers/go (standard library + x/net only), built once per run into a temp dir:
//   - the Go client (http2.Transport) against our serve(): streamed request bodies (an
//     io.Pipe fed in chunks) with request trailers, streamed responses with trailers;
//   - our client (connect) against the Go server (h2c.NewHandler / http.Server + TLS):
//     streamed request bodies with trailers, responses flushed per chunk with trailers;
//   - full duplex /echo both ways, and the CLI (`serve`, `get`) against Go.
// Both sides speak the protocol described at the top of test/peers/go/main.go: bodies are
// gen(1, n) up and gen(2, n) down, checked by sha256, and the server returns in trailers
// what it received (bytes, sha256, x-echo-<name> for each request trailer).
// Without `go` on PATH every test is skipped with one line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { serve, connect, type Server, type IncomingRequest, type Responder } from '../../bindings/index.js';
import { recorded, recordSkipped } from './record.js';

function which(cmd: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/local/go/bin']) {
    const p = join(dir, cmd);
    if (dir && spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}
const GO = which('go');
if (!GO) {
  console.log('interop: go not installed, its tests are skipped');
  recordSkipped('golang.org/x/net/http2');
}
/** The interop table's row names (test/interop/record.ts); the version is known once the peer is built. */
const PEER = 'golang.org/x/net/http2';
let VERSION = '';
const rec = <T>(direction: string, check: string, fn: () => T | Promise<T>) =>
  recorded(PEER, VERSION, direction, check, fn);

const PEER_SRC = join(ROOT, 'test', 'peers', 'go');
const CLI = join(ROOT, 'dist', 'bindings', 'cli.js');
const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, MiB, 16 * MiB];

/** The peer's body generator: xorshift32 from 0x9E3779B9 ^ seed, four little-endian bytes a step. */
function gen(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (0x9e3779b9 ^ seed) >>> 0;
  for (let i = 0; i < n; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (x >>> (8 * j)) & 0xff;
  }
  return out;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const up = new Map(SIZES.map((n) => [n, gen(1, n)]));
const down = new Map(SIZES.map((n) => [n, gen(2, n)]));
const upSha = (n: number) => sha(up.get(n) ?? gen(1, n));
const downSha = (n: number) => sha(down.get(n) ?? gen(2, n));

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, Math.min(i + size, b.length));
}

/** Runs a command without blocking the event loop (our in-process server must keep serving). */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      err += `\n(killed after ${opts.timeoutMs ?? 60000} ms)`;
      p.kill('SIGKILL');
    }, opts.timeoutMs ?? 60000);
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

interface GoResult {
  request: string;
  proto: string;
  status: number;
  headers: Record<string, string>;
  bytes: number;
  sha256: string;
  text?: string;
  trailers: Record<string, string>;
  sentBytes: number;
  sentSha256: string;
  sentTrailers: Record<string, string>;
  error?: string;
}

/** Starts a long-running child that prints `<marker> URL` once it listens. */
function startProcess(
  cmd: string,
  args: string[],
  stream: 'stdout' | 'stderr',
  marker: RegExp,
): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${text}`)), 15000);
    const onData = (d: Buffer) => {
      text += d;
      const m = marker.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], proc });
      }
    };
    proc.stdout!.on('data', stream === 'stdout' ? onData : () => {});
    proc.stderr!.on(
      'data',
      stream === 'stderr'
        ? onData
        : (d) => {
            text += d;
          },
    );
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}): ${text}`));
    });
  });
}
const children = new Set<ChildProcess>();

/** Our side of the protocol: read the whole request, then answer ?respond=N with trailers. */
async function echoHandler(req: IncomingRequest, res: Responder): Promise<void> {
  const url = new URL(req.path, 'http://x');
  if (url.pathname === '/echo') {
    // Full duplex: each chunk goes back as it arrives. Trailers must be known when
    // respond() is called, so this path sends none.
    await res.respond(200, [['content-type', 'application/octet-stream']], req.body());
    return;
  }
  const h = createHash('sha256');
  let n = 0;
  for await (const c of req.body()) {
    h.update(c);
    n += c.length;
  }
  const trailers = await req.trailers();
  const m = Number(url.searchParams.get('respond') ?? '0');
  const body = down.get(m) ?? gen(2, m);
  await res.respond(
    200,
    [
      ['content-type', 'application/octet-stream'],
      ['x-request-method', req.method],
    ],
    chunks(body, 16 * KiB),
    [
      ['x-request-bytes', String(n)],
      ['x-request-sha256', h.digest('hex')],
      ['x-response-sha256', sha(body)],
      ...trailers.map(([k, v]): [string, string] => [`x-echo-${k}`, v]),
    ],
  );
}

describe.skipIf(!GO)('Go (golang.org/x/net/http2) against h2wasm', () => {
  let dir: string;
  let peer: string;
  let cert: string;
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-go-'));
    peer = join(dir, 'h2peer');
    const build = await run(GO!, ['build', '-buildvcs=false', '-o', peer, '.'], { cwd: PEER_SRC, timeoutMs: 180000 });
    expect(build.status, `go build failed: ${build.stderr}`).toBe(0);
    const v = JSON.parse((await run(peer, ['version'])).stdout.toString()) as { go: string; xnet: string };
    console.log(`interop: go ${v.go.replace(/^go/, '')}, golang.org/x/net ${v.xnet}`);
    VERSION = `${v.xnet} (go ${v.go.replace(/^go/, '')})`;
    const c = await run(peer, ['cert', dir]);
    expect(c.status, c.stderr).toBe(0);
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
  }, 200000);

  afterAll(() => {
    for (const p of children) p.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the Go client; one parsed result per request. */
  async function goClient(url: string, args: string[]): Promise<GoResult[]> {
    const r = await run(peer, ['client', url, ...args], { timeoutMs: 60000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as GoResult);
  }

  describe.each([
    ['h2c', false],
    ['TLS', true],
  ] as const)('Go client → h2wasm serve() (%s)', (name, secure) => {
    const DIR = `peer client → h2wasm serve() (${name})`;
    let server: Server;
    beforeAll(async () => {
      server = await serve({
        port: 0,
        hostname: '127.0.0.1',
        handler: echoHandler,
        ...(secure ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('0 B, 1 MiB, 16 MiB streamed up and down on one connection, trailers both ways', () =>
      rec(DIR, '0 B / 1 MiB / 16 MiB streamed each way by sha256, trailers both ways', async () => {
        const results = await goClient(server.url, [
          '--sizes',
          SIZES.join(','),
          '--chunk',
          String(16 * KiB + 7),
          '--trailers',
          'x-client-sum=abc,x-second=2',
        ]);
        expect(results).toHaveLength(SIZES.length);
        results.forEach((r, i) => {
          const n = SIZES[i];
          expect(r.error, r.request).toBeUndefined();
          expect(r.proto).toBe('HTTP/2.0');
          expect(r.status).toBe(200);
          expect(r.headers['x-request-method']).toBe('POST');
          // what Go sent is what we think it sent (same generator on both sides)
          expect([r.sentBytes, r.sentSha256]).toEqual([n, upSha(n)]);
          // what we received, by our server's own count, in our trailers
          expect(r.trailers['x-request-bytes']).toBe(String(n));
          expect(r.trailers['x-request-sha256']).toBe(upSha(n));
          expect(r.trailers['x-echo-x-client-sum']).toBe('abc');
          expect(r.trailers['x-echo-x-second']).toBe('2');
          // what Go received from us
          expect([r.bytes, r.sha256]).toEqual([n, downSha(n)]);
          expect(r.trailers['x-response-sha256']).toBe(downSha(n));
        });
      }));

    it('full duplex: a 1 MiB body echoed while it is still being uploaded', () =>
      rec(DIR, 'full duplex echo, 1 MiB', async () => {
        const [r] = await goClient(server.url + '/echo', [
          '--sizes',
          String(MiB),
          '--path',
          '/echo',
          '--chunk',
          '4096',
        ]);
        expect(r.error).toBeUndefined();
        expect(r.status).toBe(200);
        expect([r.bytes, r.sha256]).toEqual([MiB, upSha(MiB)]);
      }));
  });

  it('Go client → h2wasm serve CLI: a streamed 1 MiB POST is counted', () =>
    rec('peer client → h2wasm serve CLI (h2c)', 'streamed 1 MiB POST counted', async () => {
      const { url } = await startProcess(process.execPath, [CLI, 'serve', '--port', '0'], 'stderr', /serving (\S+)/);
      const [r] = await goClient(url, ['--sizes', String(MiB), '--respond', 'none']);
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.text).toBe(`received ${MiB} bytes\n`);
    }));

  describe.each([
    ['h2c', false],
    ['TLS', true],
  ] as const)('h2wasm connect() → Go server (%s)', (name, secure) => {
    const DIR = `h2wasm connect() → peer server (${name})`;
    let url: string;
    beforeAll(async () => {
      ({ url } = await startProcess(
        peer,
        ['server', '--port', '0', ...(secure ? ['--tls-cert', cert, '--tls-key', key] : [])],
        'stdout',
        /listening (\S+)/,
      ));
    });
    const open = () => connect(url, secure ? { ca: readFileSync(cert) } : {});

    it('0 B, 1 MiB, 16 MiB streamed up (with trailers) and down (flushed per chunk, with trailers)', () =>
      rec(DIR, '0 B / 1 MiB / 16 MiB streamed each way by sha256, trailers both ways', async () => {
        const session = open();
        try {
          for (const n of SIZES) {
            const res = await session.request({
              method: 'POST',
              path: `/?respond=${n}`,
              headers: { 'content-type': 'application/octet-stream' },
              body: chunks(up.get(n)!, 16 * KiB + 7),
              trailers: { 'x-client-sum': `n=${n}`, 'x-second': '2' },
            });
            expect(res.status).toBe(200);
            const h = createHash('sha256');
            let got = 0;
            for await (const c of res.body) {
              h.update(c);
              got += c.length;
            }
            expect([got, h.digest('hex')]).toEqual([n, downSha(n)]);
            const trailers = Object.fromEntries(await res.trailers());
            expect(trailers).toEqual({
              'x-request-bytes': String(n),
              'x-request-sha256': upSha(n),
              'x-response-sha256': downSha(n),
              'x-echo-x-client-sum': `n=${n}`,
              'x-echo-x-second': '2',
            });
          }
        } finally {
          await session.close();
        }
      }));

    it('full duplex: 1 MiB echoed while it is being uploaded, trailers echoed after', () =>
      rec(DIR, 'full duplex echo, 1 MiB, trailers echoed', async () => {
        const session = open();
        try {
          const res = await session.request({
            method: 'POST',
            path: '/echo',
            body: chunks(up.get(MiB)!, 4096),
            trailers: { 'x-done': 'yes' },
          });
          expect(res.status).toBe(200);
          const body = await res.bytes();
          expect([body.length, sha(body)]).toEqual([MiB, upSha(MiB)]);
          expect(Object.fromEntries(await res.trailers())).toEqual({
            'x-request-bytes': String(MiB),
            'x-request-sha256': upSha(MiB),
            'x-echo-x-done': 'yes',
          });
        } finally {
          await session.close();
        }
      }));

    it("h2wasm get writes the Go server's 1 MiB body to stdout byte for byte", () =>
      rec(`h2wasm get (CLI) → peer server (${name})`, '1 MiB body to stdout byte for byte', async () => {
        const r = await run(process.execPath, [CLI, 'get', ...(secure ? ['-k'] : []), `${url}/?respond=${MiB}`]);
        expect(r.status, r.stderr).toBe(0);
        expect(sha(r.stdout)).toBe(downSha(MiB));
      }));
  });
});
