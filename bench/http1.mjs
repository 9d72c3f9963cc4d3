// HTTP/1.1 on `h2wasm serve` beside a minimal node:http server, in one run: h2load --h1
// with 10 keep-alive connections and one request at a time on each. Our HTTP/1.1 is
// node's own http server behind the first-bytes check and the handler adapter, so the
// ratio is what those cost.
//
// The two servers run at the same time, both on core 0, each loaded by its own h2load on
// core 1 for the same seconds: the scheduler shares the core between them, so whatever
// slows this machine (a neighbour, the host) slows both alike, and the requests each
// completes, and the CPU each used per request (user + system, from /proc), compare what a
// request costs in each. Run one after the other, the same figures moved ±8% between runs.
//
//   node bench/http1.mjs [--quick]
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  quick,
  has,
  cliPath,
  freePort,
  startServer,
  onCore,
  record,
  summary,
  ratio,
  times,
  fx,
  pinNote,
  printCommands,
} from './lib.mjs';

const seconds = quick ? 1 : 6;
const rounds = quick ? 1 : 3;

if (!has('h2load')) {
  console.log('bench/http1: h2load is not installed (Debian nghttp2-client); skipped');
  process.exit(0);
}

const scripts = mkdtempSync(join(tmpdir(), 'h2wasm-bench-http1-'));
const nodeServer = join(scripts, 'node-http.mjs');
// The same answer as h2wasm serve's default app: 200, text/plain, content-length 18.
writeFileSync(
  nodeServer,
  `import http from 'node:http';
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '18' }); res.end('hello from h2wasm\\n'); })
  .listen(Number(process.argv[2]), '127.0.0.1');`,
);

const OURS = 'h2wasm serve (HTTP/1.1)';
const NODE = 'node:http (minimal)';
/** @type {{ name: string, command: (port: number) => [string, string[]] }[]} */
const servers = [
  { name: OURS, command: (port) => [process.execPath, [cliPath, 'serve', '--port', String(port)]] },
  { name: NODE, command: (port) => [process.execPath, [nodeServer, String(port)]] },
];

/** CPU seconds (user + system) a process has used. */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
};

/** h2load on core 1 for `seconds` (after a 1 s warm-up); resolves its stdout. */
function h2load(port) {
  const [cmd, args] = onCore(1, 'h2load', [
    '--h1',
    '-D',
    String(seconds),
    '--warm-up-time',
    '1',
    '-c',
    '10',
    '-m',
    '1',
    `http://127.0.0.1:${port}/`,
  ]);
  record(cmd, args);
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), (seconds + 30) * 1000);
    p.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const done = (out) => Number(/(\d+) succeeded, (\d+) failed/.exec(out)?.[1] ?? NaN);
const failedOf = (out) => Number(/(\d+) succeeded, (\d+) failed/.exec(out)?.[2] ?? NaN);
const rows = new Map(servers.map(({ name }) => [name, { requests: [], cost: [], failed: 0 }]));
for (let round = 0; round < rounds; round++) {
  const running = [];
  try {
    for (const { name, command } of servers) {
      const port = await freePort();
      const [cmd, args] = command(port);
      running.push({ name, port, server: await startServer(0, cmd, args, port) });
    }
    const cpu0 = running.map((r) => cpuSeconds(r.server.proc.pid));
    const outs = await Promise.all(running.map((r) => h2load(r.port)));
    running.forEach((r, i) => {
      const row = rows.get(r.name);
      const n = done(outs[i]);
      row.requests.push(n);
      // CPU over the whole run (warm-up included) per request of the measured seconds: the
      // same proportion for both servers, so the ratio holds.
      row.cost.push(((cpuSeconds(r.server.proc.pid) - cpu0[i]) / n) * 1e6);
      row.failed += failedOf(outs[i]);
    });
  } finally {
    await Promise.all(running.map((r) => r.server.stop()));
  }
}
rmSync(scripts, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const req = (name) => median(rows.get(name).requests) / seconds;
const cost = (name) => median(rows.get(name).cost);
const reqRatio = ratio(req(OURS), req(NODE));
const costRatio = ratio(cost(NODE), cost(OURS)); // ≥ 1: a request costs us no more than node
console.log(
  `\n### HTTP/1.1 server: h2load --h1 -c 10 -m 1, tiny body, both servers at once${quick ? ' (--quick)' : ''}`,
);
console.log(
  `${rounds} round${rounds === 1 ? '' : 's'} of ${seconds} s (after 1 s of warm-up), medians; ${pinNote('both servers on core 0, sharing it; each h2load on core 1')}\n`,
);
console.log('| server | req/s while sharing the core | ÷ node:http | CPU µs/request | node:http ÷ this | failed |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const { name } of servers) {
  console.log(
    `| ${name} | ${Math.round(req(name))} | ${times(ratio(req(name), req(NODE)))} | ${fx(cost(name))} | ${times(ratio(cost(NODE), cost(name)))} | ${rows.get(name).failed} |`,
  );
}
printCommands();
summary({
  bench: 'HTTP/1.1 server, h2load --h1 -c 10 -m 1, h2wasm serve and a minimal node:http sharing one core',
  ours: `${Math.round(req(OURS))} req/s, ${fx(cost(OURS))} CPU µs/request`,
  peers: `node:http ${Math.round(req(NODE))} req/s, ${fx(cost(NODE))} µs/request`,
  ratio: `${times(reqRatio)} node:http's requests; cost ${times(costRatio)} (node's ÷ ours)`,
  goal: 'costs no more than node:http (≥ 0.95×)',
  met: Number.isFinite(costRatio) ? (costRatio >= 0.95 && reqRatio >= 0.95 ? 'yes' : 'no') : '–',
});
