// `h2wasm serve` answering HTTP/1.1 beside HTTP/2, against clients nobody here wrote:
// curl (--http1.1, no option, --http2's h2c upgrade, Expect: 100-continue), wget,
// nghttp -u and h2load --h1, cleartext and TLS. Each check is a row of docs/interop.md.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type ServeProcess } from './serve-cli.js';
import { recorded, skipForMissing, versionOf } from './record.js';
import { makeCert, pattern, sha, which } from '../bindings/support.js';

const PEERS = ['curl', 'wget', 'nghttp', 'h2load', 'openssl'];
const missing = PEERS.filter((p) => !which(p));

const run = (cmd: string, args: string[], timeout = 60_000) => {
  const r = spawnSync(cmd, args, { timeout, maxBuffer: 64 << 20 });
  return { status: r.status, out: r.stdout?.toString('latin1') ?? '', err: r.stderr?.toString() ?? '' };
};
const version = (cmd: string, flag = '--version') => {
  const r = run(cmd, [flag]);
  return versionOf(r.out + r.err);
};

if (!skipForMissing('HTTP/1.1 beside HTTP/2', missing)) {
  const H1 = 'peer client → h2wasm serve (HTTP/1.1, cleartext)';
  const H1TLS = 'peer client → h2wasm serve (HTTP/1.1, TLS)';
  const H2C = 'peer client → h2wasm serve (h2c)';
  const versions = {
    curl: version('curl'),
    wget: version('wget'),
    nghttp: version('nghttp'),
    h2load: version('h2load'),
  };
  const dir = mkdtempSync(join(tmpdir(), 'h2wasm-http1-'));
  const upload = pattern(10 << 20, 7);
  const uploadFile = join(dir, 'upload.bin');
  writeFileSync(uploadFile, upload);
  let plain: ServeProcess;
  let secure: ServeProcess;

  beforeAll(async () => {
    const cert = makeCert()!;
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    plain = await startServe();
    secure = await startServe(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
  });
  afterAll(async () => {
    await plain?.stop();
    await secure?.stop();
  });

  /** curl's output for `args`, with `-w` giving "<http_version> <status> <time_total>" on the last line. */
  const curl = (args: string[]) => {
    const r = run('curl', ['-sS', '-w', '\n%{http_version} %{response_code} %{time_total}', ...args]);
    expect(r.status, r.err).toBe(0);
    const at = r.out.lastIndexOf('\n');
    const [httpVersion, status, seconds] = r.out.slice(at + 1).split(' ');
    return { body: r.out.slice(0, at), httpVersion, status: Number(status), seconds: Number(seconds) };
  };

  describe('HTTP/1.1 beside HTTP/2 (h2wasm serve)', () => {
    it('curl --http1.1 and curl with no option (cleartext): HTTP/1.1 answers', () =>
      recorded('curl', versions.curl, H1, '--http1.1 and no option: GET over HTTP/1.1', () => {
        for (const args of [['--http1.1'], []]) {
          const r = curl([...args, `${plain.url}/`]);
          expect([r.httpVersion, r.status, r.body]).toEqual(['1.1', 200, 'hello from h2wasm\n']);
        }
      }));

    it('curl --http1.1: a 10 MiB upload, checked by the server’s hash', () =>
      recorded('curl', versions.curl, H1, '10 MiB POST, sha256 checked by the server', () => {
        const r = curl(['--http1.1', '-D', '-', '--data-binary', `@${uploadFile}`, `${plain.url}/`]);
        expect(r.httpVersion).toBe('1.1');
        expect(/x-received-sha256: (\w+)/i.exec(r.body)?.[1]).toBe(sha(upload));
      }));

    it('curl --http1.1 over TLS (ALPN http/1.1) and curl over TLS with ALPN h2', () =>
      recorded('curl', versions.curl, H1TLS, '--http1.1 over TLS; the default still negotiates h2', () => {
        const h1 = curl(['-k', '--http1.1', `${secure.url}/`]);
        expect([h1.httpVersion, h1.status, h1.body]).toEqual(['1.1', 200, 'hello from h2wasm\n']);
        const h2 = curl(['-k', `${secure.url}/`]);
        expect([h2.httpVersion, h2.status]).toEqual(['2', 200]);
      }));

    it('wget, cleartext and TLS', () =>
      recorded('wget', versions.wget, H1, 'GET, cleartext and TLS', () => {
        for (const url of [`${plain.url}/`, `${secure.url}/`]) {
          const r = run('wget', ['-q', '--no-check-certificate', '-O', '-', url]);
          expect([r.status, r.out]).toEqual([0, 'hello from h2wasm\n']);
        }
      }));

    it('h2load --h1: 10,000 requests over 10 keep-alive connections, all 2xx', () =>
      recorded('h2load', versions.h2load, H1, '--h1: 10,000 requests, 10 connections, all 2xx', () => {
        const r = run('h2load', ['--h1', '-n', '10000', '-c', '10', '-m', '1', `${plain.url}/`]);
        expect(r.status).toBe(0);
        expect(r.out).toMatch(/status codes: 10000 2xx/);
        expect(r.out).toMatch(/10000 succeeded, 0 failed/);
      }));

    it('h2load --h1 -m 10 (pipelining): 10,000 requests, all 2xx', () =>
      recorded('h2load', versions.h2load, H1, '--h1 -m 10: 10,000 pipelined requests, all 2xx', () => {
        const r = run('h2load', ['--h1', '-n', '10000', '-c', '4', '-m', '10', `${plain.url}/`]);
        expect(r.out).toMatch(/status codes: 10000 2xx/);
      }));

    it('Expect: 100-continue: a 10 MiB POST finishes in under 0.5 s over HTTP/1.1 and HTTP/2', () =>
      recorded('curl', versions.curl, H1, 'Expect: 100-continue 10 MiB POST < 0.5 s, HTTP/1.1 and h2c', () => {
        for (const [protocol, url] of [
          ['--http1.1', plain.url],
          ['--http2-prior-knowledge', plain.url],
          ['--http1.1', secure.url],
          ['--http2', secure.url],
        ]) {
          const r = curl([
            '-k',
            protocol,
            '-D',
            '-',
            '-H',
            'Expect: 100-continue',
            '--data-binary',
            `@${uploadFile}`,
            `${url}/`,
          ]);
          expect(/x-received-sha256: (\w+)/i.exec(r.body)?.[1], `${protocol} ${url}`).toBe(sha(upload));
          // curl waits 1 s for a 100 that never comes; the server sends it as the handler reads.
          expect(r.seconds, `${protocol} ${url}`).toBeLessThan(0.5);
        }
      }));

    it('curl --http2 on the cleartext port is upgraded (h2c) and answered over HTTP/2', () =>
      recorded('curl', versions.curl, H2C, '--http2: Upgrade: h2c, answered on stream 1', () => {
        const r = run('curl', ['-sS', '-v', '--http2', `${plain.url}/`]);
        expect(r.status, r.err).toBe(0);
        expect(r.err).toMatch(/< HTTP\/1\.1 101 Switching Protocols/);
        expect(r.err).toMatch(/< HTTP\/2 200/);
        expect(r.out).toBe('hello from h2wasm\n');
      }));

    it('nghttp -u: HTTP Upgrade, then HTTP/2', () =>
      recorded('nghttp', versions.nghttp, H2C, '-u: HTTP Upgrade to h2c, answered on stream 1', () => {
        const r = run('nghttp', ['-u', '-v', `${plain.url}/`]);
        expect(r.status, r.err).toBe(0);
        expect(r.out).toMatch(/HTTP Upgrade success/);
        expect(r.out).toMatch(/recv \(stream_id=1\) :status: 200/);
        expect(r.out).not.toMatch(/GOAWAY[^\n]*\n[^\n]*error_code=(?!NO_ERROR)/);
        expect(r.out).toMatch(/hello from h2wasm/);
      }));
  });
}
