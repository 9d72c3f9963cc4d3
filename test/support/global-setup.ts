// Builds whatever is out of date before any suite runs, so `npx vitest` alone works too.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './wasm.js';

export default function setup() {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'ensure.mjs')], { stdio: 'inherit' });
}
