// Shared helpers of the bindings suites: node:http2 test servers, certificates made at
// test time, hashing, bounded waits.
import http2 from 'node:http2';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

import { pattern } from '../support/rng.js';

export { pattern };

export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}

/** A self-signed certificate for 127.0.0.1 / localhost made with the openssl CLI (null when absent). */
export function makeCert(): { key: Buffer; cert: Buffer } | null {
  if (!which('openssl')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'h2wasm-cert-'));
  const r = spawnSync(
    'openssl',
    [
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
    ],
    { timeout: 20000 },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `cond()` holds, polling every 5 ms, at most `ms`. */
export async function until(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A free TCP port on 127.0.0.1 (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** `h2wasm get`'s -X, -H (one of them mixed-case, padded) and -d @file, as the get and the
 *  HTTP/1.1 fallback suites both send them. */
export const cliPutArgs = (file: string, url: string): string[] => [
  '-X',
  'PUT',
  '-H',
  'x-id: cli-put',
  '-H',
  'X-Mixed:  Case ',
  '-d',
  `@${file}`,
  url,
];

/** The built `h2wasm` command. */
export const CLI = join(ROOT, 'dist', 'bindings', 'cli.js');

export interface CliRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `h2wasm ...args` without blocking this process's event loop (a server the test
 * runs here must answer it); killed and rejected after `timeoutMs`.
 */
export function runCli(args: string[], timeoutMs = 30000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`h2wasm ${args.join(' ')} timed out: ${err}`));
    }, timeoutMs);
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

export interface TestServer {
  port: number;
  url: string;
  /** Sessions the server accepted. */
  sessions: http2.ServerHttp2Session[];
  /** RST_STREAM codes seen on streams that closed (by path). */
  rst: Map<string, number>;
  /** What /echo received (by x-id header). */
  received: Map<
    string,
    {
      method: string;
      sha: string;
      length: number;
      trailers: Record<string, unknown>;
      headers: http2.IncomingHttpHeaders;
    }
  >;
  close(): Promise<void>;
}

const bodies = new Map<number, { data: Uint8Array; sha: string }>();
export function body(n: number): { data: Uint8Array; sha: string } {
  let b = bodies.get(n);
  if (!b) {
    const data = pattern(n, n + 7);
    b = { data, sha: sha(data) };
    bodies.set(n, b);
  }
  return b;
}

/**
 * A node:http2 server (h2c, or TLS with `tls`) with the routes the suites use:
 *   /bytes/N   N pattern bytes, trailer x-sha with their hash
 *   /echo      hashes the request body; answers x-sha, x-length, echoes trailers as x-got-*
 *   /id/N      the text N
 *   /hang      headers and 1000 bytes, then nothing (records its RST_STREAM code)
 *   /reset     RST_STREAM INTERNAL_ERROR
 *   /status/N  status N
 *   /redirect/X  302 to /id/X
 *   /push      pushes /style.css, then answers <html>
 */
export async function nodeServer(
  tls?: { key: Buffer; cert: Buffer },
  onStream?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean,
): Promise<TestServer> {
  const server = tls ? http2.createSecureServer({ key: tls.key, cert: tls.cert }) : http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  const rst = new Map<string, number>();
  const received: TestServer['received'] = new Map();
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const path = String(headers[':path']);
    stream.on('close', () => rst.set(path, stream.rstCode));
    if (onStream?.(stream, headers)) return;
    if (path.startsWith('/bytes/')) {
      const b = body(Number(path.slice(7)));
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sha': b.sha }));
      stream.end(b.data);
    } else if (path === '/echo' || path.startsWith('/echo?')) {
      const h = createHash('sha256');
      let length = 0;
      stream.on('data', (d: Buffer) => {
        h.update(d);
        length += d.length;
      });
      stream.on('end', () => {
        const digest = h.digest('hex');
        const id = String(headers['x-id'] ?? '');
        received.set(id, {
          method: String(headers[':method']),
          sha: digest,
          length,
          trailers: seen.get(stream) ?? {},
          headers,
        });
        stream.respond(
          { ':status': 200, 'x-sha': digest, 'x-length': String(length), 'x-method': String(headers[':method']) },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => {
          const t: Record<string, string> = { 'x-done': '1' };
          for (const [k, v] of Object.entries(seen.get(stream) ?? {}))
            if (!k.startsWith(':')) t[`x-got-${k}`] = String(v);
          stream.sendTrailers(t);
        });
        stream.end(`${length}`);
      });
    } else if (path.startsWith('/id/')) {
      stream.respond({ ':status': 200 });
      stream.end(path.slice(4));
    } else if (path === '/hang') {
      stream.respond({ ':status': 200 });
      stream.write(new Uint8Array(1000));
    } else if (path === '/reset') {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    } else if (path === '/push') {
      stream.pushStream({ ':path': '/style.css' }, (err, push) => {
        if (err) return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        push.on('error', () => {});
        push.respond({ ':status': 200, 'content-type': 'text/css' });
        push.end('body { color: red }');
        stream.respond({ ':status': 200 });
        stream.end('<html>');
      });
    } else if (path.startsWith('/redirect/')) {
      stream.respond({ ':status': 302, location: `/id/${path.slice(10)}` });
      stream.end();
    } else if (path.startsWith('/status/')) {
      stream.respond({ ':status': Number(path.slice(8)) });
      stream.end(`status ${path.slice(8)}`);
    } else {
      stream.respond({ ':status': 404 });
      stream.end('not found');
    }
  });
  const seen = new WeakMap<http2.ServerHttp2Stream, Record<string, unknown>>();
  server.on('stream', (stream) => stream.on('trailers', (t) => seen.set(stream, { ...t })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    sessions,
    rst,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}
