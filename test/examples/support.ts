// Shared helpers of the examples suites (c, go, rust): finding tools, running commands
// to their end, starting long-running peers (nghttpd, the servers under test) and
// waiting for them to listen, a self-signed certificate for nghttpd, the bench summary
// line, h2load; and hostExampleSuite, the one suite the Go and Rust hosts both pass.
// sha and freePort are the bindings suites' own, re-exported.
import http2 from 'node:http2';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { sha, freePort } from '../bindings/support.js';
import { get } from '../interop/attack-kit.js';

/** sha(bytes): hex sha256; freePort(): a free TCP port on 127.0.0.1 (the bindings suites' helpers). */
export { sha, freePort };

/** 1 MiB, in bytes. */
export const MiB = 1 << 20;

/** The path of an executable cmd found in PATH, then in the extra dirs; null when there is none. */
export function which(cmd: string, extra: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extra]) {
    const p = join(dir, cmd);
    if (dir && spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}

/** What run() reports: exit status (null when killed), stdout as bytes, stderr as text, wall time. */
export interface RunResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** Runs a command to completion without blocking the event loop; killed after timeoutMs (default 60 s). */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise<RunResult>((resolve) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      resolve({ status, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - t0 });
    });
  });
}

/** Resolves once something accepts on 127.0.0.1:port; rejects if the child exits first or after ms. */
export async function listening(port: number, child: ChildProcess, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process started by Processes.start: the child and the last 4000 characters of its stderr. */
export interface Started {
  child: ChildProcess;
  stderr: () => string;
}

/**
 * The long-running processes one suite starts (stdout ignored, stderr kept), so that its
 * afterAll can stop them all with stopAll().
 */
export class Processes {
  private readonly children: ChildProcess[] = [];

  /** Spawns cmd with args and keeps it, to be stopped by stopAll(). */
  start(cmd: string, args: string[]): Started {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => {
      err = (err + d).slice(-4000);
    });
    this.children.push(child);
    return { child, stderr: () => err };
  }

  /** SIGKILLs every process started here that is still running. */
  stopAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/**
 * Starts a server (through procs) on a free port, args(port) naming it on the command
 * line, and resolves once it listens (waiting at most ms, listening()'s default when absent).
 */
export async function startOnFreePort(
  procs: Processes,
  cmd: string,
  args: (port: number) => string[],
  ms?: number,
): Promise<Started & { port: number }> {
  const port = await freePort();
  const started = procs.start(cmd, args(port));
  await listening(port, started.child, ms);
  return { ...started, port };
}

/**
 * Starts nghttpd (through procs) serving the files in docroot on a free port: h2c, or TLS
 * with ALPN h2 when given opts.tls (key and certificate files). Resolves with the port once
 * it listens (waiting at most opts.ms, listening()'s default when absent).
 */
export async function startNghttpd(
  procs: Processes,
  nghttpd: string,
  docroot: string,
  opts: { tls?: { key: string; cert: string }; ms?: number } = {},
): Promise<number> {
  const { tls } = opts;
  const args = (port: number) =>
    tls ? ['-d', docroot, String(port), tls.key, tls.cert] : ['--no-tls', '-d', docroot, String(port)];
  return (await startOnFreePort(procs, nghttpd, args, opts.ms)).port;
}

/** Writes files (name -> contents) into docroot (made if missing), then startNghttpd() on it. */
export async function serveFiles(
  procs: Processes,
  nghttpd: string,
  docroot: string,
  files: Iterable<[string, Uint8Array | string]>,
  opts: { tls?: { key: string; cert: string }; ms?: number } = {},
): Promise<number> {
  mkdirSync(docroot, { recursive: true });
  for (const [name, data] of files) writeFileSync(join(docroot, name), data);
  return startNghttpd(procs, nghttpd, docroot, opts);
}

/** A self-signed RSA certificate for CN=localhost, valid one day, made with openssl into dir/key.pem and dir/cert.pem (dir made if missing). */
export function selfSignedCert(openssl: string, dir: string): { key: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { timeout: 30_000 },
  );
  expect(r.status, String(r.stderr)).toBe(0);
  return { key, cert };
}

/** The bench line the C, Go and Rust clients end stderr with. */
export const BENCH_LINE = /^requests=(\d+) ok=(\d+) seconds=(\d+\.\d{3}) req\/s=(\d+)$/;

/** A bench summary line, parsed. */
export interface BenchSummary {
  last: string;
  requests: number;
  ok: number;
  seconds: number;
  rps: number;
}

