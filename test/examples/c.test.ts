// The C examples (examples/c: h2wasm.wasm through wasm2c, gcc) against real peers:
//   - client: GETs 0 B, 1 MiB and 10 MiB files from nghttpd; stdout must be the file, byte for byte;
//     bench mode (-n 2000 -m 100, one connection) against nghttpd: all ok, the summary line last;
//   - server: curl GET and a 1 MiB POST (the byte count comes back), h2load -n 10000 -c 4 -m 20;
//   - server: a trap injected mid-poll (--inject-trap) fails that instance's connections, and
//     the next connection is served by a fresh instance;
//   - upload: a 5 MiB file POSTed to a node:http2 server that answers the sha256 it received.
// Without wasm2c or gcc the suite is skipped with one line; a missing nghttpd, curl or
// h2load skips only the tests that need it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import http2 from 'node:http2';
import { ROOT } from '../support/wasm.js';
import {
  MiB,
  PEERS,
  Processes,
  expectBench,
  expectTrapRecovery,
  freePort,
  h2loadAll2xx,
  run,
  sha,
  startNghttpd,
  startOnFreePort,
  which,
} from './support.js';

const TOOLS = !!which('wasm2c') && !!which('gcc');
if (!TOOLS) console.log('examples/c: wasm2c or gcc not installed, the C example tests are skipped');
const { nghttpd: NGHTTPD, curl: CURL, h2load: H2LOAD } = PEERS;

const DIR = join(ROOT, 'examples', 'c');

