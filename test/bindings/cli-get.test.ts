// `h2wasm get` (the built CLI, run as a child process) against a node:http2 server in
// this process: stdout is exactly the body, -v logs frames to stderr, errors are one line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { cliPutArgs, nodeServer, body, sha, pattern, freePort, runCli, type TestServer } from './support.js';

/** `h2wasm get ...args`, in a process of its own. */
const get = (args: string[], timeoutMs = 30000) => runCli(['get', ...args], timeoutMs);

/** One line, prefixed, no stack trace. */
function expectOneLineError(r: { code: number | null; stdout: Buffer; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(1);
  expect(r.stdout.length).toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^h2wasm: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Exactly one line on stderr, nothing on stdout, exit 1. */
function expectErrorLine(r: { code: number | null; stdout: Buffer; stderr: string }, line: string) {
  expect(r.stderr).toBe(`h2wasm: ${line}\n`);
  expect(r.stdout.length).toBe(0);
  expect(r.code).toBe(1);
}

/** Usage asked for: on stdout, nothing on stderr, exit 0; its lines. */
function expectUsage(r: { code: number | null; stdout: Buffer; stderr: string }): string[] {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.toString().split('\n');
  expect(lines[0]).toBe('usage:');
  expect(lines.at(-1)).toBe(''); // ends with a newline
  return lines;
}

describe('h2wasm help, --help, --version', () => {
  it('--help, -h and help print the whole usage to stdout and exit 0', async () => {
    const runs = await Promise.all([runCli(['--help']), runCli(['-h']), runCli(['help']), runCli(['help', '--help'])]);
    const text = runs[0].stdout.toString();
    for (const r of runs) {
      const lines = expectUsage(r);
      for (const start of [
        '  h2wasm serve [--port N]',
        '  h2wasm get URL [-v]',
        '  h2wasm bench URL [-n N]',
        '  h2wasm help [COMMAND]',
        '  h2wasm --version',
      ])
        expect(
          lines.filter((l) => l.startsWith(start)),
          start,
        ).toHaveLength(1);
      expect(r.stdout.toString()).toBe(text);
    }
  });

  it('help get, get --help and get -h print only the usage of get', async () => {
    const runs = await Promise.all([
      runCli(['help', 'get']),
      runCli(['get', '--help']),
      runCli(['get', '-h']),
      runCli(['get', '-v', 'http://127.0.0.1:1/', '--help']), // anywhere an option may stand
    ]);
    for (const r of runs) {
      const lines = expectUsage(r);
      expect(lines[1]).toBe("  h2wasm get URL [-v] [-X METHOD] [-H 'name: value']... [-d DATA | -d @FILE] [-k]");
      expect(r.stdout.toString()).not.toMatch(/h2wasm (serve|bench)/);
      expect(r.stdout.toString()).toBe(runs[0].stdout.toString());
    }
  });

  it('-h as the value of an option is that value, not help', async () => {
    expectErrorLine(await get(['-H', '-h', 'http://127.0.0.1:1/']), `bad header "-h" (want 'name: value')`);
  });

  it('--version and version print the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const r of await Promise.all([runCli(['--version']), runCli(['version'])])) {
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe(`h2wasm ${version}\n`);
      expect(r.code).toBe(0);
    }
  });

  it('an unknown command, or help for one, is an error: exit 1, the usage on stderr', async () => {
    for (const args of [['nope'], ['help', 'nope'], ['--nope'], ['constructor'], ['help', 'constructor']]) {
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
      const lines = r.stderr.split('\n');
      expect(lines[0]).toBe(`h2wasm: unknown command ${args.at(-1)}`);
      expect(lines[1]).toBe('usage:');
    }
  });

  it('no arguments at all: the usage on stderr and exit 1', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('usage:');
    expect(r.stderr).toMatch(/\n {2}h2wasm get URL /);
  });
});

