// h2wasm against hyper 1.x (Rust, crates.io), both roles, over h2c with prior knowledge:
// our serve() ↔ hyper's client (test/peers/rust, `h2peer client`), and hyper's server
// (`h2peer server`) ↔ our connect(). Bodies of 0 B, 1 MiB and 16 MiB go each way in chunks,
// with trailers each way, and every byte is checked by sha256. The peer is built once per run
// with cargo (the first build downloads and compiles crates: minutes); without cargo the
// suite is skipped in one line.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { record, recordSkipped } from './record.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { serve, connect, type Server, type ClientSession } from '../../bindings/index.js';
import { ROOT } from '../support/wasm.js';

function which(cmd: string): string | null {
  const dirs = [
    ...(process.env.PATH ?? '').split(':'),
    join(process.env.CARGO_HOME ?? join(process.env.HOME ?? '/root', '.cargo'), 'bin'),
  ];
  for (const dir of dirs) {
    const p = join(dir, cmd);
    if (dir && spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}
const cargo = which('cargo');
if (!cargo) console.log('interop: cargo not installed, the hyper (Rust) tests are skipped');

const CRATE = join(ROOT, 'test', 'peers', 'rust');
const PEER = join(CRATE, 'target', 'release', 'h2peer');
const MiB = 1 << 20;
// [request bytes, request chunk, response bytes, response chunk]: odd chunk sizes, so chunk
// edges never meet frame edges; the last case is asymmetric.
const CASES: [number, number, number, number][] = [
  [0, 16384, 0, 16384],
  [MiB, 10007, MiB, 16384],
  [16 * MiB, 65536, 16 * MiB, 9973],
  [1, 1, 16 * MiB, 100_000],
];

/** The shared pattern (the peer makes the same): byte i is i % 251. */
function pattern(at: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let v = at % 251;
  for (let i = 0; i < n; i++) {
    b[i] = v;
    v = v === 250 ? 0 : v + 1;
  }
  return b;
}
const shaCache = new Map<number, string>();
function patternSha(n: number): string {
  let s = shaCache.get(n);
  if (!s) {
    const h = createHash('sha256');
    for (let at = 0; at < n; at += MiB) h.update(pattern(at, Math.min(MiB, n - at)));
    shaCache.set(n, (s = h.digest('hex')));
  }
  return s;
}
async function* chunks(n: number, chunk: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < n; at += chunk) yield pattern(at, Math.min(chunk, n - at));
}

/** Runs a command without blocking the event loop (our server lives in this process). */
function exec(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      stderr += `\n(killed after ${timeoutMs} ms)`;
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function lockVersion(lock: string, name: string): string {
  return new RegExp(`name = "${name}"\\nversion = "([^"]+)"`).exec(lock)?.[1] ?? '?';
}

let built = false;
beforeAll(async () => {
  if (!cargo) return;
  console.log(
    'interop: building the hyper peer (cargo build --release test/peers/rust; the first build fetches and compiles crates, minutes)',
  );
  const t0 = Date.now();
  const r = await exec(
    cargo,
    ['build', '--release', '--locked', '--manifest-path', join(CRATE, 'Cargo.toml')],
    600_000,
  );
  expect(r.code, r.stderr.slice(-4000)).toBe(0);
  built = true;
  const lock = readFileSync(join(CRATE, 'Cargo.lock'), 'utf8');
  const rustc =
    spawnSync(join(cargo, '..', 'rustc'), ['--version'])
      .stdout?.toString()
      .trim()
      .replace(/^rustc /, '') || '?';
  peerVersion = `hyper ${lockVersion(lock, 'hyper')}, h2 ${lockVersion(lock, 'h2')}, rustc ${rustc}`;
  console.log(
    `interop: rustc ${rustc}, hyper ${lockVersion(lock, 'hyper')}, h2 ${lockVersion(lock, 'h2')} (peer built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}, 660_000);

// Every check becomes a row of docs/interop.md.
let peerVersion = '?';
if (!cargo) recordSkipped('Rust hyper');
afterEach(({ task }) => {
  const direction = task.suite?.name.startsWith('hyper client')
    ? 'peer client → h2wasm serve() (h2c)'
    : 'h2wasm connect() → peer server (h2c)';
  const variant = task.suite?.name.split(' with ')[1];
  record(
    'Rust hyper',
    peerVersion,
    direction,
    variant ? `${variant}: ${task.name}` : task.name,
    !task.result?.errors?.length,
  );
});

const hdr = (h: Iterable<[string, string]>, name: string) => [...h].find(([k]) => k === name)?.[1];

describe.skipIf(!cargo)('hyper client (h2c prior knowledge) → h2wasm serve()', () => {
  let server: Server;
  /** What our handler saw, by path: the request body's sha256 and length, and its trailers. */
  const seen = new Map<string, { sha: string; length: number; trailers: [string, string][] }>();
  beforeAll(async () => {
    server = await serve({
      port: 0,
      hostname: '127.0.0.1',
      handler: async (req, res) => {
        const h = createHash('sha256');
        let length = 0;
        for await (const c of req.body()) {
          h.update(c);
          length += c.length;
        }
        const sha = h.digest('hex');
        const trailers = await req.trailers();
        seen.set(req.path, { sha, length, trailers });
        const size = Number(hdr(req.headers, 'x-resp-size') ?? length);
        const chunk = Math.max(1, Number(hdr(req.headers, 'x-resp-chunk') ?? 16384));
        await res.respond(
          200,
          [
            ['x-req-sha', sha],
            ['x-req-len', String(length)],
          ],
          chunks(size, chunk),
          [
            ['x-sha', patternSha(size)],
            ['x-len', String(size)],
            ...trailers.map(([k, v]): [string, string] => [`x-echo-${k}`, v]),
          ],
        );
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const [n, chunk, m, respChunk] of CASES) {
    it(`hyper POSTs ${n} B in ${chunk}-byte chunks with trailers, gets ${m} B back in ${respChunk}-byte chunks with trailers`, async () => {
      expect(built).toBe(true);
      const path = `/upload/${n}-${m}`;
      const r = await exec(
        PEER,
        [
          'client',
          server.url + path,
          '--size',
          String(n),
          '--chunk',
          String(chunk),
          '--resp-size',
          String(m),
          '--resp-chunk',
          String(respChunk),
        ],
        120_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim());
      expect(out.status).toBe(200);
      // What hyper sent is the pattern, and our server received exactly that, trailers included.
      expect(out.sent_sha).toBe(patternSha(n));
      expect(out.headers['x-req-len']).toBe(String(n));
      expect(out.headers['x-req-sha']).toBe(patternSha(n));
      // What hyper received is exactly what our server streamed, then our trailers.
      expect(out.resp_len).toBe(m);
      expect(out.resp_sha).toBe(patternSha(m));
      expect(out.trailers['x-sha']).toBe(patternSha(m));
      expect(out.trailers['x-len']).toBe(String(m));
      expect(out.trailers['x-echo-x-client-sha']).toBe(patternSha(n));
      expect(out.trailers['x-echo-x-client-len']).toBe(String(n));
      if (m > 0) expect(out.resp_frames).toBeGreaterThan(0);
      // Our handler saw the same bytes and hyper's trailers, parsed.
      expect(seen.get(path)).toEqual({
        sha: patternSha(n),
        length: n,
        trailers: expect.arrayContaining([
          ['x-client-sha', patternSha(n)],
          ['x-client-len', String(n)],
        ]),
      });
      expect(seen.get(path)!.trailers).toHaveLength(2);
    }, 150_000);
  }

  it('hyper sends 50 requests at once on one connection (64 KiB each way, trailers), each byte-exact', async () => {
    expect(built).toBe(true);
    const n = 65536 + 3;
    const r = await exec(
      PEER,
      ['client', `${server.url}/many`, '--size', String(n), '--chunk', '4099', '--parallel', '50'],
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.results).toHaveLength(50);
    for (const x of out.results) {
      expect(x.status).toBe(200);
      expect(x.headers['x-req-sha']).toBe(patternSha(n));
      expect(x.resp_sha).toBe(patternSha(n));
      expect(x.trailers['x-echo-x-client-sha']).toBe(patternSha(n));
    }
  }, 150_000);

  for (const [label, tune] of [
    ['16 KiB windows', ['--window', '16384']],
    ['a 1 MiB SETTINGS_MAX_FRAME_SIZE', ['--frame', String(MiB)]],
    ["hyper's adaptive (BDP ping) window", ['--adaptive']],
  ] as const) {
    it(`hyper client with ${label}: 4 MiB each way, byte-exact`, async () => {
      expect(built).toBe(true);
      const n = 4 * MiB + 1;
      const r = await exec(
        PEER,
        ['client', `${server.url}/tuned`, '--size', String(n), '--chunk', '100000', '--resp-chunk', '200000', ...tune],
        120_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim());
      expect(out.headers['x-req-sha']).toBe(patternSha(n));
      expect(out.resp_len).toBe(n);
      expect(out.resp_sha).toBe(patternSha(n));
      expect(out.trailers['x-sha']).toBe(patternSha(n));
    }, 150_000);
  }
});

const peerServers: ChildProcess[] = [];
afterAll(() => {
  for (const p of peerServers) p.kill('SIGKILL');
});

/** Starts `h2peer server` on a free port; resolves with its URL once it prints the address. */
async function startPeerServer(args: string[] = []): Promise<string> {
  const proc = spawn(PEER, ['server', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  peerServers.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const addr = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hyper server did not start: ${err}`)), 10_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /^(127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hyper server exited (${code}): ${err}`));
    });
  });
  return `http://${addr}`;
}

async function exchange(session: ClientSession, n: number, chunk: number, m: number, respChunk: number) {
  const res = await session.request({
    method: 'POST',
    path: `/echo/${n}`,
    headers: [
      ['x-resp-size', String(m)],
      ['x-resp-chunk', String(respChunk)],
    ],
    body: chunks(n, chunk),
    trailers: [
      ['x-client-sha', patternSha(n)],
      ['x-client-len', String(n)],
    ],
  });
  const h = createHash('sha256');
  let length = 0;
  for await (const c of res.body) {
    h.update(c);
    length += c.length;
  }
  return { res, sha: h.digest('hex'), length, trailers: await res.trailers() };
}

describe.skipIf(!cargo)('h2wasm connect() → hyper server (h2c prior knowledge)', () => {
  let session: ClientSession;
  beforeAll(async () => {
    if (!built) return;
    session = connect(await startPeerServer());
    await session.ready;
  });
  afterAll(() => {
    session?.destroy();
  });

  for (const [n, chunk, m, respChunk] of CASES) {
    it(`our client POSTs ${n} B in ${chunk}-byte chunks with trailers, hyper streams ${m} B back in ${respChunk}-byte chunks with trailers`, async () => {
      expect(built).toBe(true);
      const { res, sha, length, trailers } = await exchange(session, n, chunk, m, respChunk);
      expect(res.status).toBe(200);
      // hyper hashed exactly what we sent …
      expect(hdr(res.headers, 'x-req-len')).toBe(String(n));
      expect(hdr(res.headers, 'x-req-sha')).toBe(patternSha(n));
      expect(hdr(res.headers, 'x-req-method')).toBe('POST');
      expect(hdr(res.headers, 'x-req-path')).toBe(`/echo/${n}`);
      // … we received exactly what hyper streamed, then its trailers, echoing ours.
      expect(length).toBe(m);
      expect(sha).toBe(patternSha(m));
      const t = Object.fromEntries(trailers);
      expect(t['x-sha']).toBe(patternSha(m));
      expect(t['x-len']).toBe(String(m));
      expect(t['x-req-sha']).toBe(patternSha(n));
      expect(t['x-echo-x-client-sha']).toBe(patternSha(n));
      expect(t['x-echo-x-client-len']).toBe(String(n));
    }, 150_000);
  }

  it('three 1 MiB exchanges at once on one connection, each byte-exact', async () => {
    expect(built).toBe(true);
    const all = await Promise.all([0, 1, 2].map((i) => exchange(session, MiB + i, 7000 + i, MiB - i, 5000 + i)));
    all.forEach(({ res, sha, length, trailers }, i) => {
      expect(res.status).toBe(200);
      expect(hdr(res.headers, 'x-req-sha')).toBe(patternSha(MiB + i));
      expect(length).toBe(MiB - i);
      expect(sha).toBe(patternSha(MiB - i));
      expect(Object.fromEntries(trailers)['x-echo-x-client-sha']).toBe(patternSha(MiB + i));
    });
  }, 150_000);
});

for (const [label, tune] of [
  ['16 KiB windows', ['--window', '16384']],
  ['a 1 MiB SETTINGS_MAX_FRAME_SIZE', ['--frame', String(MiB)]],
  ["hyper's adaptive (BDP ping) window", ['--adaptive']],
] as const) {
  describe.skipIf(!cargo)(`h2wasm connect() → hyper server with ${label}`, () => {
    let session: ClientSession;
    beforeAll(async () => {
      if (!built) return;
      session = connect(await startPeerServer([...tune]));
      await session.ready;
    });
    afterAll(() => {
      session?.destroy();
    });

    it('4 MiB each way, byte-exact, trailers both ways; then 10 such at once', async () => {
      expect(built).toBe(true);
      const n = 4 * MiB + 1;
      const one = await exchange(session, n, 100_000, n, 200_000);
      expect(hdr(one.res.headers, 'x-req-sha')).toBe(patternSha(n));
      expect(one.sha).toBe(patternSha(n));
      expect(Object.fromEntries(one.trailers)['x-echo-x-client-sha']).toBe(patternSha(n));
      const many = await Promise.all(
        Array.from({ length: 10 }, () => exchange(session, 300_001, 30_000, 300_001, 40_000)),
      );
      for (const x of many) {
        expect(hdr(x.res.headers, 'x-req-sha')).toBe(patternSha(300_001));
        expect(x.sha).toBe(patternSha(300_001));
        expect(Object.fromEntries(x.trailers)['x-sha']).toBe(patternSha(300_001));
      }
    }, 150_000);
  });
}
