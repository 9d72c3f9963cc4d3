// Bundles src/worker.ts as wrangler does (esbuild; the conditions workerd, worker, browser),
// the .wasm import left as a separate module (wrangler's default CompiledWasm rule), into
// dist/ (or the folder given): worker.js and h2wasm.wasm, which config.capnp embeds. The
// test suites bundle their own Worker with it (ENTRY).
//   node build.mjs [OUTDIR] [ENTRY]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const here = import.meta.dirname;
const outdir = resolve(process.argv[2] ?? join(here, 'dist'));
mkdirSync(outdir, { recursive: true });

await build({
  entryPoints: [resolve(process.argv[3] ?? join(here, 'src', 'worker.ts'))],
  outfile: join(outdir, 'worker.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  external: ['cloudflare:*'],
  logLevel: 'warning',
  plugins: [
    {
      name: 'wasm-module',
      setup(b) {
        // A .wasm import becomes a module of its own beside worker.js (workerd compiles it).
        b.onResolve({ filter: /\.wasm$/ }, (args) => {
          const file = resolve(args.resolveDir, args.path);
          copyFileSync(file, join(outdir, basename(file)));
          return { path: `./${basename(file)}`, external: true };
        });
      },
    },
  ],
});
console.log(`built ${join(outdir, 'worker.js')}`);
