// `h2wasm bench` against `h2wasm serve`: counts add up, the report has every part.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { runCli } from './support.js';

const CLI = join(ROOT, 'dist', 'bindings', 'cli.js');

describe('h2wasm bench', () => {
  it('runs N requests over C connections × M streams and reports rate, latency and statuses', async () => {
    const server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr!.on('data', (d) => {
          err += d;
          const m = /serving (\S+)/.exec(err);
          if (m) resolve(m[1]);
        });
        setTimeout(() => reject(new Error(err)), 10000);
      });
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
      server.kill();
    }
  });

  it('fails with one line and exit 1 when nothing listens', () => {
    const r = spawnSync(process.execPath, [CLI, 'bench', 'http://127.0.0.1:1/', '-n', '5'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.status).toBe(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('h2wasm:')),
    ).toHaveLength(1);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
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
