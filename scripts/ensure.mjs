// Makes a fresh clone runnable: installs dependencies when node_modules is missing or
// older than the lock file, and rebuilds when any source is newer than its output.
// Uses only Node's standard library, since it runs before anything is installed.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
function newest(dir, exts) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, mtime(p));
  }
  return t;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(join(root, 'package-lock.json')) > mtime(installed)) {
  console.error('h2wasm: installing dependencies (npm ci)…');
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const sources = Math.max(
  newest(join(root, 'assembly'), ['.ts', '.txt']),
  newest(join(root, 'test'), ['harness.ts']),
  newest(join(root, 'bindings'), ['.ts']),
  mtime(join(root, 'asconfig.json')),
  mtime(join(root, 'tsconfig.json')),
  mtime(join(root, 'scripts', 'build.mjs')),
  mtime(join(root, 'scripts', 'gen-texts.mjs')),
);
const outputs = Math.min(mtime(join(root, 'build', 'h2wasm.wasm')), mtime(join(root, 'dist', 'bindings', 'index.js')));
if (sources > outputs) {
  console.error('h2wasm: building…');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
