// Instantiate + handshake latency: from holding the .wasm bytes to a completed client
// handshake (the server's SETTINGS received) against `h2wasm serve` on loopback.
//   cold: a fresh process per run and a fresh WebAssembly.compile of the bytes (a process
//         of its own, because V8 shares a compiled module between identical byte strings
//         within one process while the first is alive); then
//   warm: in the same process, the module already compiled: new instance + handshake.
// The clock starts after the bytes are read and the JavaScript bindings are imported, and
// stops when session.ready resolves; it includes the TCP connect. The peer is node:http2's
// client against the same server (first connection in a fresh process, then warm). Server on core 0,
// clients on core 1 (taskset) where it can.
//
//   node bench/latency.mjs [--quick]
//   node bench/latency.mjs --worker PORT WARM_RUNS      (one cold run + warm runs; prints JSON)
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

async function worker(port, warmRuns) {
  const { Runtime } = await import(join(dist, 'runtime.js'));
  const { ClientSession } = await import(join(dist, 'client.js'));
  const { attachSocket } = await import(join(dist, 'node.js'));
  const bytes = readFileSync(wasmPath);
  const handshake = async (rt) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const { transport, io } = attachSocket(rt, socket);
    const session = new ClientSession(rt, transport, io, { scheme: 'http', authority: `127.0.0.1:${port}` });
    await session.ready;
    return () => {
      session.destroy();
      socket.destroy();
    };
  };
  const t0 = performance.now();
  const module = await WebAssembly.compile(bytes);
  const t1 = performance.now();
  const rt = new Runtime(module);
  const t2 = performance.now();
  const done = await handshake(rt);
  const t3 = performance.now();
  done();
  const warm = [];
  for (let i = 0; i < warmRuns; i++) {
    const w0 = performance.now();
    const end = await handshake(new Runtime(module));
    warm.push(performance.now() - w0);
    end();
  }
  // The peer: node:http2's client (nghttp2 inside Node, nothing to compile), its first
  // connection in this process, then warm ones; until the server's SETTINGS arrived.
  const http2 = await import('node:http2');
  const nodeOnce = async () => {
    const n0 = performance.now();
    const s = http2.connect(`http://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => {
      s.once('remoteSettings', resolve);
      s.once('error', reject);
    });
    const t = performance.now() - n0;
    s.destroy();
    return t;
  };
  const nodeCold = await nodeOnce();
  const nodeWarm = [];
  for (let i = 0; i < warmRuns; i++) nodeWarm.push(await nodeOnce());
  process.stdout.write(
    JSON.stringify({
      cold: t3 - t0,
      compile: t1 - t0,
      instantiate: t2 - t1,
      handshake: t3 - t2,
      warm,
      nodeCold,
      nodeWarm,
    }) + '\n',
  );
  process.exit(0);
}

if (process.argv[2] === '--worker') await worker(Number(process.argv[3]), Number(process.argv[4]));

const COLD = quick ? 5 : 50;
const WARM = quick ? 4 : 20; // per cold process
const port = await freePort();
const server = await startServer(0, process.execPath, [cliPath, 'serve', '--port', String(port)], port);
const runs = [];
let failures = 0;
const limit = Date.now() + (quick ? 30000 : 180000);
try {
  for (let i = 0; i < COLD && Date.now() < limit; i++) {
    const r = runTool(
      1,
      process.execPath,
      [fileURLToPath(import.meta.url), '--worker', String(port), String(WARM)],
      20000,
    );
    try {
      runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    } catch {
      failures++;
    }
  }
} finally {
  await server.stop();
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const col = (k) => runs.map((r) => r[k]);
const warm = runs.flatMap((r) => r.warm);
const nodeWarm = runs.flatMap((r) => r.nodeWarm);
const ms = (x) => `${fx(x, 2)} ms`;
console.log(`### Instantiate + handshake latency${quick ? ' (--quick)' : ''}\n`);
console.log(`From the .wasm bytes in hand to a completed client handshake with \`h2wasm serve\` on loopback;`);
console.log(
  `${pinNote('server on core 0, client processes on core 1')}. Cold: ${runs.length} fresh processes${failures ? ` (${failures} failed)` : ''}, each compiling the bytes anew; warm: ${WARM} more in each, module compiled.\n`,
);
console.log('| what | median | p90 | runs |');
console.log('|---|---:|---:|---:|');
console.log(
  `| cold: compile + instantiate + handshake | ${ms(pct(col('cold'), 0.5))} | ${ms(pct(col('cold'), 0.9))} | ${runs.length} |`,
);
console.log(
  `| … of which WebAssembly.compile | ${ms(pct(col('compile'), 0.5))} | ${ms(pct(col('compile'), 0.9))} | ${runs.length} |`,
);
console.log(
  `| … of which instantiate (Runtime: instance + executor) | ${ms(pct(col('instantiate'), 0.5))} | ${ms(pct(col('instantiate'), 0.9))} | ${runs.length} |`,
);
console.log(
  `| … of which TCP connect + handshake (first, code not yet warm) | ${ms(pct(col('handshake'), 0.5))} | ${ms(pct(col('handshake'), 0.9))} | ${runs.length} |`,
);
console.log(
  `| warm: instantiate + handshake (module compiled) | ${ms(pct(warm, 0.5))} | ${ms(pct(warm, 0.9))} | ${warm.length} |`,
);
console.log(
  `| peer: node:http2 client, first connection in the process | ${ms(pct(col('nodeCold'), 0.5))} | ${ms(pct(col('nodeCold'), 0.9))} | ${runs.length} |`,
);
console.log(
  `| peer: node:http2 client, warm | ${ms(pct(nodeWarm, 0.5))} | ${ms(pct(nodeWarm, 0.9))} | ${nodeWarm.length} |`,
);
printCommands();

const cold = pct(col('cold'), 0.5);
summary({
  bench: 'instantiate + handshake latency, cold (fresh compile, loopback h2wasm serve)',
  ours: `median ${ms(cold)}, p90 ${ms(pct(col('cold'), 0.9))}; warm median ${ms(pct(warm, 0.5))}`,
  peers: `node:http2 client first connection ${ms(pct(col('nodeCold'), 0.5))}, warm ${ms(pct(nodeWarm, 0.5))}`,
  ratio: `${fx(cold / pct(col('nodeCold'), 0.5))}× node:http2 first connection; ${fx(cold / 2)}× the goal`,
  goal: '≤ 2 ms',
  met: Number.isFinite(cold) ? (cold <= 2 ? 'yes' : 'no') : '–',
});
