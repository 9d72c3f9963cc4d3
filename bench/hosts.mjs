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
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  root,
  wasmPath as WASM,
  freePort,
  startServer,
  runTool,
  commands,
  h2loadRps,
  h2loadOk,
  summary,
  ratio,
  fx,
  times,
  pinNote,
} from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** The line every client's bench mode ends stderr with. */
const BENCH_LINE = /^requests=(\d+) ok=(\d+) seconds=(\d+\.\d{3}) req\/s=(\d+)$/;

function which(cmd, extra = []) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extra]) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

/**
 * A build step, bounded; never throws.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv }} [options]
 */
function build(cmd, args, { cwd, timeoutMs, env } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
  const timedOut = /** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code === 'ETIMEDOUT';
  return {
    status: timedOut ? null : r.status,
    stdout: r.stdout ?? '',
    stderr: `${r.stderr ?? ''}${timedOut ? `\n(stopped after ${timeoutMs / 1000} s)` : ''}`,
  };
}

const lastLine = (text) => text.trimEnd().split('\n').pop() ?? '';

/** Builds each host's client: those that built (name, command, arguments) and one line per skipped host. */
function prepareHosts(log, tmp, buildMs) {
  // Builds share one budget (bench/run.mjs stops a --quick bench after 3 minutes): a cold
  // build that would not fit is stopped and its host skipped.
  const deadline = Date.now() + buildMs;
  const left = (capMs) => Math.max(1000, Math.min(capMs, deadline - Date.now()));
  const hosts = [];
  const skipped = [];
  const skip = (name, why) => {
    skipped.push(`${name}: ${why}`);
    log(`bench/hosts: ${name} skipped: ${why}`);
  };

  // C: wasm2c + gcc, examples/c/Makefile.
  if (!which('wasm2c') || !which('gcc') || !which('make')) skip('C (wasm2c)', 'wasm2c, gcc or make not installed');
  else {
    const r = build('make', ['-C', join(root, 'examples', 'c'), 'client'], { timeoutMs: left(600000) });
    if (r.status !== 0) skip('C (wasm2c)', `make failed: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
    else
      hosts.push({
        name: 'C (wasm2c + gcc)',
        cmd: join(root, 'examples', 'c', 'client'),
        args: (n, m, port) => ['-n', n, '-m', m, '127.0.0.1', port, '/tiny'],
      });
  }

  // Go: wazero (version from go.mod), built into a temp dir.
  const go = which('go', ['/usr/local/go/bin']);
  if (!go) skip('Go (wazero)', 'go not installed');
  else {
    const dir = join(root, 'examples', 'go');
    const wazero =
      /github\.com\/tetratelabs\/wazero (v\S+)/.exec(readFileSync(join(dir, 'go.mod'), 'utf8'))?.[1] ?? '?';
    const out = join(tmp, 'go-client');
    const r = build(go, ['build', '-o', out, './client'], {
      cwd: dir,
      timeoutMs: left(600000),
      env: { ...process.env, PATH: `${process.env.PATH}:${dirname(go)}` },
    });
    if (r.status !== 0) skip(`Go (wazero ${wazero})`, `go build failed: ${lastLine(r.stderr)}`);
    else
      hosts.push({
        name: `Go (wazero ${wazero})`,
        cmd: out,
        args: (n, m, port) => ['-n', n, '-m', m, '-wasm', WASM, `http://127.0.0.1:${port}/tiny`],
      });
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
    const r = build(cargo, ['build', '--release', '--bin', 'client'], { cwd: rustDir, timeoutMs: left(1800000) });
    const bin = join(rustDir, 'target', 'release', 'client');
    if (r.status !== 0 || !existsSync(bin)) skip(name, `cargo build failed: ${lastLine(r.stderr)}`);
    else
      hosts.push({
        name,
        cmd: bin,
        args: (n, m, port) => ['-n', n, '-m', m, '--wasm', WASM, `http://127.0.0.1:${port}/tiny`],
      });
  }

  // JavaScript: the library's connect() (dist/bindings) in bench/node-client.mjs.
  if (!existsSync(join(root, 'dist', 'bindings', 'index.js')))
    skip('JavaScript (Node)', 'dist/bindings is not built (node scripts/ensure.mjs)');
  else
    hosts.push({
      name: `JavaScript (Node ${process.version}, connect())`,
      cmd: process.execPath,
      args: (n, m, port) => [join(here, 'node-client.mjs'), '-n', n, '-m', m, `http://127.0.0.1:${port}/tiny`],
    });
  return { hosts, skipped };
}

/**
 * Runs the whole comparison. Options: quick (2,000 requests, one turn each), write
 * (bench/hosts.md; default: not when quick), log (progress lines; default stderr).
 * Adds one row per host to bench/run.mjs's summary ($BENCH_SUMMARY) when it is set.
 * Resolves with { markdown, rows, skipped, failed }.
 */
