// What each host's crossing costs: every host's own client (C through wasm2c, Go through
// wazero, Rust through wasmtime, JavaScript through Node's connect()) in its bench mode
// against one nghttpd, beside h2load's figure from the same run against the same server:
// N requests, one connection, 100 streams. For each host, h2load and the client take
// turns (h2load, client, h2load, client, …) and the best of each is kept; nghttpd runs on
// core 0 and the clients and h2load on core 1 (taskset, where there is more than one core).
//
//   node bench/hosts.mjs [--quick]
//
// Prints a markdown table (host | client req/s | h2load req/s (same run) | ratio) on
// stdout and writes it to bench/hosts.md; --quick (CI's smoke: 2,000 requests, one turn
// each) prints it only. Progress, build output and skipped hosts (one line each: a
// missing toolchain or a failed build) go to stderr. Exit status 1 when a host that was
// built failed its run (not every response a 2xx read to its end), else 0.
// From another script: `import { benchHosts } from './hosts.mjs'` (see below).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import net from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const WASM = join(root, 'build', 'h2wasm.wasm');
/** The line every client's bench mode ends stderr with. */
const BENCH_LINE = /^requests=(\d+) ok=(\d+) seconds=(\d+\.\d{3}) req\/s=(\d+)$/;

function which(cmd, extra = []) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extra]) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port, child, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`nghttpd exited with ${child.exitCode} before listening`);
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port} after ${ms} ms`);
}

/** Children still running (killed if this process is stopped). */
const live = new Set();

/** Runs a command to its end, killed (SIGKILL) after timeoutMs; never throws. */
function run(cmd, args, { cwd, timeoutMs = 120000, env } = {}) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ status: null, stdout: '', stderr: String(e) });
      return;
    }
    live.add(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d) => { stdout = (stdout + d).slice(-65536); });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-65536); });
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (status) => { clearTimeout(timer); live.delete(child); resolve({ status, stdout, stderr }); });
  });
}

const lastLine = (text) => text.trimEnd().split('\n').pop() ?? '';

/** The hosts: how each is built (null: skipped, with the reason) and how its client runs. */
async function prepareHosts(log, tmp) {
  const hosts = [];
  const skipped = [];
  const skip = (name, why) => { skipped.push(`${name}: ${why}`); log(`bench/hosts: ${name} skipped: ${why}`); };

  // C: wasm2c + gcc, examples/c/Makefile.
  if (!which('wasm2c') || !which('gcc') || !which('make')) skip('C (wasm2c)', 'wasm2c, gcc or make not installed');
  else {
    const r = await run('make', ['-C', join(root, 'examples', 'c'), 'client'], { timeoutMs: 600000 });
    if (r.status !== 0) skip('C (wasm2c)', `make failed: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
    else hosts.push({ name: 'C (wasm2c + gcc)', cmd: join(root, 'examples', 'c', 'client'), args: (n, m, port) => ['-n', n, '-m', m, '127.0.0.1', port, '/tiny'] });
  }

  // Go: wazero (version from go.mod), built into a temp dir.
  const go = which('go', ['/usr/local/go/bin']);
  if (!go) skip('Go (wazero)', 'go not installed');
  else {
    const dir = join(root, 'examples', 'go');
    const wazero = /github\.com\/tetratelabs\/wazero (v\S+)/.exec(readFileSync(join(dir, 'go.mod'), 'utf8'))?.[1] ?? '?';
    const out = join(tmp, 'go-client');
    const r = await run(go, ['build', '-o', out, './client'], { cwd: dir, timeoutMs: 600000, env: { ...process.env, PATH: `${process.env.PATH}:${dirname(go)}` } });
    if (r.status !== 0) skip(`Go (wazero ${wazero})`, `go build failed: ${lastLine(r.stderr)}`);
    else hosts.push({ name: `Go (wazero ${wazero})`, cmd: out, args: (n, m, port) => ['-n', n, '-m', m, '-wasm', WASM, `http://127.0.0.1:${port}/tiny`] });
  }

  // Rust: wasmtime, only when examples/rust exists (cold builds take minutes).
  const rustDir = join(root, 'examples', 'rust');
  const cargo = which('cargo', [join(process.env.HOME ?? '/root', '.cargo', 'bin')]);
  if (!existsSync(join(rustDir, 'Cargo.toml'))) skip('Rust (wasmtime)', 'examples/rust does not exist');
  else if (!cargo) skip('Rust (wasmtime)', 'cargo not installed');
  else {
    const wasmtime = /^wasmtime = \{ version = "([^"]+)"/m.exec(readFileSync(join(rustDir, 'Cargo.toml'), 'utf8'))?.[1];
    const name = `Rust (wasmtime${wasmtime ? ` ${wasmtime}` : ''})`;
    log('bench/hosts: cargo build --release in examples/rust (a cold build takes minutes)…');
    const r = await run(cargo, ['build', '--release', '--bin', 'client'], { cwd: rustDir, timeoutMs: 1800000 });
    const bin = join(rustDir, 'target', 'release', 'client');
    if (r.status !== 0 || !existsSync(bin)) skip(name, `cargo build failed: ${lastLine(r.stderr)}`);
    else hosts.push({ name, cmd: bin, args: (n, m, port) => ['-n', n, '-m', m, '--wasm', WASM, `http://127.0.0.1:${port}/tiny`] });
  }

  // JavaScript: the library's connect() (dist/bindings) in bench/node-client.mjs.
  if (!existsSync(join(root, 'dist', 'bindings', 'index.js'))) skip('JavaScript (Node)', 'dist/bindings is not built (node scripts/ensure.mjs)');
  else hosts.push({ name: `JavaScript (Node ${process.version}, connect())`, cmd: process.execPath, args: (n, m, port) => [join(here, 'node-client.mjs'), '-n', n, '-m', m, `http://127.0.0.1:${port}/tiny`] });
  return { hosts, skipped };
}

