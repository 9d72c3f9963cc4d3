// The TypeScript type check covers more than the published bindings (tsconfig.json):
// the tests and their hosts (tsconfig.test.json, strict) and the JavaScript of bench/,
// scripts/ and the test peers (tsconfig.scripts.json, checkJs), and the Worker example
// against the workerd entry (tsconfig.examples.json). A type error anywhere is a
// failing test.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

describe('the type check', () => {
  for (const project of ['tsconfig.json', 'tsconfig.test.json', 'tsconfig.scripts.json', 'tsconfig.examples.json']) {
    it(`passes for ${project}`, () => {
      const r = spawnSync(process.execPath, [TSC, '--noEmit', '-p', project], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      const errors = (r.stdout + r.stderr).split('\n').filter((l) => /error TS\d+/.test(l));
      expect(errors, 'type errors').toEqual([]);
      expect(r.status).toBe(0);
    }, 150_000);
  }
});
