// examples/deno, examples/bun and examples/workers, run as their READMEs say, with the
// runtimes test/runtimes installs (scripts/install-peers.sh):
//   - client.ts (Deno, Bun) against nghttpd (h2c, a trailer on every response): status,
//     protocol HTTP/2, the body's size and the trailer printed, a 1 MiB file by its size;
//     and against an HTTP/1.1-only server (node:http): protocol HTTP/1.1;
//   - server.ts (Deno, Bun) on port 0 under curl, over HTTP/2 (prior knowledge) and
//     HTTP/1.1, then SIGINT: a clean exit;
//   - the Worker bundled by its build.mjs and run by workerd with its config.capnp (ORIGIN
//     set to nghttpd, the ports given with --socket-addr), under curl: GETs proxied over
//     h2 one after another (each request on its own connection), 1 MiB down and 256 KiB
//     up by sha256, the trailers logged; and its connect() handler serving HTTP/2 on the
//     config's TCP socket to curl and h2load (2000 requests, 4 connections, all 2xx).
// A runtime that is not installed skips its suite in one line (under CI it fails).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { until } from '../bindings/support.js';
import { skipForMissing } from '../interop/record.js';
import { MiB, Processes, freePort, listening, run, sha, startOnFreePort, which } from './support.js';

const BIN = join(ROOT, 'test', 'runtimes', 'node_modules', '.bin');
const installed = (name: string) => (existsSync(join(BIN, name)) ? join(BIN, name) : null);
const EXAMPLES = join(ROOT, 'examples');
const NGHTTPD = which('nghttpd');
const CURL = which('curl');
const TRAILER = 'x-checksum: abc';

/** nghttpd (h2c) serving index.html and a 1 MiB file, a trailer on every response, POSTs echoed. */
async function startOrigin(procs: Processes, dir: string): Promise<{ origin: string; big: Buffer }> {
  writeFileSync(join(dir, 'index.html'), 'hello\n');
  const big = randomBytes(MiB);
  writeFileSync(join(dir, 'big.bin'), big);
  const { port } = await startOnFreePort(procs, NGHTTPD!, (p) => [
    '--no-tls',
    '--echo-upload',
    `--trailer=${TRAILER}`,
    '-d',
    dir,
    String(p),
  ]);
  return { origin: `http://127.0.0.1:${port}`, big };
}

