// h2wasm under the other JavaScript runtimes, as their users import it (by package name,
// each runtime picking its entry through the export conditions): Deno and Bun (npm packages
// `deno`, `bun`) and Cloudflare's workerd (npm `workerd`), installed into test/runtimes by
// scripts/install-peers.sh. The client checks run against nghttpd; Deno and Bun also serve
// h2load and curl. The scripts they run are test/runtimes/{checks,main,worker}.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { freePort, makeCert, which } from '../bindings/support.js';
import { serve, type Server } from '../../bindings/node.js';
import { startEchoServer, type EchoServer } from '../support/grpc-echo-server.js';
import { recorded, skipForMissing, versionOf } from './record.js';
import { runtimeBinary, startWorkerd } from '../runtimes/run-workerd.mjs';

const DIR = join(ROOT, 'test', 'runtimes');
const installed = runtimeBinary;
const DOWNLOAD_BYTES = 10 << 20;

/** How each runtime runs main.ts (Deno maps the repo's `.js` import suffixes to `.ts` with --sloppy-imports). */
const RUNNERS = {
  Deno: (bin: string) => [bin, 'run', '-A', '--sloppy-imports', join(DIR, 'main.ts')],
  Bun: (bin: string) => [bin, join(DIR, 'main.ts')],
} as const;
const BINARIES = { Deno: 'deno', Bun: 'bun', workerd: 'workerd' } as const;
type Runtime = keyof typeof BINARIES;

/** Deno's and Bun's dotted version; workerd's is its date ('workerd 2026-11-17'). */
function versionOfRuntime(bin: string): string {
  const out = spawnSync(bin, ['--version'], { timeout: 20000 }).stdout?.toString() ?? '';
  return versionOf(out) || (/\d{4}-\d{2}-\d{2}/.exec(out)?.[0] ?? '');
}