const procs = new Processes();
const closers: (() => Promise<void> | void)[] = [];
let tmp = '';

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
    for (const [name, size] of [
      ['empty', 0],
      ['one', MiB],
      ['ten', 10 * MiB],
      ['tiny', 16],
    ] as const) {
      const data = randomBytes(size);
      files.set(name, data);
      writeFileSync(join(tmp, name), data);
    }
    if (NGHTTPD) nghttpdPort = await startNghttpd(procs, NGHTTPD, tmp, { ms: 10_000 });
    serverPort = (await startOnFreePort(procs, join(DIR, 'server'), (port) => ['--port', String(port)], 10_000)).port;
  }, 300_000);

  afterAll(async () => {
    procs.stopAll();
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
        expect(r.status).toBe(0);
        expect(r.stdout.length).toBe(files.get(name)!.length);
        expect(sha(r.stdout)).toBe(sha(files.get(name)!));
        expect(r.stderr).toMatch(/Response Status: 200/);
      });
    }

    it('bench mode: -n 2000 -m 100 on one connection, all ok, stdout empty, the summary line last', async () => {
      const { last } = expectBench(
        await run(join(DIR, 'client'), ['-n', '2000', '-m', '100', '127.0.0.1', String(nghttpdPort), '/tiny']),
        2000,
      );
      console.log(`examples/c: client bench against nghttpd: ${last}`);
    });

    it('bench mode counts what is not 2xx: 404s are not ok, exit status 1', async () => {
      expectBench(
        await run(join(DIR, 'client'), ['-n', '50', '-m', '10', '127.0.0.1', String(nghttpdPort), '/missing']),
        50,
        0,
      );
    });

    it('GET of a missing file: the 404 page on stdout, status 404 on stderr', async () => {
      const r = await run(join(DIR, 'client'), ['127.0.0.1', String(nghttpdPort), '/missing']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/Response Status: 404/);
      expect(r.stdout.toString()).toMatch(/404/);
    });

    it('fails with a non-zero exit when nothing listens', async () => {
      const r = await run(join(DIR, 'client'), ['127.0.0.1', String(await freePort()), '/']);
      expect(r.status).not.toBe(0);
      expect(r.stdout.length).toBe(0);
    });
  });

  describe.skipIf(!CURL)('server against curl', () => {
    it('answers a GET with 200 and a short body', async () => {
      const r = await run(
        CURL!,
        [
          '-s',
          '--http2-prior-knowledge',
          '-w',
          '\n%{http_code} %{http_version}',
          `http://127.0.0.1:${serverPort}/hello`,
        ],
        { timeoutMs: 20_000 },
      );
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toBe('hello from h2wasm (C, wasm2c)\n\n200 2');
    });

    it('answers a 1 MiB POST with the byte count', async () => {
      const body = join(tmp, 'one');
      const r = await run(
        CURL!,
        [
          '-s',
          '--http2-prior-knowledge',
          '--data-binary',
          `@${body}`,
          '-w',
          '\n%{http_code}',
          `http://127.0.0.1:${serverPort}/upload`,
        ],
        { timeoutMs: 20_000 },
      );
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toBe(`received ${MiB} bytes\n\n200`);
    });
  });

  describe.skipIf(!CURL || !H2LOAD)(
    'server --dir: small files whole, large ones through zero-copy DATA (sendfile)',
    () => {
      let dirPort = 0;
      beforeAll(async () => {
        dirPort = (
          await startOnFreePort(procs, join(DIR, 'server'), (port) => ['--port', String(port), '--dir', tmp], 10_000)
        ).port;
      });

      it('curl gets each file byte for byte (empty, 16 B, 1 MiB, 10 MiB) and 404 for a missing one', async () => {
        for (const [name, data] of files) {
          const r = await run(CURL!, ['-s', '--http2-prior-knowledge', `http://127.0.0.1:${dirPort}/${name}`], {
            timeoutMs: 30_000,
          });
          expect(r.status).toBe(0);
          expect(sha(r.stdout), name).toBe(sha(data));
        }
        const missing = await run(
          CURL!,
          [
            '-s',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            '--http2-prior-knowledge',
            `http://127.0.0.1:${dirPort}/none`,
          ],
          { timeoutMs: 20_000 },
        );
        expect(missing.stdout.toString()).toBe('404');
      });

      it('a small file kept open is read again once changed or replaced (within a second), and / is index.html', async () => {
        const get = async (path: string) =>
          (
            await run(CURL!, ['-s', '--http2-prior-knowledge', `http://127.0.0.1:${dirPort}${path}`], {
              timeoutMs: 20_000,
            })
          ).stdout.toString();
        writeFileSync(join(tmp, 'index.html'), 'first\n');
        writeFileSync(join(tmp, 'kept.txt'), 'one\n');
        expect(await get('/')).toBe('first\n');
        expect(await get('/kept.txt')).toBe('one\n');
        writeFileSync(join(tmp, 'kept.txt'), 'two, longer\n'); // changed in place
        writeFileSync(join(tmp, 'next.txt'), 'three\n');
        renameSync(join(tmp, 'next.txt'), join(tmp, 'index.html')); // replaced: a new file
        await new Promise((r) => setTimeout(r, 1100));
        expect(await get('/kept.txt')).toBe('two, longer\n');
        expect(await get('/')).toBe('three\n');
        rmSync(join(tmp, 'kept.txt'));
        await new Promise((r) => setTimeout(r, 1100));
        expect(await get('/kept.txt')).not.toBe('two, longer\n'); // gone: 404 page
      });

      it('a head past the bulk take (90 KB, --max-header-list 1 MiB) is taken one by one; a path too long for the server is a 404, never a shortened one', async () => {
        const port = (
          await startOnFreePort(
            procs,
            join(DIR, 'server'),
            (p) => ['--port', String(p), '--dir', tmp, '--max-header-list', String(1 << 20)],
            10_000,
          )
        ).port;
        writeFileSync(join(tmp, 'small.txt'), 'small\n');
        writeFileSync(join(tmp, 'index.html'), 'index\n');
        const client = http2.connect(`http://127.0.0.1:${port}`, { maxSendHeaderBlockLength: 1 << 20 });
        const ask = (path: string, headers: Record<string, string> = {}) =>
          new Promise<string>((resolve, reject) => {
            const req = client.request({ ':path': path, ...headers });
            let out = '';
            req.on('response', (h) => (out += `${h[':status']} `));
            req.on('data', (d) => (out += d));
            req.on('end', () => resolve(out));
            req.on('error', reject);
          });
        try {
          await ask('/small.txt'); // our SETTINGS acknowledged: the 1 MiB limit binds
          const answers = await Promise.all([
            ask('/small.txt'),
            ask('/small.txt', { 'x-big': 'x'.repeat(90_000) }),
            ask('/small.txt'),
            ask(`/${'/'.repeat(600)}missing.html`), // cut short, it would end in / and serve index.html
          ]);
          expect(answers).toEqual(['200 small\n', '200 small\n', '200 small\n', expect.stringMatching(/^404 /)]);
        } finally {
          client.close();
        }
      });

      it('h2load -n 100 -c 4 -m 10 of the 10 MiB file: every response 2xx, exactly 100 × the file in DATA', async () => {
        const r = await run(H2LOAD!, ['-n', '100', '-c', '4', '-m', '10', `http://127.0.0.1:${dirPort}/ten`], {
          timeoutMs: 120_000,
        });
        const out = r.stdout.toString();
        expect(r.status, out).toBe(0);
        expect(out).toMatch(/status codes: 100 2xx, 0 3xx, 0 4xx, 0 5xx/);
        expect(Number(/traffic: .*?, [\d.]+\w*B \((\d+)\) data/.exec(out)?.[1])).toBe(100 * 10 * MiB);
      });
    },
  );

  describe.skipIf(!H2LOAD)('server under h2load', () => {
    it('h2load -n 10000 -c 4 -m 20: every response 2xx (and nghttpd measured beside it)', async () => {
      cRate = await h2loadAll2xx(H2LOAD!, serverPort);
      if (NGHTTPD) {
        const ng = await run(H2LOAD!, ['-n', '10000', '-c', '4', '-m', '20', `http://127.0.0.1:${nghttpdPort}/empty`], {
          timeoutMs: 60_000,
        });
        ngRate = h2loadRate(ng.stdout.toString());
        expect(h2load2xx(ng.stdout.toString())).toBe(10000);
      }
    });
  });

  it("server outlives a trap: the instance's connections fail, one line says so, the next connection is served", async () => {
    // wasm2c reserves 8 GiB of address space per memory: a recovery must give it all back.
    await expectTrapRecovery(procs, join(DIR, 'server'), (port) => ['--port', String(port)], {
      maxAddressSpaceGrowth: 1 << 30,
    });
  });

  it('upload to the C server: both sides wait only on wakers, and 5 MiB still arrives without stalls', async () => {
    // Before the fix in assembly/ffi/conn-driver.ts this took ~30 s: each side sat in a 1 s
    // select() timeout with data to read or send and no waker taken.
    const file = join(tmp, 'five-c');
    writeFileSync(file, randomBytes(5 * MiB));
    const t0 = Date.now();
    const r = await run(join(DIR, 'upload'), ['127.0.0.1', String(serverPort), '/up', file], { timeoutMs: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(`received ${5 * MiB} bytes\n`);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('upload streams a 5 MiB file to node:http2, which answers the sha256 it received', async () => {
    const server = http2.createServer((req, res) => {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
      });
      req.on('end', () => res.end(`${h.digest('hex')} ${n} ${req.method} ${req.url}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const data = randomBytes(5 * MiB);
    const file = join(tmp, 'five');
    writeFileSync(file, data);
    const port = (server.address() as AddressInfo).port;
    const r = await run(join(DIR, 'upload'), ['127.0.0.1', String(port), '/up', file], { timeoutMs: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(`${sha(data)} ${5 * MiB} POST /up`);
    expect(r.stderr).toMatch(/Response Status: 200/);
  });
});
