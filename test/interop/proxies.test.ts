// `h2wasm serve` deployed as it is in production: behind nginx (grpc_pass grpc:// and
// grpcs://, with and without an upstream keepalive pool) and haproxy (proto h2 cleartext,
// and TLS with ALPN h2, reusing idle server connections or never), and directly. Traffic with idle gaps longer than every timeout:
// one real gap of 26 s against servers with the shipped defaults (the gap that used to
// kill the first connection after it with SETTINGS_TIMEOUT, a 502 behind either proxy),
// and rounds of 2.5 s gaps against servers whose timeouts are scaled down (idle 1.5 s,
// SETTINGS 2 s, keepalive PING after 0.7 s of silence, close linger 1 s), so every
// upstream connection idles out, is closed and is replaced between rounds. 10 MiB
// downloads and uploads through every route, checked by hash. No 502, no lost request.
// Skipped in one line when nginx or haproxy is not installed (.ci/run installs both).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http2 from 'node:http2';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which, run, listening, freePort, selfSignedCert, Processes, MiB, sha } from '../examples/support.js';
import { sleep } from '../bindings/support.js';
import { startServe, type ServeProcess } from './serve-cli.js';
import { record, recordSkipped, skipForMissing, versionOf } from './record.js';
import { nginxConf } from './nginx-conf.js';

const SBIN = ['/usr/sbin', '/usr/local/sbin'];
const peers = {
  nginx: which('nginx', SBIN),
  haproxy: which('haproxy', SBIN),
  curl: which('curl'),
  openssl: which('openssl'),
};
const missing = Object.entries(peers)
  .filter(([, p]) => !p)
  .map(([n]) => n);
for (const n of ['nginx', 'haproxy']) if (!peers[n as keyof typeof peers]) recordSkipped(n);
const skip = skipForMissing('the proxy soak', missing);

/**
 * Server settings scaled down so that a 2.5 s gap outlasts the idle timeout, the SETTINGS
 * timeout and the keepalive interval (PINGs go both ways in every gap). The PING may take
 * 10 s: a proxy that stops reading its upstream while its own client is slow (nginx under
 * a loaded CI machine did, for over a second) does not answer sooner, and is not dead.
 */
const SCALED = [
  'idleTimeoutMs=1500',
  'settingsTimeoutMs=2000',
  'keepaliveIntervalMs=700',
  'keepaliveTimeoutMs=10000',
  'closeLingerMs=1000',
].flatMap((s) => ['--set', s]);
const REAL_GAP_MS = 26_000;
const SCALED_GAP_MS = 2500;
const SCALED_ROUNDS = 5;

interface Route {
  name: string;
  url: string;
  tls: boolean;
  scaled: boolean;
  direct: boolean;
}

/** One request on a new HTTP/2 connection (as a browser's or curl's first request). */
function request(
  route: Route,
  method: string,
  path: string,
  body?: Uint8Array,
): Promise<{ status: number; sha: string; length: number; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(route.url, { rejectUnauthorized: false });
    session.on('error', reject);
    const req = session.request({
      ':method': method,
      ':path': path,
      ...(body ? { 'content-type': 'application/octet-stream' } : {}),
    });
    const hash = createHash('sha256');
    let length = 0;
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      headers = h;
    });
    req.on('data', (d: Buffer) => {
      hash.update(d);
      length += d.length;
    });
    req.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), sha: hash.digest('hex'), length, headers });
    });
    req.on('error', (e) => {
      session.destroy();
      reject(e);
    });
    req.setTimeout(60_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    req.end(body);
  });
}