/**
 * Runs the whole comparison. Options: quick (2,000 requests, one turn each), write
 * (bench/hosts.md; default: not when quick), log (progress lines; default stderr).
 * Resolves with { markdown, rows, skipped, failed }.
 */
export async function benchHosts({ quick = false, write = !quick, log = (s) => console.error(s) } = {}) {
  const requests = quick ? 2000 : 20000;
  const streams = 100;
  const turns = quick ? 1 : 3;
  const budgetMs = quick ? 120000 : 600000; // per host; a turn that would start later is dropped
  const pin = !!which('taskset') && cpus().length > 1;
  const onCore = (core, cmd, args) => (pin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);
  const load = loadavg()[0];

  const h2load = which('h2load');
  const nghttpd = which('nghttpd', ['/usr/sbin']);
  if (!h2load || !nghttpd) {
    const line = `bench/hosts: ${!h2load ? 'h2load' : 'nghttpd'} is not installed (Debian nghttp2-client / nghttp2-server); skipped`;
    log(line);
    return { markdown: `${line}\n`, rows: [], skipped: [line], failed: false };
  }
  if (!existsSync(WASM)) {
    const line = 'bench/hosts: build/h2wasm.wasm is missing (node scripts/ensure.mjs); skipped';
    log(line);
    return { markdown: `${line}\n`, rows: [], skipped: [line], failed: false };
  }

  const tmp = mkdtempSync(join(tmpdir(), 'h2wasm-hosts-'));
  let server = null;
  const stop = () => {
    for (const c of [server, ...live]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', stop);
  try {
    const { hosts, skipped } = await prepareHosts(log, tmp);
    const www = join(tmp, 'www');
    spawnSync('mkdir', ['-p', www]);
    writeFileSync(join(www, 'tiny'), 'hello from nghttpd\n');
    const port = await freePort();
    const [sc, sa] = onCore(0, nghttpd, ['--no-tls', '-a', '127.0.0.1', '-d', www, String(port)]);
    server = spawn(sc, sa, { stdio: 'ignore' });
    await waitForPort(port, server);

    const h2loadOnce = async () => {
      const [c, a] = onCore(1, h2load, ['-n', String(requests), '-c', '1', '-m', String(streams), `http://127.0.0.1:${port}/tiny`]);
      const r = await run(c, a, { timeoutMs: 120000 });
      const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(r.stdout);
      const ok = /(\d+) succeeded, (\d+) failed/.exec(r.stdout);
      return ok && Number(ok[1]) === requests && rate ? Number(rate[1]) : NaN;
    };
    const clientOnce = async (host) => {
      const [c, a] = onCore(1, host.cmd, host.args(String(requests), String(streams), String(port)));
      const r = await run(c, a, { timeoutMs: 120000 });
      const last = lastLine(r.stderr);
      const m = BENCH_LINE.exec(last);
      if (r.status !== 0 || !m || Number(m[2]) !== requests) return { rate: NaN, why: last || `exit ${r.status}` };
      return { rate: Number(m[4]), why: '' };
    };

    const rows = [];
    for (const host of hosts) {
      const t0 = Date.now();
      let best = { client: NaN, h2load: NaN, why: '' };
      for (let turn = 0; turn < turns && (turn === 0 || Date.now() - t0 < budgetMs); turn++) {
        const g = await h2loadOnce();
        const c = await clientOnce(host);
        if (Number.isFinite(g)) best.h2load = Number.isFinite(best.h2load) ? Math.max(best.h2load, g) : g;
        if (Number.isFinite(c.rate)) best.client = Number.isFinite(best.client) ? Math.max(best.client, c.rate) : c.rate;
        else best.why ||= c.why;
        log(`bench/hosts: ${host.name}, turn ${turn + 1}/${turns}: client ${Number.isFinite(c.rate) ? Math.round(c.rate) : `failed (${c.why})`} req/s, h2load ${Number.isFinite(g) ? Math.round(g) : 'failed'} req/s`);
      }
      rows.push({ name: host.name, ...best });
    }

    const fmt = (v) => (Number.isFinite(v) ? String(Math.round(v)) : 'failed');
    const lines = [
      `### Client req/s per host: -n ${requests} -m ${streams}, one connection, against nghttpd${quick ? ' (--quick)' : ''}`,
      '',
      `Each host's own client beside h2load \`-n ${requests} -c 1 -m ${streams}\` against the same nghttpd (a ${Buffer.byteLength('hello from nghttpd\n')}-byte file) in the same run, taking turns, best of ${turns}. ` +
        `${cpus().length} cores (${cpus()[0]?.model?.trim() ?? '?'}), Node ${process.version}${pin ? ', nghttpd on core 0, client and h2load on core 1' : ''}; ` +
        `load average ${load.toFixed(2)} when it started${load > 0.5 ? ' (busy: figures are noisy)' : ''}.`,
      '',
      '| host | client req/s | h2load req/s (same run) | ratio |',
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name} | ${fmt(r.client)} | ${fmt(r.h2load)} | ${Number.isFinite(r.client) && Number.isFinite(r.h2load) ? (r.client / r.h2load).toFixed(2) : '–'} |`),
    ];
    if (skipped.length) lines.push('', `Skipped: ${skipped.join('; ')}.`);
    for (const r of rows) if (r.why) lines.push('', `${r.name} failed: \`${r.why}\``);
    const markdown = `${lines.join('\n')}\n`;
    if (write) writeFileSync(join(here, 'hosts.md'), `# h2wasm: client req/s per host\n\nGenerated by \`node bench/hosts.mjs\` on ${new Date().toISOString()}.\n\n${markdown}`);
    return { markdown, rows, skipped, failed: rows.some((r) => !Number.isFinite(r.client)) };
  } finally {
    stop();
    process.removeListener('exit', stop);
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  const quick = process.argv.includes('--quick');
  const r = await benchHosts({ quick });
  process.stdout.write(r.markdown);
  process.exitCode = r.failed ? 1 : 0;
}