/** Runs `argv` to its end (bounded), returning stdout; fails with stderr's tail otherwise. */
function run(argv: readonly string[], timeoutMs = 60000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { cwd: DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.slice(0, 2).join(' ')} exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** The last JSON line a check printed. */
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as Record<string, any>;

const peers = { nghttpd: which('nghttpd'), h2load: which('h2load'), curl: which('curl'), openssl: which('openssl') };
const missing = [
  ...Object.entries(peers)
    .filter(([, p]) => !p)
    .map(([n]) => n),
  ...Object.values(BINARIES).filter((b) => !installed(b)),
];
const skip = skipForMissing('the runtime suites (Deno, Bun, workerd)', missing);

describe.skipIf(skip)('h2wasm in Deno, Bun and workerd', () => {
  let dir: string;
  let nghttpd: ChildProcess;
  let origin: string;
  let bigSha: string;
  const versions: Record<string, string> = {};
  // TLS: nghttpd (which requires ALPN h2) and h2wasm serve() (which takes HTTP/2 by prior
  // knowledge when a client offers no ALPN), on one certificate.
  const cert = makeCert()!;
  let tlsNghttpd: ChildProcess;
  let tlsOrigin: string;
  let ours: Server;
  let grpcServer: EchoServer;
  const GRPC_CALLS = { unary: 'hello', serverStream: 100, clientStream: 'a,b,c', bidi: ['m0', 'm1', 'm2'] };
  const GRPC_CHECK = 'unary, server-streaming (100), client-streaming, bidi (interleaved)';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-runtimes-'));
    const big = randomBytes(DOWNLOAD_BYTES);
    bigSha = createHash('sha256').update(big).digest('hex');
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'index.html'), 'hello\n');
    const port = await freePort();
    // --echo-upload: a POST is answered with its own body (the upload's hash comes back).
    nghttpd = spawn(peers.nghttpd!, ['--no-tls', '--echo-upload', '-d', dir, String(port)], { stdio: 'ignore' });
    origin = `http://127.0.0.1:${port}`;
    await waitForPort(port);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    const tlsPort = await freePort();
    tlsNghttpd = spawn(peers.nghttpd!, ['-d', dir, String(tlsPort), join(dir, 'key.pem'), join(dir, 'cert.pem')], {
      stdio: 'ignore',
    });
    tlsOrigin = `https://localhost:${tlsPort}`;
    await waitForPort(tlsPort);
    ours = await serve({
      port: 0,
      hostname: '127.0.0.1',
      tls: cert,
      fetch: () => new Response('hello\n'),
    });
    grpcServer = await startEchoServer();
    for (const r of Object.keys(BINARIES) as Runtime[]) versions[r] = versionOfRuntime(installed(BINARIES[r])!);
  });
  afterAll(async () => {
    nghttpd?.kill();
    tlsNghttpd?.kill();
    await ours?.close();
    await grpcServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The client checks' JSON, held to what the suite knows. */
  function expectClientChecks(r: Record<string, any>) {
    expect(r.error).toBeUndefined();
    expect(r.get).toEqual({ status: 200, body: 'hello\n' });
    expect(r.download).toMatchObject({ status: 200, bytes: DOWNLOAD_BYTES, sha256: bigSha });
    expect(r.upload.status).toBe(200);
    expect(r.upload.bytes).toBe(10 << 20);
    expect(r.upload.echoed).toBe(r.upload.sent);
    expect(r.concurrent).toEqual({ ok: 100, open: 100 });
  }

  for (const runtime of ['Deno', 'Bun'] as const) {
    it(`${runtime}: connect() and fetch() → nghttpd (h2c): GET, 10 MiB down and up by hash, 100 streams on one connection`, async () => {
      await recorded(
        runtime,
        versions[runtime],
        `h2wasm connect()/fetch() in ${runtime} → nghttpd (h2c)`,
        'GET; 10 MiB down and up by sha256; 100 concurrent streams',
        async () => {
          const out = await run([...RUNNERS[runtime](installed(BINARIES[runtime])!), 'client', origin]);
          expectClientChecks(lastJson(out));
        },
      );
    });

    it(`${runtime}: connect() over TLS with ALPN h2 → nghttpd`, async () => {
      await recorded(
        runtime,
        versions[runtime],
        `h2wasm connect() in ${runtime} → nghttpd (TLS, ALPN h2)`,
        'GET, the CA given',
        async () => {
          const out = await run([
            ...RUNNERS[runtime](installed(BINARIES[runtime])!),
            'get',
            `${tlsOrigin}/index.html`,
            join(dir, 'cert.pem'),
          ]);
          expect(lastJson(out)).toEqual({ status: 200, body: 'hello\n' });
        },
      );
    });

    it(`${runtime}: gRPC through the Connect-ES transport → @grpc/grpc-js server in Node`, async () => {
      await recorded(
        runtime,
        versions[runtime],
        `Connect-ES over h2wasm in ${runtime} → @grpc/grpc-js server (h2c)`,
        GRPC_CHECK,
        async () => {
          const out = await run([...RUNNERS[runtime](installed(BINARIES[runtime])!), 'grpc', grpcServer.url]);
          expect(lastJson(out)).toEqual(GRPC_CALLS);
        },
      );
    });

    it(`${runtime}: serve() answers h2load (10,000 requests, all 2xx) and curl`, async () => {
      const server = spawn(
        RUNNERS[runtime](installed(BINARIES[runtime])!)[0],
        [...RUNNERS[runtime](installed(BINARIES[runtime])!).slice(1), 'serve'],
        {
          cwd: DIR,
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          server.stdout!.on('data', (d) => {
            out += d;
            const line = out.split('\n').find((l) => l.startsWith('{'));
            if (line) resolve((JSON.parse(line) as { url: string }).url);
          });
          server.on('exit', (code) => reject(new Error(`${runtime} serve exited ${code}`)));
        });
        await recorded(
          runtime,
          versions[runtime],
          `h2load → h2wasm serve() in ${runtime} (h2c)`,
          '10,000 requests (-c 10 -m 10), all 2xx',
          async () => {
            const h2load = spawnSync(peers.h2load!, ['-n', '10000', '-c', '10', '-m', '10', `${url}/load`], {
              timeout: 60000,
            });
            const text = h2load.stdout.toString();
            expect(text, text).toMatch(/status codes: 10000 2xx/);
            expect(text).toMatch(/requests: 10000 total, 10000 started, 10000 done, 10000 succeeded/);
          },
        );
        await recorded(
          runtime,
          versions[runtime],
          `curl → h2wasm serve() in ${runtime} (h2c)`,
          'GET over HTTP/2 (prior knowledge) and HTTP/1.1',
          async () => {
            const h2 = spawnSync(
              peers.curl!,
              ['-s', '--http2-prior-knowledge', '-w', '\n%{http_version}', `${url}/curl`],
              { timeout: 20000 },
            );
            expect(h2.stdout.toString()).toBe('hello from /curl\n\n2');
            const h1 = spawnSync(peers.curl!, ['-s', '--http1.1', '-w', '\n%{http_version}', `${url}/one`], {
              timeout: 20000,
            });
            expect(h1.stdout.toString()).toBe('hello from /one\n\n1.1');
          },
        );
      } finally {
        server.stdin!.end(); // main.ts closes the server and exits
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
          server.once('close', () => (clearTimeout(timer), resolve()));
          if (server.exitCode !== null) resolve();
        });
      }
    });
  }

  describe('workerd', () => {
    let workerd: { base: string; stop: () => Promise<unknown> };
    beforeAll(async () => {
      workerd = await startWorkerd(mkdtempSync(join(dir, 'workerd-')), [], cert.cert);
    });
    afterAll(() => workerd?.stop());

    const getVia = async (url: string) =>
      (await (
        await fetch(`${workerd.base}/get?url=${encodeURIComponent(url)}`, { signal: AbortSignal.timeout(30000) })
      ).json()) as Record<string, unknown>;

    it('a Worker: gRPC through the Connect-ES transport → @grpc/grpc-js server in Node', async () => {
      await recorded(
        'workerd',
        versions.workerd,
        'Connect-ES over h2wasm in a Worker (cloudflare:sockets) → @grpc/grpc-js server (h2c)',
        GRPC_CHECK,
        async () => {
          const res = await fetch(`${workerd.base}/grpc?origin=${encodeURIComponent(grpcServer.url)}`, {
            signal: AbortSignal.timeout(30000),
          });
          expect(await res.json()).toEqual(GRPC_CALLS);
        },
      );
    });

    it('a Worker serves concurrent requests, each on its own connection and runtime', async () => {
      await recorded(
        'workerd',
        versions.workerd,
        'h2wasm connect()/fetch() in a Worker → nghttpd (h2c)',
        '6 Worker requests at once, each 10 MiB down and up by sha256',
        async () => {
          // One isolate runs them together: a connection driven from another request's
          // events would fail ("Cannot perform I/O on behalf of a different request").
          const all = await Promise.all(
            Array.from({ length: 6 }, () =>
              fetch(`${workerd.base}/client?origin=${encodeURIComponent(origin)}`, {
                signal: AbortSignal.timeout(60000),
              }).then((r) => r.json() as Promise<Record<string, unknown>>),
            ),
          );
          for (const r of all) expectClientChecks(r);
        },
      );
    });

    it("a Worker's fetch() serves request after request (a socket cannot outlive its request)", async () => {
      await recorded(
        'workerd',
        versions.workerd,
        'h2wasm fetch() in a Worker → nghttpd (h2c)',
        'five Worker requests in a row, each its own connection',
        async () => {
          for (let i = 0; i < 5; i++) {
            const r = await fetch(`${workerd.base}/fetch?url=${encodeURIComponent(`${origin}/index.html`)}`, {
              signal: AbortSignal.timeout(30000),
            });
            expect(await r.json()).toEqual({ status: 200, body: 'hello\n' });
          }
        },
      );
    });

    it('a Worker over TLS without ALPN: h2wasm serve() takes HTTP/2 by prior knowledge', async () => {
      await recorded(
        'workerd',
        versions.workerd,
        'h2wasm connect() in a Worker → h2wasm serve() (TLS, no ALPN)',
        'GET by prior knowledge',
        async () => {
          expect(await getVia(ours.url.replace('127.0.0.1', 'localhost'))).toEqual({ status: 200, body: 'hello\n' });
        },
      );
    });

    it('a Worker over TLS without ALPN: nghttpd, which requires ALPN h2, refuses (the documented limit)', async () => {
      await recorded(
        'workerd',
        versions.workerd,
        'h2wasm connect() in a Worker → nghttpd (TLS, no ALPN)',
        'refused, as the README says (Workers cannot offer ALPN)',
        async () => {
          const r = await getVia(tlsOrigin);
          expect(r.status).toBeUndefined();
          expect(String(r.failed)).toMatch(/handshake .* failed/);
        },
      );
    });

    it('a Worker: connect() and fetch() over cloudflare:sockets → nghttpd (h2c): GET, 10 MiB down and up by hash, 100 streams on one connection', async () => {
      await recorded(
        'workerd',
        versions.workerd,
        'h2wasm connect()/fetch() in a Worker (cloudflare:sockets) → nghttpd (h2c)',
        'GET; 10 MiB down and up by sha256; 100 concurrent streams',
        async () => {
          // Twice, in two Worker requests: the first one's timers are cancelled when it ends,
          // and the second must not wait on them (the shared runtime re-arms in its own).
          for (let i = 0; i < 2; i++) {
            const res = await fetch(`${workerd.base}/client?origin=${encodeURIComponent(origin)}`, {
              signal: AbortSignal.timeout(60000),
            });
            expectClientChecks((await res.json()) as Record<string, unknown>);
            expect(res.status).toBe(200);
          }
        },
      );
    });
  });
});

async function waitForPort(port: number): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + 15000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