describe.skipIf(skip)('h2wasm serve behind nginx and haproxy, through idle gaps longer than every timeout', () => {
  const procs = new Processes();
  const servers: ServeProcess[] = [];
  const routes: Route[] = [];
  const failures: string[] = [];
  const counts = new Map<string, number>();
  let big: Uint8Array;
  let upload: Uint8Array;
  let versions: Record<string, string> = {};

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h2wasm-proxies-'));
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    big = randomBytes(10 * MiB);
    upload = randomBytes(10 * MiB);
    writeFileSync(join(docs, 'big.bin'), big);
    writeFileSync(join(docs, 'small.txt'), 'small\n');
    const { key, cert } = selfSignedCert(peers.openssl!, join(dir, 'tls'));
    const tls = ['--tls-cert', cert, '--tls-key', key];
    // The scaled routes share one server per transport; every route with the shipped
    // defaults has a server of its own, so nothing but its own traffic (and a proxy's own
    // idle-pool housekeeping) wakes it: the 26 s gap is silence for that process.
    const scaledServer = new Map<boolean, Promise<ServeProcess>>();
    const serverFor = async (secure: boolean, scaled: boolean): Promise<number> => {
      const start = () =>
        startServe(['--dir', docs, ...(secure ? tls : []), ...(scaled ? SCALED : [])]).then((p) => {
          servers.push(p);
          return p;
        });
      if (!scaled) return (await start()).port;
      if (!scaledServer.has(secure)) scaledServer.set(secure, start());
      return (await scaledServer.get(secure)!).port;
    };
    const variants = [
      { label: 'defaults', scaled: false, tag: 'def' },
      { label: 'scaled timeouts', scaled: true, tag: 'fast' },
    ];

    // nginx: one process, a listener per route; upstream keepalive pools for half of them.
    const ngx = join(dir, 'nginx');
    mkdirSync(ngx);
    const ngxRoutes: { port: number; pass: string; name: string; scaled: boolean; extra: string }[] = [];
    const upstreams: string[] = [];
    for (const v of variants) {
      const h2c = await serverFor(false, v.scaled);
      const h2cPool = await serverFor(false, v.scaled);
      const secure = await serverFor(true, v.scaled);
      const securePool = await serverFor(true, v.scaled);
      upstreams.push(
        `upstream ${v.tag}_h2c { server 127.0.0.1:${h2cPool}; keepalive 4; }`,
        `upstream ${v.tag}_tls { server 127.0.0.1:${securePool}; keepalive 4; }`,
      );
      ngxRoutes.push(
        {
          port: await freePort(),
          pass: `grpc://127.0.0.1:${h2c}`,
          name: `nginx grpc:// (${v.label})`,
          scaled: v.scaled,
          extra: '',
        },
        {
          port: await freePort(),
          pass: `grpc://${v.tag}_h2c`,
          name: `nginx grpc:// keepalive pool (${v.label})`,
          scaled: v.scaled,
          extra: '',
        },
        {
          port: await freePort(),
          pass: `grpcs://127.0.0.1:${secure}`,
          name: `nginx grpcs:// (${v.label})`,
          scaled: v.scaled,
          extra: 'grpc_ssl_verify off;',
        },
        {
          port: await freePort(),
          pass: `grpcs://${v.tag}_tls`,
          name: `nginx grpcs:// keepalive pool (${v.label})`,
          scaled: v.scaled,
          extra: 'grpc_ssl_verify off;',
        },
      );
    }
    writeFileSync(
      join(ngx, 'nginx.conf'),
      nginxConf(ngx, [
        ...upstreams,
        ...ngxRoutes.map(
          (r) => `server { listen 127.0.0.1:${r.port} http2; location / { grpc_pass ${r.pass}; ${r.extra} } }`,
        ),
      ]),
    );
    const nginx = procs.start(peers.nginx!, ['-p', ngx, '-c', join(ngx, 'nginx.conf'), '-e', join(ngx, 'error.log')]);
    for (const r of ngxRoutes) {
      await listening(r.port, nginx.child);
      routes.push({ name: r.name, url: `http://127.0.0.1:${r.port}`, tls: false, scaled: r.scaled, direct: false });
    }

    // haproxy: a frontend per route, h2c from the client, h2c or TLS (ALPN h2) to the server.
    // Half of them reuse idle server connections (haproxy's default), half never do.
    const hap: { port: number; server: string; reuse: string; name: string; scaled: boolean }[] = [];
    for (const v of variants) {
      for (const reuse of ['safe', 'never']) {
        const named = (what: string) => `haproxy ${what}, http-reuse ${reuse} (${v.label})`;
        hap.push(
          {
            port: await freePort(),
            server: `127.0.0.1:${await serverFor(false, v.scaled)} proto h2`,
            reuse,
            name: named('proto h2'),
            scaled: v.scaled,
          },
          {
            port: await freePort(),
            server: `127.0.0.1:${await serverFor(true, v.scaled)} ssl verify none alpn h2`,
            reuse,
            name: named('ssl alpn h2'),
            scaled: v.scaled,
          },
        );
      }
    }
    const hcfg = join(dir, 'haproxy.cfg');
    writeFileSync(
      hcfg,
      `
global
  maxconn 2000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${hap.map((r, i) => `frontend f${i}\n  bind 127.0.0.1:${r.port} proto h2\n  default_backend b${i}\nbackend b${i}\n  http-reuse ${r.reuse}\n  server s${i} ${r.server}`).join('\n')}
`,
    );
    const haproxy = procs.start(peers.haproxy!, ['-f', hcfg, '-db']);
    for (const r of hap) {
      await listening(r.port, haproxy.child);
      routes.push({ name: r.name, url: `http://127.0.0.1:${r.port}`, tls: false, scaled: r.scaled, direct: false });
    }

    for (const v of variants) {
      routes.push({
        name: `direct h2c (${v.label})`,
        url: `http://127.0.0.1:${await serverFor(false, v.scaled)}`,
        tls: false,
        scaled: v.scaled,
        direct: true,
      });
      routes.push({
        name: `direct TLS (${v.label})`,
        url: `https://127.0.0.1:${await serverFor(true, v.scaled)}`,
        tls: true,
        scaled: v.scaled,
        direct: true,
      });
    }
    versions = {
      nginx: versionOf((await run(peers.nginx!, ['-v'])).stderr),
      haproxy: versionOf((await run(peers.haproxy!, ['-v'])).stdout.toString()),
      curl: versionOf((await run(peers.curl!, ['--version'])).stdout.toString()),
    };
    console.log(
      `interop: proxy soak with nginx ${versions.nginx}, haproxy ${versions.haproxy}: ${routes.length} routes`,
    );
  }, 120_000);

  afterAll(async () => {
    procs.stopAll();
    await Promise.all(servers.map((s) => s.stop()));
  });

  /** Runs one checked exchange on `route`; a wrong status or hash is recorded, not thrown. */
  async function check(route: Route, what: string, fn: () => Promise<string | null>): Promise<void> {
    try {
      const wrong = await fn();
      if (wrong) failures.push(`${route.name}: ${what}: ${wrong}`);
      else counts.set(route.name, (counts.get(route.name) ?? 0) + 1);
    } catch (e) {
      failures.push(`${route.name}: ${what}: ${(e as Error).message}`);
    }
  }
  const small = (route: Route) =>
    check(route, 'GET /small.txt', async () => {
      const r = await request(route, 'GET', '/small.txt');
      return r.status === 200 && r.sha === sha(Buffer.from('small\n')) ? null : `status ${r.status}, ${r.length} bytes`;
    });
  const download = (route: Route) =>
    check(route, 'GET /big.bin (10 MiB)', async () => {
      const r = await request(route, 'GET', '/big.bin');
      return r.status === 200 && r.sha === sha(big) ? null : `status ${r.status}, ${r.length} bytes`;
    });
  const uploadTo = (route: Route, body: Uint8Array) =>
    check(route, `POST ${body.length} bytes`, async () => {
      const r = await request(route, 'POST', '/', body);
      return r.status === 200 && r.headers['x-received-sha256'] === sha(body)
        ? null
        : `status ${r.status}, received-sha ${String(r.headers['x-received-sha256'])}`;
    });
  /** curl, the reproduction of the report: a GET on a new connection, exit status and HTTP code. */
  const curl = (route: Route) =>
    check(route, 'curl GET /small.txt', async () => {
      const args = route.tls ? ['-sSk', '--http2'] : ['-sS', '--http2-prior-knowledge'];
      const r = await run(peers.curl!, [...args, '-w', '%{http_code}', `${route.url}/small.txt`]);
      return r.status === 0 && r.stdout.toString() === 'small\n200'
        ? null
        : `curl exit ${r.status}: ${r.stdout.toString()} ${r.stderr}`;
    });
  const everything = (route: Route) =>
    Promise.all([route.direct ? curl(route) : small(route), small(route), download(route), uploadTo(route, upload)]);

  it('answers every request through every route, before and after idle gaps (no 502, every byte)', async () => {
    // Warm: every route, everything, at once.
    await Promise.all(routes.map(everything));
    const warm = failures.length;
    // The gaps: one real 26 s gap for the shipped defaults, rounds of 2.5 s for the scaled.
    const real = routes.filter((r) => !r.scaled);
    const scaled = routes.filter((r) => r.scaled);
    await Promise.all([
      (async () => {
        await sleep(REAL_GAP_MS);
        await Promise.all(real.map(everything));
      })(),
      (async () => {
        for (let round = 0; round < SCALED_ROUNDS; round++) {
          await sleep(SCALED_GAP_MS);
          await Promise.all(scaled.map((r) => Promise.all([small(r), uploadTo(r, upload.subarray(0, MiB))])));
        }
        await Promise.all(scaled.map(everything));
      })(),
    ]);
    console.log(
      `proxy soak: ${routes.length} routes, ${[...counts.values()].reduce((a, b) => a + b, 0)} checked exchanges, ${failures.length} failures (${warm} before the gaps)\n  ` +
        routes.map((r) => `${r.name}: ${counts.get(r.name) ?? 0} ok`).join('\n  '),
    );
    for (const r of routes) {
      const peer = r.name.startsWith('nginx') ? 'nginx' : r.name.startsWith('haproxy') ? 'haproxy' : 'curl';
      const check = r.scaled
        ? 'idle gaps past every (scaled) timeout; 10 MiB each way by hash'
        : 'a 26 s idle gap with the shipped defaults; 10 MiB each way by hash';
      record(
        peer,
        versions[peer],
        `peer → h2wasm serve CLI, ${r.name}`,
        check,
        !failures.some((f) => f.startsWith(`${r.name}:`)),
      );
    }
    expect(failures).toEqual([]);
    for (const s of servers) expect(s.stderr()).not.toMatch(/handler error|RangeError|unreachable/);
  }, 240_000);
});