describe('h2wasm get against node:http2', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await nodeServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('writes exactly the body to stdout (binary, every octet value)', async () => {
    const n = 300_001;
    const r = await get([`${server.url}/bytes/${n}`]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(n);
    expect(sha(r.stdout)).toBe(body(n).sha);
    expect(r.stderr).toBe('');
  });

  it('-v logs every frame both ways with stream ids, flags and decoded headers; stdout stays the body', async () => {
    const r = await get(['-v', `${server.url}/bytes/20000`]);
    expect(r.code).toBe(0);
    expect(sha(r.stdout)).toBe(body(20000).sha);
    const e = r.stderr;
    expect(e).toMatch(/send SETTINGS frame <length=\d+, flags=0x00, stream_id=0>/);
    expect(e).toMatch(/recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>/);
    expect(e).toMatch(/send HEADERS frame <length=\d+, flags=0x05, stream_id=1>/);
    expect(e).toMatch(/ {10}:path: \/bytes\/20000\n/);
    expect(e).toMatch(/recv HEADERS frame <length=\d+, flags=0x04, stream_id=1>/);
    expect(e).toMatch(/ {10}:status: 200\n/);
    expect(e).toMatch(/ {10}content-type: application\/octet-stream\n/);
    expect(e).toMatch(/recv DATA frame <length=\d+, flags=0x00, stream_id=1>/);
    // The trailers: a HEADERS frame with END_STREAM, decoded with the same HPACK state.
    expect(e).toMatch(
      /recv HEADERS frame <length=\d+, flags=0x05, stream_id=1>\n {10}; END_STREAM \| END_HEADERS\n {10}x-sha: [0-9a-f]{64}\n/,
    );
  });

  it('-v decodes a second request against the dynamic table both directions built', async () => {
    // Two requests need two processes; instead, one request whose headers repeat in trailers.
    const r = await get(['-v', '-H', 'x-one: 1', '-H', 'x-two: 2', '-d', 'abc', `${server.url}/echo`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('3');
    expect(r.stderr).toMatch(/ {10}x-one: 1\n {10}x-two: 2\n/);
    expect(r.stderr).toMatch(/send DATA frame <length=3, flags=0x01, stream_id=1>/);
    expect(r.stderr).toMatch(/ {10}x-method: POST\n/);
  });

  it('-X, -H and -d @file send the method, headers and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h2wasm-get-'));
    const data = pattern(70_000, 4);
    writeFileSync(join(dir, 'up.bin'), data);
    const r = await get(cliPutArgs(join(dir, 'up.bin'), `${server.url}/echo`));
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(String(data.length));
    const seen = server.received.get('cli-put')!;
    expect(seen.method).toBe('PUT');
    expect(seen.sha).toBe(sha(data));
    expect(seen.headers['x-mixed']).toBe('Case');
  });

  it('exits 0 on 404 and 503 (like curl without -f), with the body on stdout', async () => {
    const a = await get([`${server.url}/status/404`]);
    expect(a.code).toBe(0);
    expect(a.stdout.toString()).toBe('status 404');
    const b = await get([`${server.url}/status/503`]);
    expect(b.code).toBe(0);
  });

  it('a reset stream is one line and exit 1', async () => {
    expectOneLineError(await get([`${server.url}/reset`]), /INTERNAL_ERROR/);
  });

  it('connection refused is one line and exit 1', async () => {
    const port = await freePort();
    expectErrorLine(await get([`http://127.0.0.1:${port}/`]), `connection refused (127.0.0.1:${port})`);
  });

  it('https:// to a cleartext HTTP/2 port says it does not speak TLS', async () => {
    const url = server.url.replace(/^http:/, 'https:');
    expectErrorLine(
      await get([`${url}/`]),
      `TLS handshake failed: 127.0.0.1:${server.port} does not speak TLS (is it an http:// URL?)`,
    );
  });

  it('https:// to a cleartext port that answers, or closes, is one worded line', async () => {
    // An HTTP/1.1 server's answer, then one that hangs up on the ClientHello.
    const answers = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'));
    });
    const hangsUp = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end());
    });
    const port = async (s: net.Server) => {
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return (s.address() as net.AddressInfo).port;
    };
    try {
      const a = await port(answers);
      expectErrorLine(
        await get([`https://127.0.0.1:${a}/`]),
        `TLS handshake failed: 127.0.0.1:${a} does not speak TLS (is it an http:// URL?)`,
      );
      const b = await port(hangsUp);
      expectErrorLine(
        await get([`https://127.0.0.1:${b}/`]),
        `TLS handshake failed: 127.0.0.1:${b} closed the connection during the handshake`,
      );
    } finally {
      await Promise.all([answers, hangsUp].map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  });

  // (One that answers in HTTP/1.x gets the request over HTTP/1.1: fetch-http1.test.ts.)
  it('a server that speaks neither HTTP/2 nor HTTP/1.1 is one line and exit 1', async () => {
    const h1 = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
    });
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    try {
      expectOneLineError(
        await get([`http://127.0.0.1:${(h1.address() as net.AddressInfo).port}/`]),
        /HTTP\/2 handshake .* failed/,
      );
    } finally {
      await new Promise<void>((r) => h1.close(() => r()));
    }
  });

  it('bad usage and unreadable files are one line and exit 1', async () => {
    expectOneLineError(await get(['ftp://x/']), /unsupported URL scheme/);
    expectOneLineError(
      await get(['-d', '@/nonexistent/file', `${server.url}/echo`]),
      /cannot read \/nonexistent\/file/,
    );
    const r = await get([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^h2wasm: get needs a URL/);
  });
});