export async function benchHosts({ quick = false, write = !quick, log = (s) => console.error(s) } = {}) {
  // 200,000: at 20,000 an h2load run lasts ~50 ms and a host's figure was as much its
  // warm-up (V8 tiering the JS and the wasm, wazero's first calls) as its rate; the start
  // of a connection has its own bench (latency.mjs).
  const requests = quick ? 2000 : 200000;
  const streams = 100;
  const turns = quick ? 1 : 3;
  const runMs = 120000; // one client or h2load run
  const budgetMs = quick ? 120000 : 600000; // per host: no new turn starts after it
  const load = loadavg()[0];
  const title = `### Client req/s per host: one connection, ${streams} streams, ${requests} GETs of a 19-byte file from nghttpd${quick ? ' (--quick)' : ''}`;

  const h2load = which('h2load');
  const nghttpd = which('nghttpd', ['/usr/sbin']);
  const missing = !h2load
    ? 'h2load is not installed (Debian nghttp2-client)'
    : !nghttpd
      ? 'nghttpd is not installed (Debian nghttp2-server)'
      : !existsSync(WASM)
        ? 'build/h2wasm.wasm is missing (node scripts/ensure.mjs)'
        : '';
  if (missing) {
    log(`bench/hosts: ${missing}; skipped`);
    return { markdown: `${title}\n\n${missing}; skipped\n`, rows: [], skipped: [missing], failed: false };
  }

  const tmp = mkdtempSync(join(tmpdir(), 'h2wasm-hosts-'));
  let server = null;
  try {
    const { hosts, skipped } = prepareHosts(log, tmp, quick ? 100000 : 1800000);
    const www = join(tmp, 'www');
    spawnSync('mkdir', ['-p', www]);
    writeFileSync(join(www, 'tiny'), 'hello from nghttpd\n');
    const port = await freePort();
    server = await startServer(0, nghttpd, ['--no-tls', '-a', '127.0.0.1', '-d', www, String(port)], port);
    const url = `http://127.0.0.1:${port}/tiny`;

    const h2loadOnce = () => {
      const r = runTool(1, h2load, ['-n', String(requests), '-c', '1', '-m', String(streams), url], runMs);
      return h2loadOk(r.stdout) === requests ? h2loadRps(r.stdout) : NaN;
    };
    const clientOnce = (host) => {
      const r = runTool(1, host.cmd, host.args(String(requests), String(streams), String(port)), runMs);
      const last = lastLine(r.stderr);
      const m = BENCH_LINE.exec(last);
      if (r.status !== 0 || !m || Number(m[2]) !== requests)
        return { rate: NaN, why: r.timedOut ? `killed after ${runMs / 1000} s` : last || `exit ${r.status}` };
      return { rate: Number(m[4]), why: '' };
    };

    const rows = [];
    for (const host of hosts) {
      const t0 = Date.now();
      const best = { client: NaN, h2load: NaN, why: '' };
      for (let turn = 0; turn < turns && (turn === 0 || Date.now() - t0 < budgetMs); turn++) {
        const g = h2loadOnce();
        const c = clientOnce(host);
        if (Number.isFinite(g)) best.h2load = Number.isFinite(best.h2load) ? Math.max(best.h2load, g) : g;
        if (Number.isFinite(c.rate))
          best.client = Number.isFinite(best.client) ? Math.max(best.client, c.rate) : c.rate;
        else best.why ||= c.why;
        log(
          `bench/hosts: ${host.name}, turn ${turn + 1}/${turns}: client ${Number.isFinite(c.rate) ? Math.round(c.rate) : `failed (${c.why})`} req/s, h2load ${Number.isFinite(g) ? Math.round(g) : 'failed'} req/s`,
        );
      }
      rows.push({ name: host.name, ...best });
    }

    const k = (v) => (Number.isFinite(v) ? String(Math.round(v)) : 'failed');
    const lines = [
      title,
      '',
      `Each host's own client in its bench mode (\`-n ${requests} -m ${streams}\`) and h2load \`-n ${requests} -c 1 -m ${streams}\` take turns against the same nghttpd in the same run; best of ${turns} each. ` +
        `${pinNote('nghttpd on core 0, the clients and h2load on core 1')}; ${cpus().length} cores; ` +
        `load average ${load.toFixed(2)} when it started${load > cpus().length / 2 ? ' (busy: the figures are noisy)' : ''}. ` +
        "The ratio is what each host's crossing (and its I/O loop) costs beside a native client.",
      '',
      '| host | client req/s | h2load req/s (same run) | ratio |',
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name} | ${k(r.client)} | ${k(r.h2load)} | ${fx(ratio(r.client, r.h2load))} |`),
    ];
    if (skipped.length) lines.push('', `Skipped: ${skipped.join('; ')}.`);
    for (const r of rows) if (r.why) lines.push('', `${r.name} failed: \`${r.why}\``);
    lines.push('', 'Commands:', '```', ...commands, '```');
    const markdown = `${lines.join('\n')}\n`;

    for (const r of rows) {
      summary({
        bench: `client req/s, ${r.name} host, 1 connection × ${streams} streams, ${requests} GETs to nghttpd`,
        ours: `${k(r.client)} req/s`,
        peers: `h2load -c 1 -m ${streams} ${k(r.h2load)} (same run)`,
        ratio: `${times(ratio(r.client, r.h2load))} h2load`,
        goal: '– (on the record: issue #7)',
        met: '–',
      });
    }
    if (write)
      writeFileSync(
        join(here, 'hosts.md'),
        `# h2wasm: client req/s per host\n\nGenerated by \`node bench/hosts.mjs\` on ${new Date().toISOString()}.\n\n${markdown}`,
      );
    return { markdown, rows, skipped, failed: rows.some((r) => !Number.isFinite(r.client)) };
  } finally {
    if (server) await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchHosts({ quick: process.argv.includes('--quick') });
  process.stdout.write(r.markdown);
  process.exitCode = r.failed ? 1 : 0;
}
