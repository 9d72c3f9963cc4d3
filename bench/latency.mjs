// Instantiate + handshake latency: a fresh module instance, a TCP connection and a client
// handshake (the server's SETTINGS received) against `h2wasm serve` on loopback. As issue
// #20 defines it, the module is compiled once and reused (setCompiledModule, as the
// bindings do); the clock starts at `new Runtime(compiledModule())` and stops when
// session.ready resolves, the TCP connect included.
//   cold: the first such sample in a fresh process: the JavaScript bindings and Node's
//         socket code run for the first time (not yet compiled by V8), as a short-lived
//         process (a CLI call, a serverless instance) pays it. The goal applies to this
//         one. The wasm functions V8 compiles lazily, at their first call, were compiled
//         by setCompiledModule's warm-up (warm.ts), which the compile row includes.
//   warm: further samples in the same process, each a new instance and connection: what
//         a long-lived process pays per new connection.
// Each process also reports its WebAssembly.compile of the bytes (once per process, outside
// the samples), the phases of its cold sample, and the time of the first request (GET /,
// to its last byte) after each sample (not in the sample: the first response decodes the
// first Huffman-coded header, and the JS of a request runs for the first time). The peer is node:http2's client (nghttp2
// inside Node, nothing to compile), first connection in a fresh process of its own (so it
// pays Node's own first-run costs too, as ours does), then warm. The floor: a bare
// net.Socket's first connection in a fresh process (connect, the client preface written,
// the server's first byte back), no HTTP/2 and no wasm. Server on core 0, clients on
// core 1 (taskset) where it can.
//
//   node bench/latency.mjs [--quick]
//   node bench/latency.mjs --worker h2wasm|node|socket PORT WARM_RUNS   (one process's samples; prints JSON)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import {
  quick,
  dist,
  wasmPath,
  cliPath,
  pinNote,
  freePort,
  startServer,
  runTool,
  summary,
  fx,
  printCommands,
} from './lib.mjs';

async function worker(kind, port, warmRuns) {
  if (kind === 'socket') {
    // The floor: Node's socket code run for the first time, nothing above it.
    const once = () =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('error', reject);
        s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00');
        s.once('data', () => {
          const t = performance.now() - t0;
          s.destroy();
          resolve(t);
        });
      });
    const cold = await once();
    const warm = [];
    for (let i = 0; i < warmRuns; i++) warm.push(await once());
    process.stdout.write(JSON.stringify({ cold, warm }) + '\n');
    process.exit(0);
  }
  if (kind === 'node') {
    // node:http2's client: its first connection in this process, then warm ones; until
    // the server's SETTINGS arrived.
    const http2 = await import('node:http2');
    const once = async () => {
      const n0 = performance.now();
      const s = http2.connect(`http://127.0.0.1:${port}`);
      await new Promise((resolve, reject) => {
        s.once('remoteSettings', resolve);
        s.once('error', reject);
      });
      const t = performance.now() - n0;
      const r0 = performance.now();
      await new Promise((resolve, reject) => {
        const req = s.request({ ':path': '/' });
        req.on('error', reject);
        req.resume();
        req.on('end', resolve);
      });
      const request = performance.now() - r0;
      s.destroy();
      return [t, request];
    };
    const [cold, request] = await once();
    const warm = [];
    const warmRequest = [];
    for (let i = 0; i < warmRuns; i++) {
      const [a, b] = await once();
      warm.push(a);
      warmRequest.push(b);
    }
    process.stdout.write(JSON.stringify({ cold, request, warm, warmRequest }) + '\n');
    process.exit(0);
  }
  const { Runtime } = await import(join(dist, 'runtime.js'));
  const { ClientSession } = await import(join(dist, 'client.js'));
  const { attachSocket } = await import(join(dist, 'node.js'));
  const { setCompiledModule, compiledModule } = await import(join(dist, 'loader.js'));
  const bytes = readFileSync(wasmPath);
  const c0 = performance.now();
  setCompiledModule(await WebAssembly.compile(bytes));
  const compile = performance.now() - c0;
  /** One sample: [instantiate ms, connect + handshake ms]. */
  const sample = async () => {
    const t0 = performance.now();
    const rt = new Runtime(compiledModule());
    const t1 = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const { transport, io } = attachSocket(rt, socket);
    const session = new ClientSession(rt, transport, io, { scheme: 'http', authority: `127.0.0.1:${port}` });
    await session.ready;
    const t2 = performance.now();
    // Not in the sample: the first request after it, to its last response byte.
    await (await session.request({ path: '/' })).arrayBuffer();
    const t3 = performance.now();
    session.destroy();
    socket.destroy();
    return [t1 - t0, t2 - t1, t3 - t2];
  };
  const [instantiate, handshake, request] = await sample();
  const warm = [];
  const warmRequest = [];
  for (let i = 0; i < warmRuns; i++) {
    const [a, b, c] = await sample();
    warm.push(a + b);
    warmRequest.push(c);
  }
  process.stdout.write(
    JSON.stringify({ compile, cold: instantiate + handshake, instantiate, handshake, request, warm, warmRequest }) +
      '\n',
  );
  process.exit(0);
}

