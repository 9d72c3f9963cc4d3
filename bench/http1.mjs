// HTTP/1.1 on `h2wasm serve` beside a minimal node:http server, in one run: h2load --h1
// with 10 keep-alive connections and one request at a time on each. Our HTTP/1.1 is
// node's own http server behind the first-bytes check and the handler adapter, so the
// ratio is what those cost. Rounds alternate between the two servers (each its own
// process, pinned to core 0; h2load on core 1) and the median of each is compared.
//
//   node bench/http1.mjs [--quick]
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  quick,
  has,
  cliPath,
  freePort,
  startServer,
  runTool,
  h2loadRps,
  h2loadOk,
  summary,
  ratio,
  times,
  pinNote,
  printCommands,
} from './lib.mjs';

const requests = quick ? 5000 : 100000;
const rounds = quick ? 1 : 5;

if (!has('h2load')) {
  console.log('bench/http1: h2load is not installed (Debian nghttp2-client); skipped');
  process.exit(0);
}

const scripts = mkdtempSync(join(tmpdir(), 'h2wasm-bench-http1-'));
const nodeServer = join(scripts, 'node-http.mjs');
// The same answer as h2wasm serve's default app: 200, text/plain, 18 bytes.
writeFileSync(
  nodeServer,
  `import http from 'node:http';
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello from h2wasm\\n'); })
  .listen(Number(process.argv[2]), '127.0.0.1');`,
);

const servers = [
  ['h2wasm serve (HTTP/1.1)', (port) => [process.execPath, [cliPath, 'serve', '--port', String(port)]]],
  ['node:http (minimal)', (port) => [process.execPath, [nodeServer, String(port)]]],
];
const results = new Map(servers.map(([name]) => [name, []]));
const failures = new Map(servers.map(([name]) => [name, 0]));
for (let round = 0; round < rounds; round++) {
  for (const [name, command] of servers) {
    const port = await freePort();
    const [cmd, args] = command(port);
    const server = await startServer(0, cmd, args, port);
    try {
      const r = runTool(
        1,
        'h2load',
        ['--h1', '-n', String(requests), '-c', '10', '-m', '1', `http://127.0.0.1:${port}/`],
        300000,
      );
      results.get(name).push(h2loadRps(r.stdout));
      failures.set(name, failures.get(name) + (requests - h2loadOk(r.stdout)));
    } finally {
      await server.stop();
    }
  }
}
rmSync(scripts, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = median(results.get('h2wasm serve (HTTP/1.1)'));
const node = median(results.get('node:http (minimal)'));
console.log(
  `\n### HTTP/1.1 server req/s: h2load --h1 -n ${requests} -c 10 -m 1, tiny body${quick ? ' (--quick)' : ''}`,
);
console.log(
  `${rounds} alternating round${rounds === 1 ? '' : 's'}, median; ${pinNote('server on core 0, h2load on core 1')}\n`,
);
console.log('| server | req/s (median) | rounds | ÷ node:http | failed |');
console.log('|---|---:|---|---:|---:|');
for (const [name] of servers) {
  const xs = results.get(name);
  console.log(
    `| ${name} | ${Math.round(median(xs))} | ${xs.map((x) => Math.round(x)).join(', ')} | ${times(ratio(median(xs), node))} | ${failures.get(name)} |`,
  );
}
printCommands();
summary({
  bench: 'HTTP/1.1 server req/s, h2load --h1 -c 10 -m 1, h2wasm serve beside a minimal node:http',
  ours: `${Math.round(ours)} req/s`,
  peers: `node:http ${Math.round(node)}`,
  ratio: `${times(ratio(ours, node))} node:http`,
  goal: '≥ 0.95× node:http',
  met: Number.isFinite(ratio(ours, node)) ? (ratio(ours, node) >= 0.95 ? 'yes' : 'no') : '–',
});
