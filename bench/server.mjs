// Server throughput, measured side by side in one run: h2load against `h2wasm serve`
// (the low-level stream handler, its defaults), against h2wasm's fetch-style serve(),
// against a minimal node:http2 server, and against nghttpd. Server and load generator
// are pinned to different cores with taskset where it exists.
//
//   node bench/server.mjs [--quick]      (prints a markdown table; --quick: seconds, a smoke)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const requests = quick ? 5000 : 200000;
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const pin = has('taskset') && cpus().length > 1;
const onCore = (core, cmd, args) => (pin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Starts a server process on core 0, runs h2load on core 1, returns req/s. */
async function measure(name, cmd, args, port) {
  const [c, a] = onCore(0, cmd, args);
  const proc = spawn(c, a, { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const [lc, la] = onCore(1, 'h2load', ['-n', String(requests), '-c', '10', '-m', '100', `http://127.0.0.1:${port}/`]);
    const r = spawnSync(lc, la, { encoding: 'utf8', timeout: 300000 });
    const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(r.stdout);
    const ok = /(\d+) succeeded, (\d+) failed/.exec(r.stdout);
    return { name, rps: rate ? Number(rate[1]) : NaN, succeeded: ok ? Number(ok[1]) : 0 };
  } finally {
    proc.kill();
  }
}

const scripts = mkdtempSync(join(tmpdir(), 'h2wasm-bench-'));
const nodeServer = join(scripts, 'node-http2.mjs');
writeFileSync(nodeServer, `import http2 from 'node:http2';
const s = http2.createServer();
s.on('stream', (stream) => { stream.respond({ ':status': 200, 'content-type': 'text/plain' }); stream.end('hello from node\\n'); });
s.listen(Number(process.argv[2]), '127.0.0.1');`);
const fetchServer = join(scripts, 'h2wasm-fetch.mjs');
writeFileSync(fetchServer, `import { serve } from ${JSON.stringify(join(root, 'dist', 'bindings', 'index.js'))};
await serve({ port: Number(process.argv[2]), fetch: () => new Response('hello from h2wasm\\n', { headers: { 'content-type': 'text/plain' } }) });`);

if (!has('h2load')) {
  console.log('bench/server: h2load is not installed (Debian nghttp2-client); skipped');
  process.exit(0);
}

const rows = [];
let port = await freePort();
rows.push(await measure('h2wasm serve (stream handler)', process.execPath, [join(root, 'dist', 'bindings', 'cli.js'), 'serve', '--port', String(port)], port));
port = await freePort();
rows.push(await measure('h2wasm serve({ fetch })', process.execPath, [fetchServer, String(port)], port));
port = await freePort();
rows.push(await measure('node:http2 (minimal)', process.execPath, [nodeServer, String(port)], port));
if (has('nghttpd')) {
  const dir = mkdtempSync(join(tmpdir(), 'h2wasm-nghttpd-'));
  writeFileSync(join(dir, 'index.html'), 'hello from nghttpd\n');
  port = await freePort();
  rows.push(await measure('nghttpd', 'nghttpd', ['--no-tls', '-d', dir, String(port)], port));
}

const base = (name) => rows.find((r) => r.name === name)?.rps;
const node = base('node:http2 (minimal)');
const nghttpd = base('nghttpd');
console.log(`\n### Server req/s: h2load -n ${requests} -c 10 -m 100, tiny body${quick ? ' (--quick)' : ''}`);
console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}${pin ? ', server on core 0, h2load on core 1' : ''}\n`);
console.log('| server | req/s | ÷ node:http2 | ÷ nghttpd | succeeded |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const ratio = (b) => (b && Number.isFinite(r.rps) ? (r.rps / b).toFixed(2) : '–');
  console.log(`| ${r.name} | ${Number.isFinite(r.rps) ? Math.round(r.rps) : 'failed'} | ${ratio(node)} | ${ratio(nghttpd)} | ${r.succeeded}/${requests} |`);
}
