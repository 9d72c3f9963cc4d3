// Client req/s per JavaScript runtime: h2wasm's connect(), one connection, 100 streams in
// flight, N GETs of a tiny file from nghttpd, under Node, Deno, Bun (each running
// bench/node-client.mjs with its own package entry) and a Worker under workerd
// (test/runtimes/worker.ts's /bench, the same loop), beside h2load in the same run.
// nghttpd on core 0; each client on core 1.
//
//   node bench/runtimes.mjs [--quick]
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  quick,
  root,
  has,
  pin,
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
} from './lib.mjs';
import { runtimeBinary, startWorkerd } from '../test/runtimes/run-workerd.mjs';

const STREAMS = 100;
const requests = quick ? 5000 : 200000;
const limitS = quick ? 30 : 120;
if (!has('nghttpd')) {
  console.log('### Client req/s per runtime\n\nnghttpd is not installed (Debian nghttp2-server); skipped');
  process.exit(0);
}

/** `requests=N ok=K seconds=S req/s=R` from node-client.mjs's last stderr line. */
function clientLine(stderr) {
  const m = /requests=(\d+) ok=(\d+) seconds=([\d.]+) req\/s=(\d+)/.exec(stderr);
  return m ? { ok: Number(m[2]), rps: Number(m[4]) } : { ok: 0, rps: NaN };
}

const dir = mkdtempSync(join(tmpdir(), 'h2wasm-bench-runtimes-'));
writeFileSync(join(dir, 'index.html'), 'hello from nghttpd\n');
const port = await freePort();
const url = `http://127.0.0.1:${port}/`;
const server = await startServer(0, 'nghttpd', ['--no-tls', '-a', '127.0.0.1', '-d', dir, String(port)], port);
const client = join(root, 'bench', 'node-client.mjs');
const args = ['-n', String(requests), '-m', String(STREAMS), url];
const rows = [];
try {
  const runners = [
    { name: 'Node', bin: process.execPath, argv: [client, ...args] },
    { name: 'Deno', bin: runtimeBinary('deno'), argv: ['run', '-A', client, ...args] },
    { name: 'Bun', bin: runtimeBinary('bun'), argv: [client, ...args] },
  ];
  for (const { name, bin, argv } of runners) {
    if (!bin) {
      rows.push({ name, rps: NaN, ok: 0, note: 'not installed (scripts/install-peers.sh)' });
      continue;
    }
    const r = runTool(1, bin, argv, (limitS + 30) * 1000);
    const j = clientLine(r.stderr);
    rows.push({ name, rps: j.rps, ok: j.ok, note: r.timedOut ? 'killed at the time limit' : '' });
  }
  if (runtimeBinary('workerd')) {
    const wd = mkdtempSync(join(tmpdir(), 'h2wasm-bench-workerd-'));
    const worker = await startWorkerd(wd, pin ? ['taskset', '-c', '1'] : []);
    try {
      const q = new URLSearchParams({ url, n: String(requests), m: String(STREAMS), seconds: String(limitS) });
      record('curl', [`${worker.base}/bench?${q}`]);
      const res = await fetch(`${worker.base}/bench?${q}`, { signal: AbortSignal.timeout((limitS + 30) * 1000) });
      const j = await res.json();
      rows.push({
        name: 'workerd (a Worker)',
        rps: j.rps ?? NaN,
        ok: j.ok ?? 0,
        note: j.error ? String(j.error).split('\n')[0] : '',
      });
    } finally {
      await worker.stop();
      rmSync(wd, { recursive: true, force: true });
    }
  } else rows.push({ name: 'workerd (a Worker)', rps: NaN, ok: 0, note: 'not installed (scripts/install-peers.sh)' });
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
const node = rate('Node');
const h2load = rate('h2load');
console.log(
  `### Client req/s per runtime: h2wasm connect(), one connection, ${STREAMS} concurrent streams, ${requests} GETs from nghttpd${quick ? ' (--quick)' : ''}`,
);
console.log(`${pinNote('nghttpd on core 0, each client on core 1')}; each client stops after ${limitS} s at most.\n`);
console.log('| runtime | req/s | ÷ Node | ÷ h2load | succeeded |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${Number.isFinite(r.rps) ? Math.round(r.rps) : 'failed'} | ${fx(ratio(r.rps, node))} | ${fx(ratio(r.rps, h2load))} | ${r.ok}/${requests}${r.note ? ` (${r.note})` : ''} |`,
  );
}
printCommands();

const others = rows.filter((r) => !['Node', 'h2load'].includes(r.name));
summary({
  bench: `client req/s per runtime, 1 connection × ${STREAMS} streams, ${requests} GETs to nghttpd`,
  ours: `Node ${Number.isFinite(node) ? Math.round(node) : '–'}`,
  peers: others.map((r) => `${r.name} ${Number.isFinite(r.rps) ? Math.round(r.rps) : '–'}`).join('; '),
  ratio:
    others.map((r) => `${r.name} ${times(ratio(r.rps, node))}`).join(', ') +
    ` (÷ Node); Node ${times(ratio(node, h2load))} h2load`,
  goal: 'measured (every runtime completes)',
  met: others.every((r) => r.ok === requests) ? 'yes' : 'no',
});
