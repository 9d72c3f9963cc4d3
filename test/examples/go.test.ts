// examples/go: h2wasm.wasm hosted by Go through wazero (no JS involved at run time).
// Both commands are built with `go build` into a temp dir first, so the timings below are
// the programs' own, not the compiler's:
//   - examples/go/client against nghttpd (h2c): 0 B, 1 MiB and 10 MiB files, stdout
//     compared by sha256 with the files served; bench mode (-n 2000 -m 100 on one
//     connection: all ok, the summary line last); and over TLS (ALPN h2, -k);
//   - examples/go/server against curl --http2-prior-knowledge (GET, 1 MiB POST) and
//     h2load (10000 requests, 4 connections, 20 streams each: all must be 2xx).
// Without `go` on PATH every test is skipped with one line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

function which(cmd: string, extra: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extra]) {
    const p = join(dir, cmd);
    if (dir && spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}
const GO = which('go', ['/usr/local/go/bin']);
if (!GO) console.log('examples/go: go not installed, its tests are skipped');
const NGHTTPD = which('nghttpd');
const CURL = which('curl');
const H2LOAD = which('h2load');

const SRC = join(ROOT, 'examples', 'go');
const WASM = join(ROOT, 'build', 'h2wasm.wasm');
const WAZERO = /github\.com\/tetratelabs\/wazero (v\S+)/.exec(readFileSync(join(SRC, 'go.mod'), 'utf8'))?.[1] ?? '?';
const MiB = 1 << 20;
/** The bench line the C, Go and Rust clients end stderr with. */
const BENCH_LINE = /^requests=(\d+) ok=(\d+) seconds=(\d+\.\d{3}) req\/s=(\d+)$/;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Runs a command to completion without blocking the event loop; killed after timeoutMs. */
function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ status: number | null; stdout: Buffer; stderr: string; ms: number }>((resolve) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => { err += `\n(killed after ${opts.timeoutMs ?? 60000} ms)`; p.kill('SIGKILL'); }, opts.timeoutMs ?? 60000);
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - t0 }); });
  });
}