/** The last line of a client's stderr in bench mode, parsed; fails the test when it is not BENCH_LINE. */
export function benchSummary(stderr: string): BenchSummary {
  const last = stderr.trimEnd().split('\n').pop()!;
  const m = BENCH_LINE.exec(last);
  expect(m, last).not.toBeNull();
  return { last, requests: Number(m![1]), ok: Number(m![2]), seconds: Number(m![3]), rps: Number(m![4]) };
}

/**
 * Asserts a client's run in bench mode (C, Go or Rust): exit status 0 when every request
 * was ok and 1 otherwise, nothing on stdout, and a summary line counting `requests` of
 * which `ok` were ok (req/s above 0 when any were, 0 when none). Returns the summary.
 */
export function expectBench(r: RunResult, requests: number, ok = requests): BenchSummary {
  expect(r.status, r.stderr).toBe(ok === requests ? 0 : 1);
  expect(r.stdout.length).toBe(0);
  const b = benchSummary(r.stderr);
  expect(b.requests).toBe(requests);
  expect(b.ok).toBe(ok);
  if (ok > 0) expect(b.rps).toBeGreaterThan(0);
  else expect(b.rps).toBe(0);
  return b;
}

/**
 * One host example: h2wasm.wasm hosted by another language's runtime (Go through wazero,
 * Rust through wasmtime) as a client and a server that take the same command line.
 */
export interface HostExample {
  /** The language: 'Go', 'Rust'. */
  name: string;
  /** Its folder, which console lines start with: 'examples/go'. */
  label: string;
  /** The runtime and its version: 'wazero v1.12.0'. */
  engine: string;
  /** The toolchain that builds it (the whole suite is skipped without). */
  toolchain: string | null;
  /** Builds the client and the server (dir is the suite's fresh temp dir); resolves with their paths. */
  build: (dir: string) => Promise<{ client: string; server: string }>;
  /** How long build may take. */
  buildTimeoutMs: number;
  /** The flag that names the wasm file: '-wasm' or '--wasm'. */
  wasmFlag: string;
  /** What the server's GET /hello and curl's `\n%{http_version} %{http_code}` make together (or a pattern for it). */
  hello: string | RegExp;
  /** An extra test: bench mode against a missing path counts the 404s as not ok (exit status 1). */
  benchCountsNot2xx?: boolean;
  /** An extra test: bench mode over TLS (-k -n 1000 -m 50), all ok. */
  tlsBench?: boolean;
}

/** The peers the examples suites talk to; a missing one skips only the tests that need it. */
export const PEERS = {
  nghttpd: which('nghttpd'),
  curl: which('curl'),
  h2load: which('h2load'),
  openssl: which('openssl'),
};

/**
 * The suite every host example passes:
 *   - the client against nghttpd (h2c): 0 B, 1 MiB and 10 MiB files, stdout compared by
 *     sha256 with the files served; bench mode (-n 2000 -m 100 on one connection); a 404
 *     (exit status 2); nothing listening (exit status 1, one line); over TLS (ALPN h2, -k
 *     for a self-signed certificate, refused without it);
 *   - the server against curl --http2-prior-knowledge (GET, 1 MiB POST), its own client,
 *     and h2load (10000 requests, 4 connections, 20 streams each: all must be 2xx).
 */
