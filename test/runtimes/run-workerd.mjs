// Runs test/runtimes/worker.ts under workerd, for the runtime suite and bench/client.mjs:
// bundled as wrangler would (esbuild, the `workerd` condition; the .wasm import kept as a
// separate wasm module, as workerd's config and wrangler give it), served on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(DIR, '..', '..');

/** A runtime's binary from test/runtimes (install-peers.sh), or null when absent. */
export function runtimeBinary(name) {
  const p = join(DIR, 'node_modules', '.bin', name);
  return existsSync(p) ? p : null;
}

/** Bundles worker.ts into `out`/worker.js with `out`/h2wasm.wasm beside it, with the
 *  Worker example's build (as wrangler would). */
export async function bundleWorker(out) {
  const r = spawnSync(process.execPath, [join(ROOT, 'examples', 'workers', 'build.mjs'), out, join(DIR, 'worker.ts')], {
    encoding: 'utf8',
    timeout: 60000,
  });
  if (r.status !== 0) throw new Error(`bundling the Worker failed: ${r.stderr}`);
}

/** workerd's config: the Worker on 127.0.0.1:port, its sockets allowed to reach loopback
 *  and to trust `ca.pem` beside it when there is one (a test server's own certificate). */
function config(port, ca) {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"]${ca ? ', tlsOptions = (trustedCertificates = [embed "ca.pem"])' : ''})),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "h2wasm.wasm", wasm = embed "h2wasm.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "internet",
);
`;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (s.address());
  await new Promise((r) => s.close(r));
  return port;
}

/** Resolves once 127.0.0.1:port accepts; fails at once if workerd exited (its port taken
 *  since we picked it, say: then something else listens, and we must not test that). */
async function listening(port, proc, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`workerd exited (${proc.exitCode ?? proc.signalCode})`);
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`workerd: nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Bundles the Worker into `dir` and serves it; `prefix` runs workerd under another
 * command (taskset); `ca` (PEM) is a certificate its TLS sockets trust. Returns its base
 * URL and stop().
 */
export async function startWorkerd(dir, prefix = [], ca = undefined) {
  const bin = runtimeBinary('workerd');
  if (!bin) throw new Error('workerd is not installed (scripts/install-peers.sh)');
  const port = await freePort();
  await bundleWorker(dir);
  if (ca) writeFileSync(join(dir, 'ca.pem'), ca);
  writeFileSync(join(dir, 'config.capnp'), config(port, !!ca));
  const argv = [...prefix, bin, 'serve', join(dir, 'config.capnp')];
  const proc = spawn(argv[0], argv.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(undefined);
      proc.once('exit', resolve);
      proc.kill('SIGKILL');
    });
  try {
    await listening(port, proc, 15000);
    // Still ours after it listened (a second bind would have failed by now).
    await new Promise((r) => setTimeout(r, 100));
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`workerd exited (${proc.exitCode})`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base: `http://127.0.0.1:${port}`, stop };
}
