// `h2wasm bench` against `h2wasm serve`: counts add up, the report has every part.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, freePort, runCli } from './support.js';

/** Starts `h2wasm serve --port 0`; its URL once it listens. */
function startServe(): { url: Promise<string>; stop: () => void } {
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = new Promise<string>((resolve, reject) => {
    let err = '';
    server.stderr!.on('data', (d) => {
      err += d;
      const m = /serving (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    setTimeout(() => reject(new Error(err)), 10000);
  });
  return { url, stop: () => server.kill() };
}

describe('h2wasm bench', () => {
  it('runs N requests over C connections × M streams and reports rate, latency and statuses', async () => {
    const server = startServe();
    try {
      const url = await server.url;
      const r = spawnSync(process.execPath, [CLI, 'bench', `${url}/`, '-n', '3000', '-c', '3', '-m', '20'], {
        encoding: 'utf8',
        timeout: 60000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/finished in [\d.]+s, [\d.]+ req\/s, [\d.]+MB\/s/);
      expect(r.stdout).toMatch(/requests: 3000 done, 3000 succeeded, 0 failed \(3 connections × 20 streams\)/);
      expect(r.stdout).toMatch(/status codes: 200: 3000/);
      expect(r.stdout).toMatch(/latency: min [\d.]+ms, p50 [\d.]+ms, p90 [\d.]+ms, p99 [\d.]+ms, max [\d.]+ms/);
      expect(r.stderr).toMatch(/\[#+\.*\] 3000\/3000/); // the progress bar's last state
    } finally {
      server.stop();
    }
  });

  it('says connection refused (HOST:PORT) as get does, one line and exit 1, when nothing listens', async () => {
    const port = await freePort();
    const r = spawnSync(process.execPath, [CLI, 'bench', `http://127.0.0.1:${port}/`, '-n', '5'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.stderr).toBe(`h2wasm: connection refused (127.0.0.1:${port})\n`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  it('https:// to a cleartext h2wasm serve: the TLS line get gives', async () => {
    const server = startServe();
    try {
      const url = new URL(await server.url);
      const r = spawnSync(process.execPath, [CLI, 'bench', `https://${url.host}/`, '-n', '5'], {
        encoding: 'utf8',
        timeout: 20000,
      });
      expect(r.stderr).toBe(`h2wasm: TLS handshake failed: ${url.host} does not speak TLS (is it an http:// URL?)\n`);
      expect(r.stdout).toBe('');
      expect(r.status).toBe(1);
    } finally {
      server.stop();
    }
  });

  it('bench --help and help bench print the usage of bench to stdout, exit 0', async () => {
    for (const args of [
      ['bench', '--help'],
      ['bench', '-h'],
      ['help', 'bench'],
      ['bench', '-n', '5', 'http://127.0.0.1:1/', '--help'],
    ]) {
      const r = await runCli(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.toString().split('\n');
      expect(lines.slice(0, 2)).toEqual(['usage:', '  h2wasm bench URL [-n N] [-c C] [-m M] [-d SECONDS] [-k]']);
      expect(r.stdout.toString()).not.toMatch(/h2wasm (serve|get)/);
    }
  });
});