export function hostExampleSuite(ex: HostExample): void {
  const WASM = join(ROOT, 'build', 'h2wasm.wasm');
  const { nghttpd: NGHTTPD, curl: CURL, h2load: H2LOAD, openssl: OPENSSL } = PEERS;
  const procs = new Processes();
  let dir = '';
  let client = '';
  let server = '';
  /** Runs the client with flags, the wasm flag, then url; killed after timeoutMs. */
  const runClient = (flags: string[], url: string, timeoutMs = 30_000) =>
    run(client, [...flags, ex.wasmFlag, WASM, url], { timeoutMs });
  /** A GET of url: exit status 0, stdout exactly data (by length and sha256), status and content-length on stderr. */
  const fetched = async (url: string, data: Uint8Array, flags: string[] = []) => {
    const r = await runClient(flags, url);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(data.length);
    expect(sha(r.stdout)).toBe(sha(data));
    expect(r.stderr).toMatch(/^HTTP\/2 200\n/);
    expect(r.stderr).toContain(`content-length: ${data.length}`);
    return r;
  };
  /** A failure: exit status 1, nothing on stdout, stderr matching what (one line when not given). */
  const failed = async (url: string, what?: RegExp) => {
    const r = await runClient([], url);
    expect(r.status).toBe(1);
    expect(r.stdout.length).toBe(0);
    if (what) expect(r.stderr).toMatch(what);
    else expect(r.stderr.trim().split('\n')).toHaveLength(1);
  };

  describe.skipIf(!ex.toolchain)(`${ex.label} (${ex.engine})`, () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `h2wasm-${ex.name.toLowerCase()}-example-`));
      ({ client, server } = await ex.build(dir));
    }, ex.buildTimeoutMs);

    afterAll(() => {
      procs.stopAll();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    describe.skipIf(!NGHTTPD)('client against nghttpd --no-tls', () => {
      let port = 0;
      const files = new Map<string, Buffer>([
        ['empty', Buffer.alloc(0)],
        ['1mib', randomBytes(MiB)],
        ['10mib', randomBytes(10 * MiB)],
        ['tiny', Buffer.from('ok\n')],
      ]);

      beforeAll(async () => {
        port = await serveFiles(procs, NGHTTPD!, join(dir, 'www'), files);
      });

      for (const name of ['empty', '1mib', '10mib']) {
        it(`fetches ${name}: stdout is exactly the file (sha256), status on stderr`, async () => {
          const r = await fetched(`http://127.0.0.1:${port}/${name}`, files.get(name)!);
          console.log(`${ex.label}: client fetched ${name} (${files.get(name)!.length} B) in ${r.ms.toFixed(0)} ms`);
        });
      }

      it('bench mode: -n 2000 -m 100 on one connection, all ok, stdout empty, the summary line last', async () => {
        const { last } = expectBench(
          await runClient(['-n', '2000', '-m', '100'], `http://127.0.0.1:${port}/tiny`, 60_000),
          2000,
        );
        console.log(`${ex.label}: client bench against nghttpd: ${last}`);
      });

      if (ex.benchCountsNot2xx) {
        it('bench mode counts what is not 2xx: 404s are not ok, exit status 1', async () => {
          expectBench(await runClient(['-n', '50', '-m', '10'], `http://127.0.0.1:${port}/missing`), 50, 0);
        });
      }

      it('reports a 404 by exit status 2, with the body on stdout', async () => {
        const r = await runClient([], `http://127.0.0.1:${port}/missing`);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/^HTTP\/2 404\n/);
        expect(r.stdout.toString()).toContain('404');
      });

      it('fails in one line and exit status 1 when nothing listens', async () => {
        await failed(`http://127.0.0.1:${await freePort()}/`);
      });
    });

    describe.skipIf(!NGHTTPD || !OPENSSL)('client against nghttpd over TLS (ALPN h2)', () => {
      let port = 0;
      const file = randomBytes(MiB);

      beforeAll(async () => {
        const tls = join(dir, 'tls');
        port = await serveFiles(
          procs,
          NGHTTPD!,
          join(tls, 'www'),
          [
            ['file', file],
            ['tiny', 'ok\n'],
          ],
          { tls: selfSignedCert(OPENSSL!, tls) },
        );
      });

      it('fetches 1 MiB with -k (self-signed certificate), checked by sha256', async () => {
        await fetched(`https://127.0.0.1:${port}/file`, file, ['-k']);
      });

      it('refuses the self-signed certificate without -k', async () => {
        await failed(`https://127.0.0.1:${port}/file`, /certificate/);
      });

      if (ex.tlsBench) {
        it('bench mode over TLS: -n 1000 -m 50, all ok', async () => {
          expectBench(
            await runClient(['-k', '-n', '1000', '-m', '50'], `https://127.0.0.1:${port}/tiny`, 60_000),
            1000,
          );
        });
      }
    });

    describe('server', () => {
      let srv: Started & { port: number };

      beforeAll(async () => {
        srv = await startOnFreePort(procs, server, (port) => ['--port', String(port), ex.wasmFlag, WASM]);
      });

      it.skipIf(!CURL)('answers curl --http2-prior-knowledge: GET, and a 1 MiB POST with its byte count', async () => {
        const get = await run(
          CURL!,
          [
            '-sS',
            '--http2-prior-knowledge',
            '-o',
            '-',
            '-w',
            '\n%{http_version} %{http_code}',
            `http://127.0.0.1:${srv.port}/hello`,
          ],
          { timeoutMs: 20_000 },
        );
        expect(get.status, get.stderr).toBe(0);
        if (typeof ex.hello === 'string') expect(get.stdout.toString()).toBe(ex.hello);
        else expect(get.stdout.toString()).toMatch(ex.hello);

        const file = join(dir, 'post.bin');
        writeFileSync(file, randomBytes(MiB));
        const post = await run(
          CURL!,
          [
            '-sS',
            '--http2-prior-knowledge',
            '--data-binary',
            `@${file}`,
            '-w',
            '%{http_version} %{http_code}',
            `http://127.0.0.1:${srv.port}/upload`,
          ],
          { timeoutMs: 20_000 },
        );
        expect(post.status, post.stderr).toBe(0);
        expect(post.stdout.toString()).toBe(`received ${MiB} bytes\n2 200`);
      });

      it(`answers its own ${ex.name} client (the two hosts talk to each other)`, async () => {
        const r = await runClient(['-X', 'POST', '-d', 'abcdef'], `http://127.0.0.1:${srv.port}/`, 20_000);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.toString()).toBe('received 6 bytes\n');
      });

      it("outlives a trap: the instance's connections fail, one line says so, the next connection is served", async () => {
        await expectTrapRecovery(procs, server, (port) => ['--port', String(port), ex.wasmFlag, WASM]);
      });

      it.skipIf(!H2LOAD)('serves h2load -n 10000 -c 4 -m 20, every response 2xx', async () => {
        const rps = await h2loadAll2xx(H2LOAD!, srv.port);
        console.log(`interop: ${ex.name} host (${ex.engine}) server ${Math.round(rps)} req/s`);
        expect(srv.child.exitCode, srv.stderr()).toBeNull(); // still up after the load
      });
    });
  });
}

