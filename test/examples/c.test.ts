// The C examples (examples/c: h2wasm.wasm through wasm2c, gcc) against real peers:
//   - client: GETs 0 B, 1 MiB and 10 MiB files from nghttpd; stdout must be the file, byte for byte;
//     bench mode (-n 2000 -m 100, one connection) against nghttpd: all ok, the summary line last;
//   - server: curl GET and a 1 MiB POST (the byte count comes back), h2load -n 10000 -c 4 -m 20;
//   - upload: a 5 MiB file POSTed to a node:http2 server that answers the sha256 it received.
// Without wasm2c or gcc the suite is skipped with one line; a missing nghttpd, curl or
// h2load skips only the tests that need it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net, { type AddressInfo } from 'node:net';
import http2 from 'node:http2';
import { ROOT } from '../support/wasm.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const TOOLS = has('wasm2c') && has('gcc');
if (!TOOLS) console.log('examples/c: wasm2c or gcc not installed, the C example tests are skipped');
const NGHTTPD = has('nghttpd');
const CURL = has('curl');
const H2LOAD = has('h2load');

const DIR = join(ROOT, 'examples', 'c');
const MiB = 1 << 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const children: ChildProcess[] = [];
const closers: (() => Promise<void> | void)[] = [];
let tmp = '';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits (bounded) until something accepts connections on the port. */
async function waitForPort(port: number, child: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port} after ${ms} ms`);
}

function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

/** Runs a program to its end (bounded): stdout as bytes, stderr as text. */
function run(cmd: string, args: string[], ms = 60_000): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 * MiB, timeout: ms, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? -1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

/** The bench line the C, Go and Rust clients end stderr with. */
const BENCH_LINE = /^requests=(\d+) ok=(\d+) seconds=(\d+\.\d{3}) req\/s=(\d+)$/;

const h2loadRate = (out: string) => Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
const h2load2xx = (out: string) => Number(/status codes: (\d+) 2xx/.exec(out)?.[1] ?? NaN);

describe.skipIf(!TOOLS)('C examples (wasm2c + gcc)', () => {
  let nghttpdPort = 0;
  let serverPort = 0;
  const files = new Map<string, Buffer>();
  let cRate = NaN;
  let ngRate = NaN;

  beforeAll(async () => {
    const make = spawnSync('make', ['-C', DIR], { encoding: 'utf8', timeout: 300_000 });
    if (make.status !== 0) throw new Error(`make -C examples/c failed:\n${make.stdout}\n${make.stderr}`);
    tmp = mkdtempSync(join(tmpdir(), 'h2wasm-c-'));
    for (const [name, size] of [['empty', 0], ['one', MiB], ['ten', 10 * MiB], ['tiny', 16]] as const) {
      const data = randomBytes(size);
      files.set(name, data);
      writeFileSync(join(tmp, name), data);
    }
    if (NGHTTPD) {
      nghttpdPort = await freePort();
      const ng = start('nghttpd', ['--no-tls', '-d', tmp, String(nghttpdPort)]);
      await waitForPort(nghttpdPort, ng);
    }
    serverPort = await freePort();
    const srv = start(join(DIR, 'server'), ['--port', String(serverPort)]);
    await waitForPort(serverPort, srv);
  }, 300_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    while (closers.length) await closers.pop()!();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (Number.isFinite(cRate) && Number.isFinite(ngRate)) {
      console.log(`interop: C server (wasm2c) ${Math.round(cRate)} req/s vs nghttpd ${Math.round(ngRate)} req/s`);
    }
  });

  describe.skipIf(!NGHTTPD)('client against nghttpd', () => {
    for (const name of ['empty', 'one', 'ten']) {
      it(`GET /${name}: stdout is the file, byte for byte; status on stderr`, async () => {
        const r = await run(join(DIR, 'client'), ['127.0.0.1', String(nghttpdPort), `/${name}`]);
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBe(files.get(name)!.length);
        expect(sha(r.stdout)).toBe(sha(files.get(name)!));
        expect(r.stderr).toMatch(/Response Status: 200/);
      });
    }

    it('bench mode: -n 2000 -m 100 on one connection, all ok, stdout empty, the summary line last', async () => {
      const r = await run(join(DIR, 'client'), ['-n', '2000', '-m', '100', '127.0.0.1', String(nghttpdPort), '/tiny']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(0);
      const last = r.stderr.trimEnd().split('\n').pop()!;
      const m = BENCH_LINE.exec(last);
      expect(m, last).not.toBeNull();
      expect(Number(m![1])).toBe(2000);
      expect(Number(m![2])).toBe(2000);
      expect(Number(m![4])).toBeGreaterThan(0);
      console.log(`examples/c: client bench against nghttpd: ${last}`);
    });

    it('bench mode counts what is not 2xx: 404s are not ok, exit status 1', async () => {
      const r = await run(join(DIR, 'client'), ['-n', '50', '-m', '10', '127.0.0.1', String(nghttpdPort), '/missing']);
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^requests=50 ok=0 seconds=\d+\.\d{3} req\/s=0$/);
    });

    it('GET of a missing file: the 404 page on stdout, status 404 on stderr', async () => {
      const r = await run(join(DIR, 'client'), ['127.0.0.1', String(nghttpdPort), '/missing']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/Response Status: 404/);
      expect(r.stdout.toString()).toMatch(/404/);
    });

    it('fails with a non-zero exit when nothing listens', async () => {
      const r = await run(join(DIR, 'client'), ['127.0.0.1', String(await freePort()), '/']);
      expect(r.code).not.toBe(0);
      expect(r.stdout.length).toBe(0);
    });
  });

  describe.skipIf(!CURL)('server against curl', () => {
    it('answers a GET with 200 and a short body', async () => {
      const r = await run('curl', ['-s', '--http2-prior-knowledge', '-w', '\n%{http_code} %{http_version}', `http://127.0.0.1:${serverPort}/hello`], 20_000);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('hello from h2wasm (C, wasm2c)\n\n200 2');
    });

    it('answers a 1 MiB POST with the byte count', async () => {
      const body = join(tmp, 'one');
      const r = await run('curl', ['-s', '--http2-prior-knowledge', '--data-binary', `@${body}`, '-w', '\n%{http_code}', `http://127.0.0.1:${serverPort}/upload`], 20_000);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe(`received ${MiB} bytes\n\n200`);
    });
  });

  describe.skipIf(!H2LOAD)('server under h2load', () => {
    it('h2load -n 10000 -c 4 -m 20: every response 2xx (and nghttpd measured beside it)', async () => {
      const r = await run('h2load', ['-n', '10000', '-c', '4', '-m', '20', `http://127.0.0.1:${serverPort}/`], 60_000);
      const out = r.stdout.toString();
      expect(r.code, out).toBe(0);
      expect(out).toMatch(/requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, 0 failed, 0 errored/);
      expect(h2load2xx(out)).toBe(10000);
      cRate = h2loadRate(out);
      expect(cRate).toBeGreaterThan(0);
      if (NGHTTPD) {
        const ng = await run('h2load', ['-n', '10000', '-c', '4', '-m', '20', `http://127.0.0.1:${nghttpdPort}/empty`], 60_000);
        ngRate = h2loadRate(ng.stdout.toString());
        expect(h2load2xx(ng.stdout.toString())).toBe(10000);
      }
    });
  });

  it('upload to the C server: both sides wait only on wakers, and 5 MiB still arrives without stalls', async () => {
    // Before the fix in assembly/ffi/conn.ts this took ~30 s: each side sat in a 1 s
    // select() timeout with data to read or send and no waker taken.
    const file = join(tmp, 'five-c');
    writeFileSync(file, randomBytes(5 * MiB));
    const t0 = Date.now();
    const r = await run(join(DIR, 'upload'), ['127.0.0.1', String(serverPort), '/up', file], 20_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(`received ${5 * MiB} bytes\n`);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('upload streams a 5 MiB file to node:http2, which answers the sha256 it received', async () => {
    const server = http2.createServer((req, res) => {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => { h.update(d); n += d.length; });
      req.on('end', () => res.end(`${h.digest('hex')} ${n} ${req.method} ${req.url}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const data = randomBytes(5 * MiB);
    const file = join(tmp, 'five');
    writeFileSync(file, data);
    const port = (server.address() as AddressInfo).port;
    const r = await run(join(DIR, 'upload'), ['127.0.0.1', String(port), '/up', file], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(`${sha(data)} ${5 * MiB} POST /up`);
    expect(r.stderr).toMatch(/Response Status: 200/);
  });
});
