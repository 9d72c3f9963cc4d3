// Server throughput, measured side by side in one run: h2load against `h2wasm serve`
// (the low-level stream handler, its defaults), against h2wasm's fetch-style serve() (a
// handler's `new Response(…)` as it comes: serve() makes it a LightResponse by default; the
// runtime's own Response, with overrideGlobalObjects: false; a LightResponse returned by
// name), against one Hono app on serve({ fetch }) (both ways) and
// on @hono/node-server over node:http2 (h2c), against Deno.serve (h2c prior knowledge;
// the deno of test/runtimes), against a minimal node:http2 server, against the C example
// server (examples/c/server: the core through wasm2c, an epoll loop; built with its
// Makefile when wasm2c, gcc and make are there, else skipped with one line) and against
// nghttpd, right after it. Server and load generator are pinned to different cores with
// taskset where it exists.
//
//   node bench/server.mjs [--quick]      (prints a markdown table; --quick: seconds, a smoke)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import {
  root,
  quick,
  has,
  pin,
  freePort,
  startServer,
  runTool,
  h2loadRps,
  h2loadOk,
  summary,
  ratio,
  times,
  printCommands,
} from './lib.mjs';

const requests = quick ? 5000 : 200000;

/** Starts a server process on core 0, runs h2load on core 1, returns req/s. */
async function measure(name, cmd, args, port) {
  const server = await startServer(0, cmd, args, port);
  try {
    // Every server first answers a tenth of the load unmeasured: a JIT's warm-up (node,
    // Deno, ours) is not what the row is about, and the native servers lose nothing by it.
    runTool(1, 'h2load', ['-n', String(requests / 10), '-c', '10', '-m', '100', `http://127.0.0.1:${port}/`], 300000);
    const r = runTool(
      1,
      'h2load',
      ['-n', String(requests), '-c', '10', '-m', '100', `http://127.0.0.1:${port}/`],
      300000,
    );
    return { name, rps: h2loadRps(r.stdout), succeeded: h2loadOk(r.stdout) };
  } finally {
    await server.stop();
  }
}

const scripts = mkdtempSync(join(tmpdir(), 'h2wasm-bench-'));
const nodeServer = join(scripts, 'node-http2.mjs');
writeFileSync(
  nodeServer,
  `import http2 from 'node:http2';
const s = http2.createServer();
s.on('stream', (stream) => { stream.respond({ ':status': 200, 'content-type': 'text/plain' }); stream.end('hello from node\\n'); });
s.listen(Number(process.argv[2]), '127.0.0.1');`,
);
const fetchServer = join(scripts, 'h2wasm-fetch.mjs');
writeFileSync(
  fetchServer,
  `import { serve } from ${JSON.stringify(join(root, 'dist', 'bindings', 'index.js'))};
await serve({ port: Number(process.argv[2]), fetch: () => new Response('hello from h2wasm\\n', { headers: { 'content-type': 'text/plain' } }), overrideGlobalObjects: process.argv[3] !== 'native' });`,
);

const lightServer = join(scripts, 'h2wasm-fetch-light.mjs');
writeFileSync(
  lightServer,
  `import { serve, LightResponse } from ${JSON.stringify(join(root, 'dist', 'bindings', 'index.js'))};
await serve({ port: Number(process.argv[2]), fetch: () => new LightResponse('hello from h2wasm\\n', { headers: { 'content-type': 'text/plain' } }) });`,
);

// One Hono app (one route, c.text() of the tiny body) on h2wasm's serve({ fetch }) (as it
// comes, and with overrideGlobalObjects: false) and on @hono/node-server with
// node:http2's createServer (h2c; it replaces the global Request/Response by default).
const honoUrl = import.meta.resolve('hono');
const honoNodeUrl = import.meta.resolve('@hono/node-server');
const honoApp = `import { Hono } from ${JSON.stringify(honoUrl)};
const app = new Hono();
app.get('/', (c) => c.text('hello from hono\\n'));`;
const honoH2wasm = join(scripts, 'hono-h2wasm.mjs');
writeFileSync(
  honoH2wasm,
  `${honoApp}
import { serve } from ${JSON.stringify(join(root, 'dist', 'bindings', 'index.js'))};
await serve({ port: Number(process.argv[2]), fetch: app.fetch, overrideGlobalObjects: process.argv[3] !== 'native' });`,
);
const honoNode = join(scripts, 'hono-node-server.mjs');
writeFileSync(
  honoNode,
  `${honoApp}
import http2 from 'node:http2';
import { serve } from ${JSON.stringify(honoNodeUrl)};
serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: '127.0.0.1', createServer: http2.createServer });`,
);