/** A process's virtual address space in bytes (Linux /proc), 0 where it cannot be read. */
function addressSpace(pid: number | undefined): number {
  try {
    const kb = /VmSize:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

const within = <T>(ms: number, p: Promise<T>, what: string): Promise<T | string> =>
  Promise.race([p, new Promise<string>((r) => setTimeout(() => r(`${what}: nothing within ${ms} ms`), ms))]);

/**
 * A native example server started with `--inject-trap /trap` (args(port) plus that): a
 * request for /trap makes the module trap mid-poll, as a bug in it would. That request
 * fails, and so does the instance's other connection (not a hang); the server says so in
 * one line, keeps running, and a new connection is answered by a fresh instance.
 */
export async function expectTrapRecovery(
  procs: Processes,
  server: string,
  args: (port: number) => string[],
  opts: { maxAddressSpaceGrowth?: number } = {},
): Promise<void> {
  const srv = await startOnFreePort(procs, server, (port) => [...args(port), '--inject-trap', '/trap'], 10_000);
  const url = `http://127.0.0.1:${srv.port}`;
  const sessions: http2.ClientHttp2Session[] = [];
  const session = () => {
    const s = http2.connect(url);
    s.on('error', () => {});
    sessions.push(s);
    return s;
  };
  try {
    const bystander = session();
    expect(await get(bystander, '/', 5000)).toMatchObject({
      status: 200,
      body: expect.stringMatching(/^hello from h2wasm/),
    });
    const vmBefore = addressSpace(srv.child.pid);
    const bystanderClosed = new Promise<string>((r) => bystander.on('close', () => r('closed')));
    // It fails (an error, a close, or an end with no response), not waits out the 5 s cancel.
    const trapped = await get(session(), '/trap', 5000).then(
      (r) => (r.status ? `answered ${r.status}` : 'ended without a response'),
      (e: Error) => e.message,
    );
    expect(trapped, 'the request that trapped the instance').not.toMatch(/^answered|no answer within/);
    expect(await within(5000, bystanderClosed, 'the other connection of the trapped instance')).toBe('closed');
    expect(await get(session(), '/', 5000)).toMatchObject({
      status: 200,
      body: expect.stringMatching(/^hello from h2wasm/),
    });
    expect(srv.child.exitCode, srv.stderr()).toBeNull();
    if (opts.maxAddressSpaceGrowth !== undefined && vmBefore > 0) {
      expect(addressSpace(srv.child.pid) - vmBefore, 'address space the recovery kept (bytes)').toBeLessThanOrEqual(
        opts.maxAddressSpaceGrowth,
      );
    }
    const lines = srv
      .stderr()
      .split('\n')
      .filter((l) => /trap/.test(l));
    expect(lines, srv.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/2 connection\(s\) failed/);
  } finally {
    for (const s of sessions) s.destroy();
    srv.child.kill('SIGKILL');
  }
}

/**
 * Loads the server on port with h2load -n 10000 -c 4 -m 20, asserts that every request
 * succeeded with a 2xx, and resolves with the req/s h2load measured.
 */
export async function h2loadAll2xx(h2load: string, port: number): Promise<number> {
  const r = await run(h2load, ['-n', '10000', '-c', '4', '-m', '20', `http://127.0.0.1:${port}/`], {
    timeoutMs: 60_000,
  });
  const out = r.stdout.toString();
  expect(r.status, out + r.stderr).toBe(0);
  expect(out).toMatch(
    /requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, 0 failed, 0 errored, 0 timeout/,
  );
  expect(out).toMatch(/status codes: 10000 2xx, 0 3xx, 0 4xx, 0 5xx/);
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1]);
  expect(rps).toBeGreaterThan(0);
  return rps;
}
