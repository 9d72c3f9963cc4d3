// `h2wasm serve`'s command line (the built CLI, a process of its own): its usage, and a
// --dir that is not a folder refused at start, before it listens.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from './support.js';

describe('h2wasm serve (command line)', () => {
  it('serve --help and help serve print the usage of serve to stdout, exit 0', async () => {
    for (const args of [
      ['serve', '--help'],
      ['serve', '-h'],
      ['help', 'serve'],
      ['serve', '--port', '0', '--help'],
    ]) {
      const r = await runCli(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.toString().split('\n');
      expect(lines[0]).toBe('usage:');
      expect(lines[1]).toMatch(/^ {2}h2wasm serve \[--port N\] /);
      expect(r.stdout.toString()).not.toMatch(/h2wasm (get|bench)/);
    }
  });

  // A server that listened would not exit: runCli's timeout fails the test.
  it('--dir on a missing folder: one line, exit 1, never listening', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'h2wasm-dir-')), 'nonexistent');
    const r = await runCli(['serve', '--port', '0', '--dir', missing], 10000);
    expect(r.stderr).toBe(`h2wasm: --dir ${missing}: no such folder\n`);
    expect(r.code).toBe(1);
  });

  it('--dir on a file: one line, exit 1, never listening', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'h2wasm-dir-')), 'file.txt');
    writeFileSync(file, 'not a folder\n');
    const r = await runCli(['serve', '--port', '0', '--dir', file], 10000);
    expect(r.stderr).toBe(`h2wasm: --dir ${file}: is not a folder\n`);
    expect(r.code).toBe(1);
  });

  it('--dir on a folder serves from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h2wasm-dir-'));
    const p = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--dir', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`did not start: ${err}`)), 10000);
        p.stderr!.on('data', (d) => {
          err += d;
          if (err.includes('\n')) {
            clearTimeout(timer);
            resolve(err.split('\n')[0]);
          }
        });
        p.on('exit', (code) => reject(new Error(`exited (${code}): ${err}`)));
      });
      const m = /^h2wasm: serving http:\/\/127\.0\.0\.1:\d+ from (.*)$/.exec(line);
      expect(m?.[1], line).toBe(dir);
    } finally {
      p.kill('SIGKILL');
    }
  });
});
