// The house style: prettier's layout (scripts/format.mjs, which also reads AssemblyScript)
// and ESLint's rules (eslint.config.js) over every source file. A difference is a failing test.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
// @ts-expect-error: a plain .mjs script without types
import { formatted } from '../../scripts/format.mjs';

const run = (args: string[]) =>
  spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 << 20 });

describe('the house style', () => {
  it('every source file is as prettier prints it', () => {
    const r = run([join(ROOT, 'scripts', 'format.mjs')]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 300_000);

  it('ESLint finds no problem', () => {
    const r = run([join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--max-warnings', '0', '.']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 300_000);

  it("keeps AssemblyScript's function decorators where they stand", async () => {
    const source = [
      '@inline export function twice(x: i32): i32 {',
      '  return x << 1;',
      '}',
      '',
      '@external("h2_host", "now")',
      'declare function hostNow(): f64;',
      '',
    ].join('\n');
    const out = await formatted(source, join(ROOT, 'assembly', 'example.ts'));
    expect(out).toBe(source);
  });

  it('reports a file laid out otherwise', async () => {
    const source = '@inline export function twice(x:i32):i32{return x<<1}\n';
    const out = await formatted(source, join(ROOT, 'assembly', 'example.ts'));
    expect(out).toBe('@inline export function twice(x: i32): i32 {\n  return x << 1;\n}\n');
  });
});
