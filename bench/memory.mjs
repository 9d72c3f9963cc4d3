// Wasm memory per open stream and per idle connection, from h2_heap_used deltas. A client
// runtime and a server runtime (two instances of build/h2wasm.wasm, the library's own
// Runtime, ClientSession and ServerConnection from dist/bindings) are wired back to back
// in memory, so each instance's h2_heap_used counts one side only and no socket or
// timer is involved. Deterministic: figures do not depend on machine load.
//
//   node bench/memory.mjs [--quick]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quick, dist, wasmPath, summary, fx } from './lib.mjs';

const { Runtime } = await import(join(dist, 'runtime.js'));
const { ClientSession } = await import(join(dist, 'client.js'));
const { ServerConnection } = await import(join(dist, 'server-conn.js'));

const STREAMS = quick ? 1000 : 10000;
const CONNS = 100;
const KiB = 1024;
const module = new WebAssembly.Module(readFileSync(wasmPath));
const crt = new Runtime(module);
const srt = new Runtime(module);
const heap = () => ({ c: crt.ex.h2_heap_used() >>> 0, s: srt.ex.h2_heap_used() >>> 0 });

/** A client session and a server connection joined by an in-memory duplex. */
function pair(handler, serverSettings = {}) {
  let s;
  const c = crt.transport({
    write: (b) => {
      s.transport.push(b);
      return true;
    },
    end: () => s.transport.end(),
  });
  s = srt.transport({
    write: (b) => {
      c.transport.push(b);
      return true;
    },
    end: () => c.transport.end(),
  });
  const server = new ServerConnection(srt, s.transport, s.io, serverSettings, handler);
  const session = new ClientSession(crt, c.transport, c.io, { scheme: 'http', authority: 'mem' });
  return { session, server };
}

const turn = () => new Promise((r) => setImmediate(r));
/** Lets both runtimes run until `done()` holds (and a few turns more), at most `ms`. */
async function settle(done = () => true, ms = 60000) {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('memory bench: timed out waiting for the exchange');
    await turn();
  }
  for (let i = 0; i < 20; i++) await turn();
}

const hello = (req, res) => res.respond(200, [['content-type', 'text/plain']], 'hello\n');
async function get(session, path) {
  const res = await session.request({ path });
  await res.text();
  return res.status;
}
async function closePair(p) {
  await Promise.race([p.session.close(), new Promise((r) => setTimeout(r, 5000))]);
  await settle();
}

// Warm-up: one connection and one request, freed; lazily built tables stay.
{
  const p = pair(hello);
  await get(p.session, '/');
  await closePair(p);
}

// ---- idle connections ------------------------------------------------------------------
const idle0 = heap();
const pairs = Array.from({ length: CONNS }, () => pair(hello));
await Promise.all(pairs.map((p) => p.session.ready));
await settle();
const idle1 = heap();
for (const p of pairs) await get(p.session, '/');
await settle();
const idle2 = heap();
for (const p of pairs) await closePair(p);
const idle3 = heap();
const per = (a, b, n) => (b - a) / n;
const idle = {
  clientHandshaken: per(idle0.c, idle1.c, CONNS),
  serverHandshaken: per(idle0.s, idle1.s, CONNS),
  clientUsed: per(idle0.c, idle2.c, CONNS),
  serverUsed: per(idle0.s, idle2.s, CONNS),
};

// ---- open streams ----------------------------------------------------------------------
let accepted = 0;
/** @type {(value?: unknown) => void} */
let release = () => {};
const hold = new Promise((r) => {
  release = r;
});
const p = pair(
  async (req, res) => {
    accepted++;
    if (req.path.startsWith('/open/')) await hold;
    await res.respond(200, [['content-type', 'text/plain']], 'done\n');
  },
  { maxConcurrentStreams: STREAMS + 100 },
);
for (let i = 0; i < 10; i++) await get(p.session, '/warm'); // HPACK tables, buffers at their working size
await settle();
const base = heap();
accepted = 0;
const open = Array.from({ length: STREAMS }, (_, i) => get(p.session, `/open/${i}`));
open.forEach((x) => x.catch(() => {}));
await settle(() => accepted === STREAMS);
const full = heap();
release();
const statuses = await Promise.all(open);
await settle();
const after = heap();
await closePair(p);
if (!statuses.every((s) => s === 200)) throw new Error('memory bench: a held request did not end with 200');
const stream = { client: per(base.c, full.c, STREAMS), server: per(base.s, full.s, STREAMS) };

const b = (x) => `${Math.round(x)} B`;
console.log(`### Wasm memory (h2_heap_used deltas, in-memory duplex)${quick ? ' (--quick)' : ''}\n`);
console.log(`Client and server run in two instances of build/h2wasm.wasm through the library's Runtime,`);
console.log('ClientSession and ServerConnection, so each instance counts one side. Deterministic.\n');
console.log('| what | client side | server side |');
console.log('|---|---:|---:|');
console.log(
  `| per open stream (${STREAMS} concurrent GETs on one connection, server MAX_CONCURRENT_STREAMS ${STREAMS + 100}, every request held by the handler) | ${b(stream.client)} | ${b(stream.server)} |`,
);
console.log(
  `| per idle connection, handshaken (${CONNS} connections) | ${b(idle.clientHandshaken)} | ${b(idle.serverHandshaken)} |`,
);
console.log(
  `| per idle connection after one GET (HPACK tables and buffers in use) | ${b(idle.clientUsed)} | ${b(idle.serverUsed)} |`,
);
console.log(
  `| heap left after the ${STREAMS} streams ended (vs before them) | ${b(after.c - base.c)} | ${b(after.s - base.s)} |`,
);
console.log(
  `| heap left after the ${CONNS} connections closed (vs before them) | ${b(idle3.c - idle0.c)} | ${b(idle3.s - idle0.s)} |`,
);
console.log(`
"Beyond the window buffers": the engine holds no buffer sized by a flow-control window.
Received DATA waits in each stream's receive buffer (assembly/ffi/stream-ctx.ts), which
grows on demand, up to what the window let in, and is empty on an idle connection; the
connection's output buffer and the frame decoder's payload buffer grow with the traffic
too, not with the windows. So nothing is subtracted: the idle figures above are the whole
wasm heap one connection takes on each side.`);

const worstStream = Math.max(stream.client, stream.server);
const worstIdle = Math.max(idle.clientUsed, idle.serverUsed, idle.clientHandshaken, idle.serverHandshaken);
summary({
  bench: `${STREAMS} concurrent streams on one connection: wasm memory per open stream`,
  ours: `client ${b(stream.client)}, server ${b(stream.server)}`,
  peers: '–',
  ratio: `${fx(worstStream / KiB)} KiB (larger side)`,
  goal: '≤ 1 KiB',
  met: worstStream <= KiB ? 'yes' : 'no',
});
summary({
  bench: 'idle connection: wasm memory (no window-sized buffers to subtract)',
  ours: `client ${b(idle.clientUsed)}, server ${b(idle.serverUsed)} (after one GET; handshaken only: ${b(idle.clientHandshaken)} / ${b(idle.serverHandshaken)})`,
  peers: '–',
  ratio: `${fx(worstIdle / KiB, 1)} KiB (largest)`,
  goal: '≤ 32 KiB',
  met: worstIdle <= 32 * KiB ? 'yes' : 'no',
});
process.exit(0);
