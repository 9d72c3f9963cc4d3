// Client throughput: one connection, 100 concurrent streams, N GETs of a tiny file served
// by nghttpd. h2wasm's connect() (dist/bindings) against the node:http2 client and h2load
// (-c 1 -m 100), and h2wasm's connect() under Deno, Bun (bench/node-client.mjs, each with its
// own package entry) and a Worker under workerd (test/runtimes/worker.ts's /bench, the
// same loop), all in the same run against the same nghttpd; nghttpd on core 0, the client
// on core 1 (taskset) where it can.
//
//   node bench/client.mjs [--quick]
//   node bench/client.mjs --worker ours|node URL N M SECONDS   (one client run; prints JSON)
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  quick,
  dist,
  has,
  pinNote,
  freePort,
  startServer,
  runTool,
  h2loadRps,
  h2loadOk,
  summary,
  ratio,
  fx,
  times,
  printCommands,
  record,
  root,
  pin,
} from './lib.mjs';
import { runtimeBinary, startWorkerd } from '../test/runtimes/run-workerd.mjs';

const STREAMS = 100;
const RUNTIMES = ['Deno', 'Bun', 'workerd (a Worker)'];

/** The same load from h2wasm's connect() under Deno, Bun and a Worker under workerd. */
async function runtimeRows(url) {
  const client = join(root, 'bench', 'node-client.mjs');
  const args = ['-n', String(requests), '-m', String(STREAMS), url];
  const rows = [];
  const absent = 'not installed (scripts/install-peers.sh)';
  for (const { name, bin, argv } of [
    { name: 'Deno', bin: runtimeBinary('deno'), argv: ['run', '-A', client, ...args] },
    { name: 'Bun', bin: runtimeBinary('bun'), argv: [client, ...args] },
  ]) {
    if (!bin) {
      rows.push({ name, rps: NaN, ok: 0, note: absent });
      continue;
    }
    const r = runTool(1, bin, argv, (limitS + 30) * 1000);
    // node-client.mjs's last stderr line: requests=N ok=K seconds=S req/s=R
    const m = /requests=\d+ ok=(\d+) seconds=[\d.]+ req\/s=(\d+)/.exec(r.stderr);
    rows.push({
      name,
      rps: m ? Number(m[2]) : NaN,
      ok: m ? Number(m[1]) : 0,
      note: r.timedOut ? 'killed at the time limit' : '',
    });
  }
  if (!runtimeBinary('workerd')) return [...rows, { name: RUNTIMES[2], rps: NaN, ok: 0, note: absent }];
  const dir = mkdtempSync(join(tmpdir(), 'h2wasm-bench-workerd-'));
  const worker = await startWorkerd(dir, pin ? ['taskset', '-c', '1'] : []);
  try {
    const q = new URLSearchParams({ url, n: String(requests), m: String(STREAMS), seconds: String(limitS) });
    record('curl', [`${worker.base}/bench?${q}`]);
    const res = await fetch(`${worker.base}/bench?${q}`, { signal: AbortSignal.timeout((limitS + 30) * 1000) });
    const j = await res.json();
    rows.push({
      name: RUNTIMES[2],
      rps: j.rps ?? NaN,
      ok: j.ok ?? 0,
      note: j.error ? String(j.error).split('\n')[0] : '',
    });
  } finally {
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function worker(kind, url, n, m, seconds) {
  const deadline = performance.now() + seconds * 1000;
  let started = 0;
  let ok = 0;
  let bytes = 0;
  let failed = 0;
  let close;
  let one;
  if (kind === 'ours') {
    const { connect } = await import(join(dist, 'index.js'));
    const session = connect(url);
    await session.ready;
    close = () => session.close();
    one = async () => {
      const res = await session.request({ path: '/' });
      for await (const chunk of res.body) bytes += chunk.length;
      return res.status;
    };
  } else {
    const http2 = await import('node:http2');
    const session = http2.connect(url);
    await new Promise((resolve, reject) => {
      session.once('connect', resolve);
      session.once('error', reject);
    });
    close = () => new Promise((r) => session.close(() => r(undefined)));
    one = () =>
      new Promise((resolve, reject) => {
        const req = session.request({ ':path': '/' });
        let status = 0;
        req.on('response', (h) => {
          status = h[':status'];
        });
        req.on('data', (d) => {
          bytes += d.length;
        });
        req.on('end', () => resolve(status));
        req.on('error', reject);
        req.end();
      });
  }
  const t0 = performance.now();
  const loop = async () => {
    while (started < n && performance.now() < deadline) {
      started++;
      try {
        if ((await one()) === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: m }, loop));
  const secs = (performance.now() - t0) / 1000;
  await Promise.race([close(), new Promise((r) => setTimeout(r, 2000))]);
  process.stdout.write(JSON.stringify({ ok, failed, bytes, secs, rps: ok / secs }) + '\n');
  process.exit(0);
}

if (process.argv[2] === '--worker') {
  const [, , , kind, url, n, m, seconds] = process.argv;
  await worker(kind, url, Number(n), Number(m), Number(seconds));
}

const requests = quick ? 5000 : 200000;
const limitS = quick ? 30 : 120;
if (!has('nghttpd')) {
  console.log('### Client req/s\n\nnghttpd is not installed (Debian nghttp2-server); skipped');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'h2wasm-bench-client-'));
writeFileSync(join(dir, 'index.html'), 'hello from nghttpd\n');
const port = await freePort();
const url = `http://127.0.0.1:${port}/`;
const server = await startServer(0, 'nghttpd', ['--no-tls', '-a', '127.0.0.1', '-d', dir, String(port)], port);
const rows = [];
try {
  for (const [name, kind] of [
    ['h2wasm connect()', 'ours'],
    ['node:http2 client', 'node'],
  ]) {
    const r = runTool(
      1,
      process.execPath,
      [fileURLToPath(import.meta.url), '--worker', kind, url, String(requests), String(STREAMS), String(limitS)],
      (limitS + 30) * 1000,
    );
    let j = {};
    try {
      j = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch {
      /* failed run */
    }
    rows.push({
      name,
      rps: j.rps ?? NaN,
      ok: j.ok ?? 0,
      note: r.timedOut ? 'killed at the time limit' : r.status !== 0 ? r.stderr.trim().split('\n').pop() : '',
    });
  }
  rows.push(...(await runtimeRows(url)));
  if (has('h2load')) {
    const r = runTool(1, 'h2load', ['-n', String(requests), '-c', '1', '-m', String(STREAMS), url], limitS * 1000);
    rows.push({
      name: 'h2load',
      rps: h2loadRps(r.stdout),
      ok: h2loadOk(r.stdout),
      note: r.timedOut ? 'killed at the time limit' : '',
    });
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rate = (name) => rows.find((r) => r.name === name)?.rps;
const node = rate('node:http2 client');
const h2load = rate('h2load');
const ours = rate('h2wasm connect()');
console.log(
  `### Client req/s: one connection, ${STREAMS} concurrent streams, ${requests} GETs of a 19-byte file from nghttpd${quick ? ' (--quick)' : ''}`,
);
console.log(`${pinNote('nghttpd on core 0, the client on core 1')}; each client stops after ${limitS} s at most.\n`);
console.log('| client | req/s | ÷ node:http2 client | ÷ h2load | ÷ h2wasm on Node | succeeded |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${Number.isFinite(r.rps) ? Math.round(r.rps) : 'failed'} | ${fx(ratio(r.rps, node))} | ${fx(ratio(r.rps, h2load))} | ${fx(ratio(r.rps, ours))} | ${r.ok}/${requests}${r.note ? ` (${r.note})` : ''} |`,
  );
}
printCommands();

const rn = ratio(ours, node);
const rh = ratio(ours, h2load);
summary({
  bench: `client req/s, 1 connection × ${STREAMS} streams, ${requests} GETs to nghttpd`,
  ours: Number.isFinite(ours) ? `${Math.round(ours)} req/s` : 'failed',
  peers: `node:http2 client ${Number.isFinite(node) ? Math.round(node) : '–'}; h2load ${Number.isFinite(h2load) ? Math.round(h2load) : '–'}`,
  ratio: `${times(rn)} node:http2, ${times(rh)} h2load`,
  goal: '≥ 5× node:http2 client, ≥ 0.6× h2load',
  met: Number.isFinite(rn) && Number.isFinite(rh) ? (rn >= 5 && rh >= 0.6 ? 'yes' : 'no') : '–',
});
const others = rows.filter((r) => RUNTIMES.includes(r.name));
summary({
  bench: `client req/s per runtime (h2wasm connect()), same load`,
  ours: `Node ${Number.isFinite(ours) ? Math.round(ours) : '–'}`,
  peers: others.map((r) => `${r.name} ${Number.isFinite(r.rps) ? Math.round(r.rps) : '–'}`).join('; '),
  ratio: others.map((r) => `${r.name} ${times(ratio(r.rps, ours))}`).join(', ') + ' (÷ Node)',
  goal: 'measured; every runtime completes',
  met: others.every((r) => r.ok === requests) ? 'yes' : 'no',
});
