// examples/go: h2wasm.wasm hosted by Go through wazero (no JS involved at run time).
// Both commands are built with `go build` into a temp dir first, so the timings below are
// the programs' own, not the compiler's; then put through hostExampleSuite (./support.ts),
// the suite the Rust host passes too:
//   - examples/go/client against nghttpd (h2c): 0 B, 1 MiB and 10 MiB files, stdout
//     compared by sha256 with the files served; bench mode (-n 2000 -m 100 on one
//     connection: all ok, the summary line last; 404s counted as not ok); and over TLS
//     (ALPN h2, -k);
//   - examples/go/server against curl --http2-prior-knowledge (GET, 1 MiB POST) and
//     h2load (10000 requests, 4 connections, 20 streams each: all must be 2xx); the Go
//     client against the Go server.
// Without `go` on PATH every test is skipped with one line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { hostExampleSuite, run, which } from './support.js';

const GO = which('go', ['/usr/local/go/bin']);
if (!GO) console.log('examples/go: go not installed, its tests are skipped');

const SRC = join(ROOT, 'examples', 'go');
const WAZERO = /github\.com\/tetratelabs\/wazero (v\S+)/.exec(readFileSync(join(SRC, 'go.mod'), 'utf8'))?.[1] ?? '?';

hostExampleSuite({
  name: 'Go',
  label: 'examples/go',
  engine: `wazero ${WAZERO}`,
  toolchain: GO,
  wasmFlag: '-wasm',
  hello: /^hello from h2wasm \(Go host, wazero v[\d.]+\)\n\n2 200$/,
  benchCountsNot2xx: true,
  buildTimeoutMs: 300_000,
  async build(dir) {
    const client = join(dir, 'client');
    const server = join(dir, 'server');
    const env = { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin` };
    for (const [out, pkg] of [
      [client, './client'],
      [server, './server'],
    ]) {
      const r = await run(GO!, ['build', '-o', out, pkg], { cwd: SRC, timeoutMs: 240_000, env });
      if (r.status !== 0) throw new Error(`go build ${pkg} failed:\n${r.stderr}`);
    }
    return { client, server };
  },
});
