// Builds everything the package and its tests need: the release and debug modules,
// the per-layer test harness modules, and the TypeScript bindings.
// Usage: node scripts/build.mjs [--wasm-only]
import { execFileSync } from 'node:child_process';
import { readdirSync, mkdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

mkdirSync(join(root, 'build', 'test'), { recursive: true });
// The fixed texts as UTF-8 (error messages, the HPACK static table): scripts/gen-texts.mjs.
run(process.execPath, ['scripts/gen-texts.mjs']);
// The release module with scripts/asc-noinline.mjs, which keeps Binaryen from copying a few
// small functions into hundreds of callers (given here: asc cannot load a transform that
// asconfig.json names by a relative path).
run(bin('asc'), ['assembly/index.ts', '--target', 'release', '--transform', './scripts/asc-noinline.mjs']);
run(bin('asc'), ['assembly/index.ts', '--target', 'debug']);

// Test harnesses: test/<layer>/harness.ts reach a layer's internals without widening
// the module's public export list.
for (const layer of readdirSync(join(root, 'test'))) {
  const harness = join('test', layer, 'harness.ts');
  if (!existsSync(join(root, harness))) continue;
  // The harnesses call layer internals with no safe points (assembly/util/gc.ts), so
  // they keep the incremental runtime, which collects on its own.
  run(bin('asc'), [
    harness,
    '--target',
    'debug',
    '--runtime',
    'incremental',
    '--outFile',
    `build/test/${layer}.wasm`,
    '--textFile',
    `build/test/${layer}.wat`,
  ]);
}

if (!process.argv.includes('--wasm-only')) run(bin('tsc'), ['-p', 'tsconfig.json']);