// Deno.serve answers h2c with prior knowledge on a cleartext listener (h2load says h2c).
const deno = join(root, 'test', 'runtimes', 'node_modules', '.bin', 'deno');
const denoServer = join(scripts, 'deno-serve.mjs');
writeFileSync(
  denoServer,
  `Deno.serve({ port: Number(Deno.args[0]), hostname: '127.0.0.1', onListen() {} },
  () => new Response('hello from deno\\n', { headers: { 'content-type': 'text/plain' } }));`,
);

// The pure-JavaScript `http2` package from npm (what a runtime without node:http2 would
// use; devDependency), h2c with prior knowledge through its `raw` server.
const jsPackage = join(root, 'node_modules', 'http2', 'lib', 'index.js');
const jsServer = join(scripts, 'npm-http2.cjs');
writeFileSync(
  jsServer,
  `const http2 = require(${JSON.stringify(jsPackage)});
http2.raw.createServer({}, (req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello from http2 (npm)\\n'); })
  .listen(Number(process.argv[2]), '127.0.0.1');`,
);

if (!has('h2load')) {
  console.log('bench/server: h2load is not installed (Debian nghttp2-client); skipped');
  process.exit(0);
}

/** The C example server built by examples/c/Makefile: its path, or why there is none. */
function buildCServer() {
  const missing = ['wasm2c', 'gcc', 'make'].filter((c) => !has(c));
  if (missing.length) return { skipped: `${missing.join(', ')} not installed` };
  const dir = join(root, 'examples', 'c');
  const r = spawnSync('make', ['-s', '-C', dir, 'server'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { skipped: `make failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
  return { path: join(dir, 'server') };
}

const rows = [];
let port = await freePort();
rows.push(
  await measure(
    'h2wasm serve (stream handler)',
    process.execPath,
    [join(root, 'dist', 'bindings', 'cli.js'), 'serve', '--port', String(port)],
    port,
  ),
);
port = await freePort();
rows.push(await measure('h2wasm serve({ fetch })', process.execPath, [fetchServer, String(port)], port));
port = await freePort();
rows.push(
  await measure(
    "h2wasm serve({ fetch, overrideGlobalObjects: false }), the runtime's own Response",
    process.execPath,
    [fetchServer, String(port), 'native'],
    port,
  ),
);
port = await freePort();
rows.push(await measure('h2wasm serve({ fetch }), LightResponse', process.execPath, [lightServer, String(port)], port));
port = await freePort();
rows.push(await measure('Hono on h2wasm serve({ fetch })', process.execPath, [honoH2wasm, String(port)], port));
port = await freePort();
rows.push(
  await measure(
    'Hono on h2wasm serve({ fetch, overrideGlobalObjects: false })',
    process.execPath,
    [honoH2wasm, String(port), 'native'],
    port,
  ),
);
port = await freePort();
rows.push(
  await measure('Hono on @hono/node-server (node:http2, h2c)', process.execPath, [honoNode, String(port)], port),
);
if (existsSync(deno)) {
  port = await freePort();
  rows.push(
    await measure('Deno.serve (h2c prior knowledge)', deno, ['run', '--allow-net', denoServer, String(port)], port),
  );
}
port = await freePort();
rows.push(await measure('node:http2 (minimal)', process.execPath, [nodeServer, String(port)], port));
if (existsSync(jsPackage)) {
  port = await freePort();
  rows.push(await measure('http2 from npm (pure JS, 3.x)', process.execPath, [jsServer, String(port)], port));
}
// The C server and nghttpd answer alike: the same small file from the same directory.
const www = mkdtempSync(join(tmpdir(), 'h2wasm-nghttpd-'));
writeFileSync(join(www, 'index.html'), 'hello from nghttpd\n');
const C_SERVER = 'C server (examples/c, wasm2c)';
const cServer = buildCServer();
if (cServer.path) {
  port = await freePort();
  rows.push(await measure(C_SERVER, cServer.path, ['--port', String(port), '--dir', www], port));
}
if (has('nghttpd')) {
  port = await freePort();
  rows.push(await measure('nghttpd', 'nghttpd', ['--no-tls', '-a', '127.0.0.1', '-d', www, String(port)], port));
}
rmSync(www, { recursive: true, force: true });
rmSync(scripts, { recursive: true, force: true });

const base = (name) => rows.find((r) => r.name === name)?.rps;
const node = base('node:http2 (minimal)');
const nghttpd = base('nghttpd');
console.log(`\n### Server req/s: h2load -n ${requests} -c 10 -m 100, tiny body${quick ? ' (--quick)' : ''}`);
console.log(
  `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}${pin ? ', server on core 0, h2load on core 1' : ''}\n`,
);
console.log('| server | req/s | ÷ node:http2 | ÷ nghttpd | succeeded |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const ratio = (b) => (b && Number.isFinite(r.rps) ? (r.rps / b).toFixed(2) : '–');
  console.log(
    `| ${r.name} | ${Number.isFinite(r.rps) ? Math.round(r.rps) : 'failed'} | ${ratio(node)} | ${ratio(nghttpd)} | ${r.succeeded}/${requests} |`,
  );
}
if (cServer.skipped) console.log(`\n${C_SERVER}: skipped (${cServer.skipped})`);
printCommands();

const ours = base('h2wasm serve (stream handler)');
const viaFetch = base('h2wasm serve({ fetch })');
const viaLight = base('h2wasm serve({ fetch }), LightResponse');
const viaNativeResponse = base("h2wasm serve({ fetch, overrideGlobalObjects: false }), the runtime's own Response");
const k = (x) => (Number.isFinite(x) ? String(Math.round(x)) : '–');
summary({
  bench: `server req/s, h2load -c 10 -m 100, tiny body, h2wasm serve (defaults, stream handler)`,
  ours: `${k(ours)} req/s`,
  peers: `node:http2 ${k(node)}; nghttpd ${k(nghttpd)}; http2 (npm, pure JS) ${k(base('http2 from npm (pure JS, 3.x)'))}`,
  ratio: `${times(ratio(ours, node))} node:http2, ${times(ratio(ours, nghttpd))} nghttpd`,
  goal: '≥ 5× node:http2, ≥ 0.8× nghttpd',
  met:
    Number.isFinite(ratio(ours, node)) && Number.isFinite(ratio(ours, nghttpd))
      ? ratio(ours, node) >= 5 && ratio(ours, nghttpd) >= 0.8
        ? 'yes'
        : 'no'
      : '–',
});
const cRps = base(C_SERVER);
summary({
  bench: 'server req/s, same, the C example server (examples/c/server, wasm2c, epoll)',
  ours: cServer.path ? `${k(cRps)} req/s` : `skipped (${cServer.skipped})`,
  peers: `nghttpd ${k(nghttpd)}`,
  ratio: `${times(ratio(cRps, nghttpd))} nghttpd`,
  goal: '≥ 0.8× nghttpd',
  met: Number.isFinite(ratio(cRps, nghttpd)) ? (ratio(cRps, nghttpd) >= 0.8 ? 'yes' : 'no') : '–',
});
summary({
  bench:
    "server req/s, same, through the fetch-style serve({ fetch }) handler: `new Response(string, { headers })` as it comes (serve()'s default makes it a LightResponse)",
  ours: `${k(viaFetch)} req/s (returning a LightResponse ${k(viaLight)}; the runtime's own Response, overrideGlobalObjects: false, ${k(viaNativeResponse)})`,
  peers: `node:http2 ${k(node)}; Hono on h2wasm ${k(base('Hono on h2wasm serve({ fetch })'))}, on @hono/node-server ${k(base('Hono on @hono/node-server (node:http2, h2c)'))}; Deno.serve ${k(base('Deno.serve (h2c prior knowledge)'))}`,
  ratio: `${times(ratio(viaFetch, node))} node:http2 (the runtime's own Response ${times(ratio(viaNativeResponse, node))})`,
  goal: '≥ 2× node:http2 (issue #20: ≥ 1.5×)',
  met: Number.isFinite(ratio(viaFetch, node)) ? (ratio(viaFetch, node) >= 2 ? 'yes' : 'no') : '–',
});