/** A free loopback port: bind 0, read it, release it. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves once something accepts on 127.0.0.1:port (or rejects after ms). */
async function listening(port: number, child: ChildProcess, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const children: ChildProcess[] = [];
function start(cmd: string, args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  children.push(child);
  return { child, stderr: () => err };
}

let dir = '';
let client = '';
let server = '';

describe.skipIf(!GO)(`examples/go (wazero ${WAZERO})`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-go-example-'));
    client = join(dir, 'client');
    server = join(dir, 'server');
    const env = { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin` };
    for (const [out, pkg] of [[client, './client'], [server, './server']]) {
      const r = await run(GO!, ['build', '-o', out, pkg], { cwd: SRC, timeoutMs: 240_000, env });
      if (r.status !== 0) throw new Error(`go build ${pkg} failed:\n${r.stderr}`);
    }
  }, 300_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.skipIf(!NGHTTPD)('client against nghttpd --no-tls', () => {
    let port = 0;
    const files = new Map<string, Buffer>([['empty', Buffer.alloc(0)], ['1mib', randomBytes(MiB)], ['10mib', randomBytes(10 * MiB)], ['tiny', randomBytes(16)]]);

    beforeAll(async () => {
      const www = join(dir, 'www');
      spawnSync('mkdir', ['-p', www]);
      for (const [name, data] of files) writeFileSync(join(www, name), data);
      port = await freePort();
      const d = start(NGHTTPD!, ['--no-tls', '-d', www, String(port)]);
      await listening(port, d.child);
    });

    for (const name of ['empty', '1mib', '10mib']) {
      it(`fetches ${name}: stdout is exactly the file (sha256), status on stderr`, async () => {
        const r = await run(client, ['-wasm', WASM, `http://127.0.0.1:${port}/${name}`], { timeoutMs: 30_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.length).toBe(files.get(name)!.length);
        expect(sha(r.stdout)).toBe(sha(files.get(name)!));
        expect(r.stderr).toMatch(/^HTTP\/2 200\n/);
        expect(r.stderr).toContain(`content-length: ${files.get(name)!.length}`);
        console.log(`examples/go: client fetched ${name} (${files.get(name)!.length} B) in ${r.ms.toFixed(0)} ms`);
      });
    }

    it('bench mode: -n 2000 -m 100 on one connection, all ok, stdout empty, the summary line last', async () => {
      const r = await run(client, ['-n', '2000', '-m', '100', '-wasm', WASM, `http://127.0.0.1:${port}/tiny`], { timeoutMs: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(0);
      const last = r.stderr.trimEnd().split('\n').pop()!;
      const m = BENCH_LINE.exec(last);
      expect(m, last).not.toBeNull();
      expect(Number(m![1])).toBe(2000);
      expect(Number(m![2])).toBe(2000);
      expect(Number(m![4])).toBeGreaterThan(0);
      console.log(`examples/go: client bench against nghttpd: ${last}`);
    });

    it('bench mode counts what is not 2xx: 404s are not ok, exit status 1', async () => {
      const r = await run(client, ['-n', '50', '-m', '10', '-wasm', WASM, `http://127.0.0.1:${port}/missing`], { timeoutMs: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^requests=50 ok=0 seconds=\d+\.\d{3} req\/s=0$/);
    });

    it('reports a 404 by exit status 2, with the body on stdout', async () => {
      const r = await run(client, ['-wasm', WASM, `http://127.0.0.1:${port}/missing`], { timeoutMs: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^HTTP\/2 404\n/);
      expect(r.stdout.toString()).toContain('404');
    });

    it('fails in one line and exit status 1 when nothing listens', async () => {
      const r = await run(client, ['-wasm', WASM, `http://127.0.0.1:${await freePort()}/`], { timeoutMs: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  });

  const OPENSSL = which('openssl');
  describe.skipIf(!NGHTTPD || !OPENSSL)('client against nghttpd over TLS (ALPN h2)', () => {
    let port = 0;
    const file = randomBytes(MiB);

    beforeAll(async () => {
      const tls = join(dir, 'tls');
      spawnSync('mkdir', ['-p', join(tls, 'www')]);
      writeFileSync(join(tls, 'www', 'file'), file);
      const key = join(tls, 'key.pem');
      const cert = join(tls, 'cert.pem');
      const r = spawnSync(OPENSSL!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { timeout: 30_000 });
      expect(r.status, String(r.stderr)).toBe(0);
      port = await freePort();
      const d = start(NGHTTPD!, ['-d', join(tls, 'www'), String(port), key, cert]);
      await listening(port, d.child);
    });

    it('fetches 1 MiB with -k (self-signed certificate), checked by sha256', async () => {
      const r = await run(client, ['-k', '-wasm', WASM, `https://127.0.0.1:${port}/file`], { timeoutMs: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(sha(r.stdout)).toBe(sha(file));
      expect(r.stderr).toMatch(/^HTTP\/2 200\n/);
    });

    it('refuses the self-signed certificate without -k', async () => {
      const r = await run(client, ['-wasm', WASM, `https://127.0.0.1:${port}/file`], { timeoutMs: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toMatch(/certificate/);
    });
  });

  describe('server', () => {
    let port = 0;
    let srv: ReturnType<typeof start>;

    beforeAll(async () => {
      port = await freePort();
      srv = start(server, ['--port', String(port), '-wasm', WASM]);
      await listening(port, srv.child);
    });

    it.skipIf(!CURL)('answers curl --http2-prior-knowledge: GET, and a 1 MiB POST with its byte count', async () => {
      const get = await run(CURL!, ['-sS', '--http2-prior-knowledge', '-o', '-', '-w', '\n%{http_version} %{http_code}', `http://127.0.0.1:${port}/hello`], { timeoutMs: 20_000 });
      expect(get.status, get.stderr).toBe(0);
      expect(get.stdout.toString()).toMatch(/^hello from h2wasm \(Go host, wazero v[\d.]+\)\n\n2 200$/);

      const file = join(dir, 'post.bin');
      writeFileSync(file, randomBytes(MiB));
      const post = await run(CURL!, ['-sS', '--http2-prior-knowledge', '--data-binary', `@${file}`, '-w', '%{http_version} %{http_code}', `http://127.0.0.1:${port}/upload`], { timeoutMs: 20_000 });
      expect(post.status, post.stderr).toBe(0);
      expect(post.stdout.toString()).toBe(`received ${MiB} bytes\n2 200`);
    });

    it('answers its own Go client (the two hosts talk to each other)', async () => {
      const r = await run(client, ['-wasm', WASM, '-X', 'POST', '-d', 'abcdef', `http://127.0.0.1:${port}/`], { timeoutMs: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe('received 6 bytes\n');
    });

    it.skipIf(!H2LOAD)('serves h2load -n 10000 -c 4 -m 20, every response 2xx', async () => {
      const r = await run(H2LOAD!, ['-n', '10000', '-c', '4', '-m', '20', `http://127.0.0.1:${port}/`], { timeoutMs: 60_000 });
      const out = r.stdout.toString();
      expect(r.status, out + r.stderr).toBe(0);
      expect(out).toMatch(/requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, 0 failed, 0 errored, 0 timeout/);
      expect(out).toMatch(/status codes: 10000 2xx, 0 3xx, 0 4xx, 0 5xx/);
      const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1]);
      expect(rps).toBeGreaterThan(0);
      console.log(`interop: Go host (wazero ${WAZERO}) server ${Math.round(rps)} req/s`);
      expect(srv.child.exitCode, srv.stderr()).toBeNull(); // still up after the load
    });
  });
});