if (process.argv[2] === '--worker') await worker(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));

const COLD = quick ? 5 : 50;
const WARM = quick ? 4 : 20; // per cold process
const port = await freePort();
const server = await startServer(0, process.execPath, [cliPath, 'serve', '--port', String(port)], port);
const runs = { h2wasm: [], node: [], socket: [] };
let failures = 0;
const limit = Date.now() + (quick ? 30000 : 240000);
try {
  // Alternating, so a change in the machine's load falls on both alike.
  for (let i = 0; i < COLD && Date.now() < limit; i++) {
    for (const kind of ['h2wasm', 'node', 'socket']) {
      const r = runTool(
        1,
        process.execPath,
        [fileURLToPath(import.meta.url), '--worker', kind, String(port), String(WARM)],
        20000,
      );
      try {
        runs[kind].push(JSON.parse(r.stdout.trim().split('\n').pop()));
      } catch {
        failures++;
      }
    }
  }
} finally {
  await server.stop();
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const ours = runs.h2wasm;
const col = (k, rs = ours) => rs.map((r) => r[k]);
const warm = ours.flatMap((r) => r.warm);
const nodeWarm = runs.node.flatMap((r) => r.warm);
const ms = (x) => `${fx(x, 2)} ms`;
const row = (what, xs) => console.log(`| ${what} | ${ms(pct(xs, 0.5))} | ${ms(pct(xs, 0.9))} | ${xs.length} |`);
console.log(`### Instantiate + handshake latency${quick ? ' (--quick)' : ''}\n`);
console.log(
  `A new module instance, TCP connection and client handshake with \`h2wasm serve\` on loopback, the module compiled once per process and reused (issue #20's definition);`,
);
console.log(
  `${pinNote('server on core 0, client processes on core 1')}. Cold: the first sample in each of ${ours.length} fresh processes${failures ? ` (${failures} failed)` : ''} (JavaScript and wasm code not yet compiled by V8); warm: ${WARM} more in each.\n`,
);
console.log('| what | median | p90 | samples |');
console.log('|---|---:|---:|---:|');
row('**cold: instantiate + connect + handshake, fresh process, module compiled**', col('cold'));
row('… of which instantiate (Runtime: instance + executor)', col('instantiate'));
row('… of which TCP connect + handshake', col('handshake'));
row('warm: instantiate + connect + handshake, same process', warm);
row(
  'WebAssembly.compile of the bytes and setCompiledModule (its warm-up) (once per process, not in the samples)',
  col('compile'),
);
row(
  'compile + cold sample (a process that compiles for one connection)',
  ours.map((r) => r.compile + r.cold),
);
row('peer: node:http2 client, first connection in a fresh process', col('cold', runs.node));
row('peer: node:http2 client, warm', nodeWarm);
row(
  'floor: a bare net.Socket, first connection in a fresh process (preface written, first byte back)',
  col('cold', runs.socket),
);
row('after the cold sample: its first request (GET /, to the last byte)', col('request'));
row('… node:http2, first request of its first connection', col('request', runs.node));
row(
  'after a warm sample: its first request',
  ours.flatMap((r) => r.warmRequest),
);
row(
  '… node:http2, after a warm connection',
  runs.node.flatMap((r) => r.warmRequest),
);
printCommands();

const cold = pct(col('cold'), 0.5);
const nodeCold = pct(col('cold', runs.node), 0.5);
summary({
  bench: 'instantiate + connect + handshake, cold (fresh process, module compiled once; loopback h2wasm serve)',
  ours: `median ${ms(cold)}, p90 ${ms(pct(col('cold'), 0.9))}; warm median ${ms(pct(warm, 0.5))}; compile ${ms(pct(col('compile'), 0.5))} once`,
  peers: `node:http2 client first connection ${ms(nodeCold)}, warm ${ms(pct(nodeWarm, 0.5))}; a bare net.Socket's first connection ${ms(pct(col('cold', runs.socket), 0.5))}`,
  ratio: `${fx(cold / nodeCold)}× node:http2 first connection; ${fx(cold / 2)}× the goal`,
  goal: '≤ 2 ms',
  met: Number.isFinite(cold) ? (cold <= 2 ? 'yes' : 'no') : '–',
});
