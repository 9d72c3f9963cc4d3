// examples/rust: h2wasm.wasm hosted by Rust through wasmtime (no JS involved at run time).
// Built with `cargo build --release` into examples/rust/target (gitignored, kept between
// runs on one machine, so only the first build on a machine is cold):
//   - the client against nghttpd (h2c): 0 B, 1 MiB and 10 MiB files, stdout compared by
//     sha256 with the files served; bench mode (-n 2000 -m 100 on one connection); and
//     over TLS (rustls, ALPN h2, -k for a self-signed certificate);
//   - the server against curl --http2-prior-knowledge (GET, 1 MiB POST) and h2load
//     (10000 requests, 4 connections, 20 streams each: all must be 2xx); the Rust client
//     against the Rust server.
// Without `cargo` on PATH every test is skipped with one line; a missing nghttpd, curl
// or h2load skips only the tests that need it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

function which(cmd: string, extra: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extra]) {
    const p = join(dir, cmd);
    if (dir && spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}
const CARGO = which('cargo', [join(homedir(), '.cargo', 'bin')]);
if (!CARGO) console.log('examples/rust: cargo not installed, its tests are skipped');
const NGHTTPD = which('nghttpd');
const CURL = which('curl');
const H2LOAD = which('h2load');
const MISSING = [['nghttpd', NGHTTPD], ['curl', CURL], ['h2load', H2LOAD]].filter(([, p]) => !p).map(([n]) => n);
if (CARGO && MISSING.length) console.log(`examples/rust: ${MISSING.join(', ')} not installed, the tests that need them are skipped`);

const SRC = join(ROOT, 'examples', 'rust');
const TARGET = join(SRC, 'target');
const BIN = join(TARGET, 'release');
const WASM = join(ROOT, 'build', 'h2wasm.wasm');
const lock = existsSync(join(SRC, 'Cargo.lock')) ? readFileSync(join(SRC, 'Cargo.lock'), 'utf8') : '';
const WASMTIME = /name = "wasmtime"\nversion = "([^"]+)"/.exec(lock)?.[1] ?? '?';
const MiB = 1 << 20;
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

/** The bench line the C, Go and Rust clients end stderr with. */
const BENCH_LINE = /^requests=(\d+) ok=(\d+) seconds=(\d+\.\d{3}) req\/s=(\d+)$/;

let dir = '';
let client = '';
let server = '';

