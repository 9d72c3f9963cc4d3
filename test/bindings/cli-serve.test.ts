// `h2wasm serve`'s command line (the built CLI, a process of its own): its usage.
import { describe, it, expect } from 'vitest';
import { runCli } from './support.js';

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
});
