// examples/rust: h2wasm.wasm hosted by Rust through wasmtime (no JS involved at run time).
// Built with `cargo build --release` into examples/rust/target (gitignored, kept between
// runs on one machine, so only the first build on a machine is cold), then put through
// hostExampleSuite (./support.ts), the suite the Go host passes too:
//   - the client against nghttpd (h2c): 0 B, 1 MiB and 10 MiB files, stdout compared by
//     sha256 with the files served; bench mode (-n 2000 -m 100 on one connection); and
//     over TLS (rustls, ALPN h2, -k for a self-signed certificate; bench mode too);
//   - the server against curl --http2-prior-knowledge (GET, 1 MiB POST) and h2load
//     (10000 requests, 4 connections, 20 streams each: all must be 2xx); the Rust client
//     against the Rust server.
// Without `cargo` on PATH every test is skipped with one line; a missing nghttpd, curl
// or h2load skips only the tests that need it.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { PEERS, hostExampleSuite, run, which } from './support.js';

const CARGO = which('cargo', [join(homedir(), '.cargo', 'bin')]);
if (!CARGO) console.log('examples/rust: cargo not installed, its tests are skipped');
const MISSING = (['nghttpd', 'curl', 'h2load'] as const).filter((n) => !PEERS[n]);
if (CARGO && MISSING.length)
  console.log(`examples/rust: ${MISSING.join(', ')} not installed, the tests that need them are skipped`);

const SRC = join(ROOT, 'examples', 'rust');
const TARGET = join(SRC, 'target');
const BIN = join(TARGET, 'release');
const lock = existsSync(join(SRC, 'Cargo.lock')) ? readFileSync(join(SRC, 'Cargo.lock'), 'utf8') : '';
const WASMTIME = /name = "wasmtime"\nversion = "([^"]+)"/.exec(lock)?.[1] ?? '?';

hostExampleSuite({
  name: 'Rust',
  label: 'examples/rust',
  engine: `wasmtime ${WASMTIME}`,
  toolchain: CARGO,
  wasmFlag: '--wasm',
  hello: `hello from h2wasm (Rust host, wasmtime ${WASMTIME})\n\n2 200`,
  tlsBench: true,
  buildTimeoutMs: 1_600_000,
  async build() {
    // A cold build (wasmtime with Cranelift, rustls) takes 5 to 10 minutes on two cores; later runs
    // reuse examples/rust/target and take a second. Niced, so that the test files running
    // beside it in the same `npm test` keep their share of the CPU.
    const env = {
      ...process.env,
      CARGO_TARGET_DIR: TARGET,
      PATH: `${process.env.PATH}:${join(homedir(), '.cargo', 'bin')}`,
    };
    const NICE = which('nice');
    const cargo = ['build', '--release', '--locked'];
    const r = NICE
      ? await run(NICE, ['-n', '10', CARGO!, ...cargo], { cwd: SRC, timeoutMs: 1_500_000, env })
      : await run(CARGO!, cargo, { cwd: SRC, timeoutMs: 1_500_000, env });
    if (r.status !== 0) throw new Error(`cargo build --release failed:\n${r.stderr.slice(-4000)}`);
    console.log(`examples/rust: cargo build --release took ${(r.ms / 1000).toFixed(1)} s`);
    return { client: join(BIN, 'client'), server: join(BIN, 'server') };
  },
});