describe.skipIf(!CARGO)(`examples/rust (wasmtime ${WASMTIME})`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-rust-example-'));
    client = join(BIN, 'client');
    server = join(BIN, 'server');
    // A cold build (wasmtime with Cranelift, rustls) takes 5 to 10 minutes on two cores; later runs
    // reuse examples/rust/target and take a second. Niced, so that the test files running
    // beside it in the same `npm test` keep their share of the CPU.
    const env = { ...process.env, CARGO_TARGET_DIR: TARGET, PATH: `${process.env.PATH}:${join(homedir(), '.cargo', 'bin')}` };
    const NICE = which('nice');
    const cargo = ['build', '--release', '--locked'];
    const r = NICE
      ? await run(NICE, ['-n', '10', CARGO!, ...cargo], { cwd: SRC, timeoutMs: 1_500_000, env })
      : await run(CARGO!, cargo, { cwd: SRC, timeoutMs: 1_500_000, env });
    if (r.status !== 0) throw new Error(`cargo build --release failed:\n${r.stderr.slice(-4000)}`);
    console.log(`examples/rust: cargo build --release took ${(r.ms / 1000).toFixed(1)} s`);
  }, 1_600_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.skipIf(!NGHTTPD)('client against nghttpd --no-tls', () => {
    let port = 0;
    const files = new Map<string, Buffer>([['empty', Buffer.alloc(0)], ['1mib', randomBytes(MiB)], ['10mib', randomBytes(10 * MiB)], ['tiny', Buffer.from('ok\n')]]);

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
        const r = await run(client, ['--wasm', WASM, `http://127.0.0.1:${port}/${name}`], { timeoutMs: 30_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.length).toBe(files.get(name)!.length);
        expect(sha(r.stdout)).toBe(sha(files.get(name)!));
        expect(r.stderr).toMatch(/^HTTP\/2 200\n/);
        expect(r.stderr).toContain(`content-length: ${files.get(name)!.length}`);
        console.log(`examples/rust: client fetched ${name} (${files.get(name)!.length} B) in ${r.ms.toFixed(0)} ms`);
      });
    }

    it('reports a 404 by exit status 2, with the body on stdout', async () => {
      const r = await run(client, ['--wasm', WASM, `http://127.0.0.1:${port}/missing`], { timeoutMs: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^HTTP\/2 404\n/);
      expect(r.stdout.toString()).toContain('404');
    });

    it('fails in one line and exit status 1 when nothing listens', async () => {
      const r = await run(client, ['--wasm', WASM, `http://127.0.0.1:${await freePort()}/`], { timeoutMs: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('bench mode: -n 2000 -m 100 on one connection, all ok, stdout empty, the summary line last', async () => {
      const r = await run(client, ['-n', '2000', '-m', '100', '--wasm', WASM, `http://127.0.0.1:${port}/tiny`], { timeoutMs: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(0);
      const last = r.stderr.trimEnd().split('\n').pop()!;
      const m = BENCH_LINE.exec(last);
      expect(m, last).not.toBeNull();
      expect(m![1]).toBe('2000');
      expect(m![2]).toBe('2000');
      console.log(`examples/rust: client bench against nghttpd: ${last}`);
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
      writeFileSync(join(tls, 'www', 'tiny'), 'ok\n');
      const key = join(tls, 'key.pem');
      const cert = join(tls, 'cert.pem');
      const r = spawnSync(OPENSSL!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { timeout: 30_000 });
      expect(r.status, String(r.stderr)).toBe(0);
      port = await freePort();
      const d = start(NGHTTPD!, ['-d', join(tls, 'www'), String(port), key, cert]);
      await listening(port, d.child);
    });

    it('fetches 1 MiB with -k (self-signed certificate), checked by sha256', async () => {
      const r = await run(client, ['-k', '--wasm', WASM, `https://127.0.0.1:${port}/file`], { timeoutMs: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(sha(r.stdout)).toBe(sha(file));
      expect(r.stderr).toMatch(/^HTTP\/2 200\n/);
    });

    it('refuses the self-signed certificate without -k', async () => {
      const r = await run(client, ['--wasm', WASM, `https://127.0.0.1:${port}/file`], { timeoutMs: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toMatch(/certificate/);
    });

    it('bench mode over TLS: -n 1000 -m 50, all ok', async () => {
      const r = await run(client, ['-k', '-n', '1000', '-m', '50', '--wasm', WASM, `https://127.0.0.1:${port}/tiny`], { timeoutMs: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(0);
      const m = BENCH_LINE.exec(r.stderr.trimEnd().split('\n').pop()!);
      expect(m?.[2]).toBe('1000');
    });
  });

  describe('server', () => {
    let port = 0;
    let srv: ReturnType<typeof start>;

    beforeAll(async () => {
      port = await freePort();
      srv = start(server, ['--port', String(port), '--wasm', WASM]);
      await listening(port, srv.child);
    });

    it.skipIf(!CURL)('answers curl --http2-prior-knowledge: GET, and a 1 MiB POST with its byte count', async () => {
      const get = await run(CURL!, ['-sS', '--http2-prior-knowledge', '-o', '-', '-w', '\n%{http_version} %{http_code}', `http://127.0.0.1:${port}/hello`], { timeoutMs: 20_000 });
      expect(get.status, get.stderr).toBe(0);
      expect(get.stdout.toString()).toBe(`hello from h2wasm (Rust host, wasmtime ${WASMTIME})\n\n2 200`);

      const file = join(dir, 'post.bin');
      writeFileSync(file, randomBytes(MiB));
      const post = await run(CURL!, ['-sS', '--http2-prior-knowledge', '--data-binary', `@${file}`, '-w', '%{http_version} %{http_code}', `http://127.0.0.1:${port}/upload`], { timeoutMs: 20_000 });
      expect(post.status, post.stderr).toBe(0);
      expect(post.stdout.toString()).toBe(`received ${MiB} bytes\n2 200`);
    });

    it('answers its own Rust client (the two hosts talk to each other)', async () => {
      const r = await run(client, ['--wasm', WASM, '-X', 'POST', '-d', 'abcdef', `http://127.0.0.1:${port}/`], { timeoutMs: 20_000 });
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
      console.log(`interop: Rust host (wasmtime ${WASMTIME}) server ${Math.round(rps)} req/s`);
      expect(srv.child.exitCode, srv.stderr()).toBeNull(); // still up after the load
    });
  });
});
