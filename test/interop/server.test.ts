// `h2wasm serve` against peers nobody here wrote: h2spec (h2c and TLS, default and
// strict), curl, nghttp and h2load. Each peer that is not installed skips its tests with
// one line saying so; .ci/run installs them all.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recorded, recordSkipped, versionOf } from './record.js';
import { startServe, type ServeProcess } from './serve-cli.js';

const GOBIN = join(process.env.GOPATH ?? join(process.env.HOME ?? '/root', 'go'), 'bin');
function which(cmd: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), GOBIN]) {
    const p = join(dir, cmd);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}
const peers = {
  h2spec: which('h2spec'),
  curl: which('curl'),
  nghttp: which('nghttp'),
  h2load: which('h2load'),
  openssl: which('openssl'),
};
for (const [name, path] of Object.entries(peers))
  if (!path) console.log(`interop: ${name} not installed, its tests are skipped`);
// Versions for the interop table (docs/interop.md, from test/interop/record.ts).
const versionArgs = {
  h2spec: ['--version'],
  curl: ['--version'],
  nghttp: ['--version'],
  h2load: ['--version'],
} as const;
const versions: Record<string, string> = {};
for (const [name, args] of Object.entries(versionArgs)) {
  const path = peers[name as keyof typeof peers];
  if (!path) {
    recordSkipped(name);
    continue;
  }
  versions[name] = versionOf(spawnSync(path, [...args]).stdout?.toString() ?? '');
  console.log(`interop: ${name} ${versions[name]}`);
}
const H2C = 'peer client → h2wasm serve CLI (h2c)';
const TLS = 'peer client → h2wasm serve CLI (TLS, ALPN h2)';

function run(cmd: string, args: string[], timeoutMs = 120000, input?: Buffer) {
  const r = spawnSync(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, input });
  return { status: r.status, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '', raw: r.stdout };
}

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('h2wasm serve (h2c) against real peers', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe([]);
  });
  afterAll(() => server?.stop());

  it.skipIf(!peers.h2spec)('passes every h2spec case', () =>
    recorded('h2spec', versions.h2spec, H2C, 'every case', () => {
      const r = run(peers.h2spec!, ['-h', '127.0.0.1', '-p', String(server.port), '-o', '5']);
      const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(r.stdout);
      expect(summary, r.stdout.slice(-2000)).not.toBeNull();
      expect(Number(summary![4]), r.stdout.slice(-3000)).toBe(0);
      expect(Number(summary![3])).toBe(0);
      expect(Number(summary![2])).toBeGreaterThanOrEqual(145);
    }),
  );

  it.skipIf(!peers.h2spec)('passes every h2spec case in strict mode (-S)', () =>
    recorded('h2spec', versions.h2spec, H2C, 'every case, strict (-S)', () => {
      const r = run(peers.h2spec!, ['-S', '-h', '127.0.0.1', '-p', String(server.port), '-o', '5']);
      const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(r.stdout);
      expect(Number(summary![4]), r.stdout.slice(-3000)).toBe(0);
      expect(Number(summary![2])).toBeGreaterThanOrEqual(146);
    }),
  );

  it.skipIf(!peers.curl)('curl --http2-prior-knowledge: GET, and a 10 MiB POST counted by the server', () =>
    recorded('curl', versions.curl, H2C, '--http2-prior-knowledge: GET, 10 MiB POST', () => {
      const get = run(peers.curl!, [
        '-sS',
        '--http2-prior-knowledge',
        '-w',
        '%{http_version} %{http_code}',
        server.url + '/',
      ]);
      expect(get.stdout).toBe('hello from h2wasm\n2 200');
      const dir = mkdtempSync(join(tmpdir(), 'h2wasm-'));
      const body = randomBytes(10 << 20);
      writeFileSync(join(dir, 'up.bin'), body);
      const post = run(peers.curl!, [
        '-sS',
        '--http2-prior-knowledge',
        '-D',
        join(dir, 'headers.txt'),
        '--data-binary',
        `@${join(dir, 'up.bin')}`,
        server.url + '/',
      ]);
      expect(post.stdout).toBe(`received ${body.length} bytes\n`);
      // The server hashed what it received: the upload arrived byte for byte.
      expect(readFileSync(join(dir, 'headers.txt'), 'utf8')).toContain(`x-received-sha256: ${sha(body)}`);
    }),
  );

  it.skipIf(!peers.nghttp)('nghttp -nv: 100 concurrent streams on one connection', () =>
    recorded('nghttp', versions.nghttp, H2C, '100 concurrent streams on one connection', () => {
      const r = run(peers.nghttp!, ['-nv', '-m', '100', server.url + '/']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.match(/recv HEADERS frame/g)?.length).toBe(100);
      expect(r.stdout.match(/:status: 200/g)?.length).toBe(100);
    }),
  );

  it.skipIf(!peers.h2load)('h2load: 100,000 requests over 10 connections × 100 streams, every one 2xx', () =>
    recorded('h2load', versions.h2load, H2C, '100,000 requests, 10 connections × 100 streams, all 2xx', () => {
      const r = run(peers.h2load!, ['-n', '100000', '-c', '10', '-m', '100', server.url + '/'], 300000);
      expect(r.stdout).toMatch(
        /requests: 100000 total, 100000 started, 100000 done, 100000 succeeded, 0 failed, 0 errored, 0 timeout/,
      );
      expect(r.stdout).toMatch(/status codes: 100000 2xx/);
      const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(r.stdout);
      console.log(`interop: h2load against h2wasm serve: ${rate?.[1]} req/s`);
    }),
  );
});

describe('h2wasm serve --dir, over TLS (ALPN h2)', () => {
  let server: ServeProcess;
  let dir: string;
  let file: Buffer;
  beforeAll(async () => {
    if (!peers.openssl) return;
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-tls-'));
    const gen = run(peers.openssl!, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    expect(gen.status, gen.stderr).toBe(0);
    file = randomBytes(3 << 20);
    writeFileSync(join(dir, 'blob.bin'), file);
    server = await startServe(['--dir', dir, '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
  });
  afterAll(() => server?.stop());

  it.skipIf(!peers.h2spec || !peers.openssl)('passes every h2spec case over TLS (-t -k)', () =>
    recorded('h2spec', versions.h2spec, TLS, 'every case (-t -k)', () => {
      const r = run(peers.h2spec!, ['-t', '-k', '-h', '127.0.0.1', '-p', String(server.port), '-o', '5']);
      const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(r.stdout);
      expect(Number(summary![4]), r.stdout.slice(-3000)).toBe(0);
      expect(Number(summary![2])).toBeGreaterThanOrEqual(145);
    }),
  );

  it.skipIf(!peers.curl || !peers.openssl)('curl --http2 -k downloads a file byte for byte', () =>
    recorded('curl', versions.curl, TLS, '--http2: 3 MiB file byte for byte, 404', () => {
      const r = run(peers.curl!, ['-sSk', '--http2', server.url + '/blob.bin']);
      expect(r.status, r.stderr).toBe(0);
      expect(sha(r.raw)).toBe(sha(file));
      const missing = run(peers.curl!, [
        '-sk',
        '--http2',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        server.url + '/nope',
      ]);
      expect(missing.stdout).toBe('404');
    }),
  );

  it.skipIf(!peers.nghttp || !peers.openssl)('nghttp over TLS gets the file', () =>
    recorded('nghttp', versions.nghttp, TLS, 'GET a 3 MiB file, exit 0', () => {
      const r = run(peers.nghttp!, ['-n', '-s', server.url + '/blob.bin']);
      expect(r.status, r.stderr).toBe(0);
    }),
  );
});
