// examples/browser in a real browser: Debian's chromium, driven by playwright-core (no
// downloaded browser), opens the page that examples/browser/serve.mjs serves. The page
// runs an h2wasm client against an h2wasm server in memory (GET, POST with trailers),
// then the client against a real nghttpd through serve.mjs's WebSocket-to-TCP bridge;
// we read what the page shows. Skipped, in one line, without chromium or nghttpd.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../support/wasm.js';
import { startEchoServer, type EchoServer } from '../support/grpc-echo-server.js';
import { recorded, versionOf } from '../interop/record.js';

const CHROMIUM = '/usr/bin/chromium';
const NGHTTPD =
  ['/usr/sbin/nghttpd', '/usr/bin/nghttpd'].find((p) => spawnSync('test', ['-x', p]).status === 0) ??
  (spawnSync('sh', ['-c', 'command -v nghttpd']).stdout?.toString().trim() || null);
const missing = [existsSync(CHROMIUM) ? '' : 'chromium', NGHTTPD ? '' : 'nghttpd'].filter(Boolean);
if (missing.length) console.log(`examples/browser: ${missing.join(' and ')} not installed, skipped`);

const SERVE = join(ROOT, 'examples', 'browser', 'serve.mjs');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (bounded). */
async function listening(port: number, proc: ChildProcess, what: string, timeoutMs = 10000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

describe.skipIf(missing.length > 0)('examples/browser in chromium', () => {
  const token = `served-by-nghttpd-${randomBytes(8).toString('hex')}`;
  let dir = '';
  let nghttpd: ChildProcess | undefined;
  let helper: ChildProcess | undefined;
  let nghttpdPort = 0;
  let url = '';
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  let memory: string[] = [];
  let bridged: string[] = [];
  let status = '';
  let grpcServer: EchoServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-browser-'));
    writeFileSync(join(dir, 'token.txt'), `${token}\n`);
    // A port that was free a moment ago; nghttpd says so if it is taken since (then we fail, loudly).
    nghttpdPort = await freePort();
    nghttpd = spawn(NGHTTPD!, ['--no-tls', '-d', dir, String(nghttpdPort)], { stdio: 'ignore' });
    await listening(nghttpdPort, nghttpd, 'nghttpd');

    await bundleGrpcPage(join(dir, 'bundle'), join(dir, 'modules'));
    grpcServer = await startEchoServer();
    helper = spawn(
      process.execPath,
      [SERVE, '--port', '0', '--nghttpd-port', String(nghttpdPort), '--bundle', join(dir, 'bundle')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`serve.mjs did not start: ${out}`)), 10000);
      helper!.stdout!.on('data', (d) => {
        out += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      helper!.stderr!.on('data', (d) => {
        out += d;
      });
      helper!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve.mjs exited (${code}): ${out}`));
      });
    });

    // launch() runs chromium on a fresh temporary profile (user-data-dir) it deletes on close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 30000,
    });
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${url}?path=/token.txt`, { timeout: 15000 });
    await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 30000 });
    status = (await page.locator('#status').textContent()) ?? '';
    memory = await page.locator('#memory li').allTextContents();
    bridged = await page.locator('#nghttpd li').allTextContents();
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'browser.png'), fullPage: true });
  }, 90000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    helper?.kill();
    nghttpd?.kill();
    await grpcServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finishes without an error on the page', () => {
    expect(status, [...memory, ...bridged].join('\n')).toBe('done');
    expect(pageErrors).toEqual([]);
    expect([...memory, ...bridged].filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('in memory: the GET is answered by the h2wasm server in the page', () => {
    expect(memory).toContain('handshake: ok (client and server settings exchanged)');
    expect(memory).toContain('GET /hello status: 200');
    expect(memory).toContain('GET /hello headers: content-type: text/plain, x-served-by: h2wasm (in the page)');
    expect(memory).toContain('GET /hello body: hello from h2wasm: GET /hello');
  });

  it('in memory: the POST body and its trailers reach the server; the response trailers reach the client', () => {
    expect(memory).toContain('POST /echo status: 200');
    expect(memory).toContain(
      'POST /echo body: echo: ping from the browser (request trailers: x-client-trailer=sent-after-body)',
    );
    expect(memory).toContain('POST /echo trailers: x-body-length: 21, x-server-trailer: done');
    // Trailers travel as a second HEADERS frame: GET, POST and its trailers one way,
    // two responses and the response trailers the other.
    const frames = (dir: string) => memory.find((l) => l.startsWith(`frames ${dir}:`)) ?? '';
    expect(frames('client→server')).toMatch(/\bHEADERS 3\b/);
    expect(frames('server→client')).toMatch(/\bHEADERS 3\b/);
    expect(frames('server→client')).toMatch(/\bDATA 2\b/);
    expect(memory).toContain('in-memory: closed');
  });

  it('over the WebSocket bridge: nghttpd serves the file to the h2wasm client in the page', () => {
    expect(bridged).toContain(`bridge: open (ws → 127.0.0.1:${nghttpdPort})`);
    expect(bridged).toContain('nghttpd GET /token.txt status: 200');
    expect(bridged.find((l) => l.startsWith('nghttpd GET /token.txt headers:'))).toMatch(/server: nghttpd nghttp2\//);
    expect(bridged).toContain(`nghttpd GET /token.txt body: ${token}`);
    expect(bridged.find((l) => l.startsWith('frames nghttpd→client:'))).toMatch(/\bSETTINGS \d+.*\bDATA 1\b/);
  });

  it('gRPC in the page: Connect-ES over h2wasm through the bridge to an @grpc/grpc-js server', async () => {
    const version = versionOf(browser!.version());
    await recorded(
      'Chromium',
      version,
      'Connect-ES over h2wasm in Chromium (WebSocket bridge) → @grpc/grpc-js server (h2c)',
      'unary, server-streaming (100), client-streaming, bidi (interleaved)',
      async () => {
        const grpcPage = await browser!.newPage();
        try {
          await grpcPage.goto(`${url}bundle/grpc.html?grpc=${grpcServer!.port}`, { timeout: 15000 });
          await grpcPage.waitForFunction(() => document.body.dataset.grpc, null, { timeout: 30000 });
          const result = JSON.parse((await grpcPage.evaluate(() => document.body.dataset.grpc)) ?? '{}') as unknown;
          expect(result).toEqual({
            unary: 'hello',
            serverStream: 100,
            clientStream: 'a,b,c',
            bidi: ['m0', 'm1', 'm2'],
          });
        } finally {
          await grpcPage.close();
        }
      },
    );
  });

  it('serve.mjs serves only the page, the module and the bindings', async () => {
    const wasm = await fetch(new URL('/build/h2wasm.wasm', url));
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(new URL('/dist/bindings/client.js', url))).status).toBe(200);
    for (const path of [
      '/dist/bindings/%2e%2e%2fnode.js',
      '/package.json',
      '/dist/bindings/../../package.json',
      '/examples/browser/serve.mjs',
    ]) {
      const r = await fetch(new URL(path, url));
      expect(r.status, path).toBe(404);
    }
  });

  it('the bridge answers 101 with the RFC 6455 accept key, and refuses bad or unreachable targets', async () => {
    const closed = await freePort();
    const upgrade = (target: string) =>
      new Promise<string>((resolve, reject) => {
        const u = new URL(url);
        const c = net.connect({ host: '127.0.0.1', port: Number(u.port) }, () => {
          c.write(
            `GET ${target} HTTP/1.1\r\nhost: ${u.host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
              'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n',
          );
        });
        let got = '';
        const timer = setTimeout(() => {
          c.destroy();
          reject(new Error(`no answer to ${target}: ${got}`));
        }, 5000);
        c.on('data', (d) => {
          got += d;
          if (got.includes('\r\n\r\n')) {
            clearTimeout(timer);
            c.destroy();
            resolve(got);
          }
        });
        c.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    const ok = await upgrade(`/tcp?port=${nghttpdPort}`);
    expect(ok).toMatch(/^HTTP\/1\.1 101 /);
    expect(ok).toMatch(/sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i); // RFC 6455 §1.3's example
    expect(await upgrade('/tcp?port=0')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await upgrade('/tcp?port=x')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await upgrade(`/elsewhere?port=${nghttpdPort}`)).toMatch(/^HTTP\/1\.1 400 /);
    expect(await upgrade(`/tcp?port=${closed}`)).toMatch(/^HTTP\/1\.1 502 /);
  });
});

/**
 * test/runtimes/browser-grpc.ts bundled for the page as a bundler would (the `browser`
 * condition; h2wasm resolved by its package name through `modules`, a folder linking the
 * package), with the page that loads it.
 */
async function bundleGrpcPage(out: string, modules: string): Promise<void> {
  mkdirSync(modules, { recursive: true });
  symlinkSync(ROOT, join(modules, 'h2wasm'));
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(ROOT, 'test', 'runtimes', 'browser-grpc.ts')],
    outfile: join(out, 'grpc.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    nodePaths: [modules],
    logLevel: 'error',
  });
  writeFileSync(
    join(out, 'grpc.html'),
    '<!doctype html><meta charset="utf-8"><title>h2wasm gRPC</title><link rel="icon" href="data:,">' +
      '<script type="module" src="/bundle/grpc.js"></script>',
  );
}