/** curl's answer: the body (bytes), the protocol version and status it saw, the response head. */
async function curl(args: string[]): Promise<{ body: Buffer; version: string; status: number; headers: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'h2wasm-curl-'));
  try {
    const [body, head] = [join(dir, 'body'), join(dir, 'head')];
    const r = await run(
      CURL!,
      ['-s', '--max-time', '20', '-o', body, '-D', head, '-w', '%{http_version} %{http_code}', ...args],
      {
        timeoutMs: 30_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const [version, status] = r.stdout.toString().split(' ');
    return { body: readFileSync(body), version, status: Number(status), headers: readFileSync(head, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A long-running example: its stdout kept, stderr kept, stopped by stop(). */
function start(argv: string[], cwd: string): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  return { child, out: () => out, err: () => err };
}

/** Sends `signal` and resolves with the exit code (null when it had to be killed after ms). */
function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT', ms = 5000): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

const RUNTIMES = [
  {
    name: 'Deno',
    bin: 'deno',
    // The README's commands: broad permissions for the client (any URL), narrow for the server.
    client: (bin: string, url: string) => [bin, 'run', '--allow-net', '--allow-read', 'client.ts', url],
    server: (bin: string, port: number) => [
      bin,
      'run',
      '--allow-net=127.0.0.1',
      '--allow-read=../../build',
      'server.ts',
      String(port),
    ],
  },
  {
    name: 'Bun',
    bin: 'bun',
    client: (bin: string, url: string) => [bin, 'client.ts', url],
    server: (bin: string, port: number) => [bin, 'server.ts', String(port)],
  },
] as const;

for (const rt of RUNTIMES) {
  const bin = installed(rt.bin);
  const missing = [...(bin ? [] : [rt.bin]), ...(NGHTTPD ? [] : ['nghttpd']), ...(CURL ? [] : ['curl'])];
  const dirOf = join(EXAMPLES, rt.bin);
  describe.skipIf(skipForMissing(`examples/${rt.bin}`, missing))(`examples/${rt.bin}`, () => {
    const procs = new Processes();
    let dir: string;
    let origin: string;
    let http1: Server;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `h2wasm-example-${rt.bin}-`));
      ({ origin } = await startOrigin(procs, dir));
      // An origin without HTTP/2: it answers the h2c preface in HTTP/1.1.
      http1 = createServer((_req, res) => res.end('one point one\n'));
      await new Promise<void>((r) => http1.listen(0, '127.0.0.1', r));
    });
    afterAll(() => {
      procs.stopAll();
      http1?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const runClient = (url: string) => {
      const [cmd, ...args] = rt.client(bin!, url);
      return run(cmd, args, { cwd: dirOf, timeoutMs: 30_000 });
    };

    it(`client.ts → nghttpd (h2c): status, protocol HTTP/2, headers, body size, trailers`, async () => {
      const r = await runClient(`${origin}/index.html`);
      expect(r.status, r.stderr).toBe(0);
      const out = r.stdout.toString();
      expect(out).toMatch(/^status: 200\nprotocol: HTTP\/2\n/);
      expect(out).toContain('header content-type: text/html\n');
      expect(out).toContain('body: 6 bytes\n');
      expect(out).toContain(`trailer ${TRAILER}\n`);

      const big = await runClient(`${origin}/big.bin`);
      expect(big.status, big.stderr).toBe(0);
      expect(big.stdout.toString()).toContain(`body: ${MiB} bytes\n`);
    });

    it('client.ts → an HTTP/1.1-only origin: the same output, protocol HTTP/1.1', async () => {
      const { port } = http1.address() as { port: number };
      const r = await runClient(`http://127.0.0.1:${port}/`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.toString()).toMatch(/^status: 200\nprotocol: HTTP\/1\.1\n[^]*body: 14 bytes\n$/);
    });

    it(`server.ts answers curl over HTTP/2 and HTTP/1.1, and exits cleanly on SIGINT`, async () => {
      const argv = rt.server(bin!, 0);
      const server = start(argv, dirOf);
      try {
        await until('the listening line', () => /listening on http:\/\/\S+\n/.test(server.out()), 20_000);
        const url = /listening on (http:\/\/\S+)\n/.exec(server.out())![1];
        const h2 = await curl(['--http2-prior-knowledge', `${url}/two`]);
        expect([h2.version, h2.status, h2.body.toString()]).toEqual(['2', 200, `hello from ${rt.name}: GET /two\n`]);
        const h1 = await curl(['--http1.1', `${url}/one`]);
        expect([h1.version, h1.status, h1.body.toString()]).toEqual(['1.1', 200, `hello from ${rt.name}: GET /one\n`]);
        expect(await stop(server.child), server.err()).toBe(0);
      } finally {
        await stop(server.child, 'SIGKILL');
      }
    }, 40_000);
  });
}

const WORKERD = installed('workerd');
const H2LOAD = which('h2load');
const workerdMissing = [
  ...(WORKERD ? [] : ['workerd']),
  ...(NGHTTPD ? [] : ['nghttpd']),
  ...(CURL ? [] : ['curl']),
  ...(H2LOAD ? [] : ['h2load']),
];

describe.skipIf(skipForMissing('examples/workers', workerdMissing))('examples/workers', () => {
  const procs = new Processes();
  const SRC = join(EXAMPLES, 'workers');
  let dir: string;
  let origin: string;
  let big: Buffer;
  let workerd: ReturnType<typeof start>;
  let http: string;
  let tcpPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-example-workers-'));
    ({ origin, big } = await startOrigin(procs, dir));
    // node build.mjs, into this run's folder rather than examples/workers/dist.
    const built = await run(process.execPath, ['build.mjs', join(dir, 'dist')], { cwd: SRC, timeoutMs: 60_000 });
    expect(built.status, built.stderr).toBe(0);
    // The config as it stands, but for ORIGIN; the ports are given on the command line.
    const config = readFileSync(join(SRC, 'config.capnp'), 'utf8');
    const withOrigin = config.replace(/(name = "ORIGIN", text = )"[^"]*"/, `$1"${origin}"`);
    expect(withOrigin).not.toBe(config);
    writeFileSync(join(dir, 'config.capnp'), withOrigin);
    const httpPort = await freePort();
    tcpPort = await freePort();
    workerd = start(
      [
        WORKERD!,
        'serve',
        'config.capnp',
        `--socket-addr=http=127.0.0.1:${httpPort}`,
        `--socket-addr=tcp=127.0.0.1:${tcpPort}`,
      ],
      dir,
    );
    http = `http://127.0.0.1:${httpPort}`;
    await listening(httpPort, workerd.child, 20_000);
    await listening(tcpPort, workerd.child, 20_000);
  }, 90_000);
  afterAll(async () => {
    if (workerd) await stop(workerd.child, 'SIGTERM');
    procs.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proxies GETs to ORIGIN over h2, one request after another, and logs the trailers', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await curl([`${http}/index.html`]);
      expect([r.status, r.body.toString()], workerd.err()).toEqual([200, 'hello\n']);
      expect(r.headers).toMatch(/^x-upstream-protocol: h2\r$/m);
    }
    await until('the trailers in the log', () =>
      workerd.out().includes(`trailers of /index.html: [["x-checksum","abc"]]`),
    );
  });

  it('streams 1 MiB down and 256 KiB up through the Worker, by sha256', async () => {
    const down = await curl([`${http}/big.bin`]);
    expect(down.status).toBe(200);
    expect(sha(down.body)).toBe(sha(big));
    const sent = randomBytes(256 * 1024);
    writeFileSync(join(dir, 'upload.bin'), sent);
    const up = await curl(['--data-binary', `@${join(dir, 'upload.bin')}`, `${http}/upload`]);
    expect(up.status).toBe(200);
    expect(sha(up.body)).toBe(sha(sent));
  });

  it("serves HTTP/2 itself from its connect() handler on the config's TCP socket", async () => {
    const r = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${tcpPort}/x`]);
    expect([r.version, r.status, r.body.toString()]).toEqual(['2', 200, 'hello over HTTP/2 from a Worker: GET /x\n']);
    const load = await run(H2LOAD!, ['-n', '2000', '-c', '4', '-m', '10', `http://127.0.0.1:${tcpPort}/load`], {
      timeoutMs: 60_000,
    });
    const text = load.stdout.toString();
    expect(text, workerd.err()).toMatch(/requests: 2000 total, 2000 started, 2000 done, 2000 succeeded/);
    expect(text).toMatch(/status codes: 2000 2xx/);
  });
});
