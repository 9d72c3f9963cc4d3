// Instructions per request, counted by callgrind (repeatable on a busy machine, where wall
// time is not): the C host's examples/c/server (the core through wasm2c) and nghttpd, each
// under `valgrind --tool=callgrind` with collection off until it listens, then
// `h2load -n N -c 1 -m 100` of a tiny body, then a dump: the dump's instruction total ÷ N.
// The server on core 0, h2load on core 1.
//
//   node bench/callgrind.mjs [--quick]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  quick,
  root,
  has,
  pin,
  pinNote,
  freePort,
  waitForPort,
  runTool,
  h2loadOk,
  summary,
  ratio,
  fx,
  times,
  printCommands,
  record,
} from './lib.mjs';

const requests = quick ? 2000 : 20000;
const missing = ['valgrind', 'callgrind_control', 'nghttpd', 'h2load', 'make', 'wasm2c', 'gcc'].filter((c) => !has(c));
if (missing.length) {
  console.log(`### Instructions per request (callgrind)\n\n${missing.join(', ')} not installed; skipped`);
  process.exit(0);
}

const make = runTool(1, 'make', ['-C', join(root, 'examples', 'c'), 'server'], 600000);
if (make.status !== 0) {
  console.log(`### Instructions per request (callgrind)\n\nmake failed: ${make.stderr.trim().split('\n').pop()}`);
  process.exit(0);
}

const www = mkdtempSync(join(tmpdir(), 'h2wasm-bench-callgrind-'));
writeFileSync(join(www, 'index.html'), 'hello from the callgrind bench\n');

/** `cmd args` under callgrind (collection off until it listens), loaded, dumped: Ir ÷ N. */
async function count(name, cmd, args, port) {
  const key = name.replace(/\W+/g, '-');
  const out = join(www, `${key}.callgrind`);
  const vg = ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, cmd, ...args];
  const [bin, argv] = pin ? ['taskset', ['-c', '0', 'valgrind', ...vg]] : ['valgrind', vg];
  record(bin, argv);
  const proc = spawn(bin, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  try {
    await waitForPort(port, 60000);
    const on = runTool(1, 'callgrind_control', ['-i', 'on', String(proc.pid)], 30000);
    if (on.status !== 0) throw new Error(`callgrind_control -i on: ${on.stderr.trim()}`);
    const load = runTool(
      1,
      'h2load',
      ['-n', String(requests), '-c', '1', '-m', '100', `http://127.0.0.1:${port}/index.html`],
      600000,
    );
    const ok = h2loadOk(load.stdout);
    const dump = runTool(1, 'callgrind_control', ['-d', String(proc.pid)], 60000);
    if (dump.status !== 0) throw new Error(`callgrind_control -d: ${dump.stderr.trim()}`);
    // The dump is out.1 (or out.<pid>.1): its "totals:" line counts what was collected.
    const file = readdirSync(www).find((f) => f.startsWith(`${key}.callgrind`) && /\.1$/.test(f));
    const totals = file ? /^totals:\s+(\d+)/m.exec(readFileSync(join(www, file), 'utf8')) : null;
    const ir = totals ? Number(totals[1]) : NaN;
    return { name, ok, ir, perRequest: ok > 0 ? ir / ok : NaN };
  } catch (e) {
    return { name, ok: 0, ir: NaN, perRequest: NaN, note: `${e.message} ${stderr.trim().split('\n').pop() ?? ''}` };
  } finally {
    proc.kill('SIGKILL');
  }
}

const rows = [];
try {
  let port = await freePort();
  rows.push(await count('examples/c/server', join(root, 'examples', 'c', 'server'), ['--port', String(port)], port));
  port = await freePort();
  rows.push(await count('nghttpd', 'nghttpd', ['--no-tls', '-a', '127.0.0.1', '-d', www, String(port)], port));
} finally {
  rmSync(www, { recursive: true, force: true });
}

const ours = rows[0].perRequest;
const peer = rows[1].perRequest;
console.log(
  `### Instructions per request (callgrind): h2load -n ${requests} -c 1 -m 100, a 31-byte body${quick ? ' (--quick)' : ''}`,
);
console.log(
  `${pinNote('the server under valgrind on core 0, h2load on core 1')}; collection from the first connection to the dump.\n`,
);
console.log('| server | instructions | requests answered | instructions per request | ÷ nghttpd |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${Number.isFinite(r.ir) ? r.ir : 'failed'} | ${r.ok}/${requests} | ${Number.isFinite(r.perRequest) ? Math.round(r.perRequest) : '–'} | ${fx(ratio(r.perRequest, peer))}${r.note ? ` (${r.note})` : ''} |`,
  );
printCommands();

const rc = ratio(ours, peer);
summary({
  bench: `core instructions per request (callgrind), examples/c/server vs nghttpd, h2load -n ${requests} -c 1 -m 100`,
  ours: Number.isFinite(ours) ? `${Math.round(ours)} instructions/request` : 'failed',
  peers: `nghttpd ${Number.isFinite(peer) ? Math.round(peer) : '–'}`,
  ratio: `${times(rc)} nghttpd`,
  goal: '≤ 1.0× nghttpd (issue #20; 0.8× its goal)',
  met: Number.isFinite(rc) ? (rc <= 1 ? 'yes' : 'no') : '–',
});
