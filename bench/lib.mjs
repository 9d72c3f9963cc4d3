// Helpers shared by the bench scripts: pinning, ports, child processes that are always
// killed (normal exit, error, signal), bounded tool runs, the commands each bench ran,
// and the summary rows bench/run.mjs gathers into the table at the top of results.md.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const dist = join(root, 'dist', 'bindings');
export const wasmPath = join(root, 'build', 'h2wasm.wasm');
export const cliPath = join(dist, 'cli.js');
export const quick = process.argv.includes('--quick');

export const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const pin = has('taskset') && cpus().length > 1;
/** [cmd, args] running `cmd` on `core` when taskset can pin it. */
export const onCore = (core, cmd, args) => (pin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`);
/** The command line as a shell would take it, with the repo root shown as `.`. */
export const cmdline = (cmd, args) =>
  [cmd, ...args]
    .map((a) =>
      quote(
        String(a)
          .split(root + '/')
          .join('./')
          .replace(process.execPath, 'node'),
      ),
    )
    .join(' ');

/** Every command a bench ran (printed at the end of its section). */
export const commands = [];
export const record = (cmd, args) => {
  const line = cmdline(cmd, args);
  if (!commands.includes(line)) commands.push(line);
};
export function printCommands() {
  console.log('\nCommands:\n```');
  for (const c of commands) console.log(c);
  console.log('```');
}

export async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
  await new Promise((r) => s.close(r));
  return port;
}

export async function waitForPort(port, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

// Every process started here is killed when this one ends, however it ends.
const children = new Set();
function killAll() {
  for (const p of children) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
process.on('uncaughtException', (e) => {
  console.error(e);
  killAll();
  process.exit(1);
});
process.on('unhandledRejection', (e) => {
  console.error(e);
  killAll();
  process.exit(1);
});

/** Starts a server on `core`, waits for its port; returns a handle with stop(). */
export async function startServer(core, cmd, args, port) {
  const [c, a] = onCore(core, cmd, args);
  record(c, a);
  const proc = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    if (stderr.length < 4000) stderr += d;
  });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  try {
    await waitForPort(port);
  } catch (e) {
    stop();
    throw new Error(`${cmdline(cmd, args)}: ${e.message}\n${stderr}`, { cause: e });
  }
  function stop() {
    children.delete(proc);
    return new Promise((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return r();
      proc.once('exit', r);
      proc.kill('SIGKILL');
    });
  }
  return { proc, stop, stderr: () => stderr };
}

/** Runs a tool on `core` to its end or `timeoutMs` (then killed); returns { stdout, stderr, status, ms }. */
export function runTool(core, cmd, args, timeoutMs) {
  const [c, a] = onCore(core, cmd, args);
  record(c, a);
  const t0 = performance.now();
  const r = spawnSync(c, a, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  return {
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    status: r.status,
    timedOut: /** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code === 'ETIMEDOUT',
    ms: performance.now() - t0,
  };
}

/** Seconds from h2load's "finished in 1.23s" / "finished in 456.7ms". */
export function h2loadSeconds(out) {
  const m = /finished in ([\d.]+)(m?s)/.exec(out);
  return m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : NaN;
}
export const h2loadOk = (out) => {
  const m = /(\d+) succeeded, (\d+) failed/.exec(out);
  return m ? Number(m[1]) : 0;
};
export const h2loadRps = (out) => {
  const m = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  return m ? Number(m[1]) : NaN;
};

export const toolVersion = (cmd) =>
  has(cmd)
    ? (spawnSync(cmd, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '?')
    : 'not installed';

/** A row of the summary table (bench/run.mjs reads them from $BENCH_SUMMARY). */
export function summary(row) {
  if (process.env.BENCH_SUMMARY) appendFileSync(process.env.BENCH_SUMMARY, `${JSON.stringify(row)}\n`);
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
export const fx = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
export const times = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
export const pinNote = (what) => (pin ? what : 'not pinned (no taskset or one core)');
