// The JavaScript host's client in the same bench mode as examples/c/client and
// examples/go/client: N GETs of URL over one connection (h2wasm's connect() from
// dist/bindings), at most M in flight, bodies read and discarded. Nothing on stdout;
// the last stderr line is `requests=N ok=K seconds=S req/s=R` (ok: 2xx with the whole
// body; S from before the connect, the module instantiated, until the last response
// ended). Exit 0 when ok == N.
//
//   node bench/node-client.mjs -n N -m M URL
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const usage = 'usage: node bench/node-client.mjs [-n N] [-m M] URL';

function parseArgs(argv) {
  let total = 1;
  let streams = 1;
  let i = 0;
  while (i + 1 < argv.length && (argv[i] === '-n' || argv[i] === '-m')) {
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${argv[i]} needs a positive number, got ${argv[i + 1]}`);
    if (argv[i] === '-n') total = v;
    else streams = v;
    i += 2;
  }
  if (argv.length - i !== 1) throw new Error(usage);
  return { total, streams: Math.min(streams, total), url: new URL(argv[i]) };
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`node-client: ${e.message}`);
  process.exit(2);
}

// Deno and Bun run this script too (bench/client.mjs): each with its own package entry.
const entry = globalThis.Deno || globalThis.Bun ? 'deno-bun.js' : 'index.js';
const { connect, runtime } = await import(pathToFileURL(join(root, 'dist', 'bindings', entry)).href);
// The module compiled and instantiated before the clock starts, as the Go and Rust hosts
// do theirs (the C host's is compiled ahead of time): the clock times the connection.
runtime();
const path = args.url.pathname + args.url.search;
let started = 0;
let ok = 0;
let errors = 0;

const t0 = performance.now();
const session = connect(args.url);
async function worker() {
  while (started < args.total) {
    started++;
    try {
      const res = await session.request({ path });
      for await (const chunk of res.body) void chunk; // read and discarded
      if (res.status >= 200 && res.status < 300) ok++;
    } catch (e) {
      if (++errors <= 3) console.error(`node-client: request failed: ${e.message}`);
    }
  }
}
await Promise.all(Array.from({ length: args.streams }, worker));
const seconds = (performance.now() - t0) / 1000;
session.destroy();
if (errors > 3) console.error(`node-client: ${errors} requests failed (the first 3 shown)`);
console.error(
  `requests=${args.total} ok=${ok} seconds=${seconds.toFixed(3)} req/s=${Math.round(seconds > 0 ? ok / seconds : 0)}`,
);
process.exitCode = ok === args.total ? 0 : 1;
