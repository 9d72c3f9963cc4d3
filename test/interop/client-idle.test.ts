// Our client as deployed: fetch() and connect() against nghttpd (a server nobody here
// wrote), h2c and TLS, through a real 26 s idle gap with the shipped defaults — the gap
// after which the first new connection used to fail with SETTINGS_TIMEOUT — and through
// server restarts; then fetch() with scaled-down timeouts, its pooled sessions idling out
// and being replaced between requests while keepalive PINGs go back and forth.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which, sha, freePort, selfSignedCert, listening, Processes, MiB } from '../examples/support.js';
import { fetch, connect, createFetch, type ClientSession, type H2RequestInit } from '../../bindings/index.js';
import { recorded, recordSkipped, skipForMissing, versionOf } from './record.js';
import { sleep } from '../bindings/support.js';
import { spawnSync } from 'node:child_process';

const peers = { nghttpd: which('nghttpd'), openssl: which('openssl') };
if (!peers.nghttpd) recordSkipped('nghttpd');
const skip = skipForMissing(
  'the client idle/restart soak',
  Object.entries(peers)
    .filter(([, p]) => !p)
    .map(([n]) => n),
);
const version = peers.nghttpd ? versionOf(spawnSync(peers.nghttpd, ['--version']).stdout.toString()) : '';
const INSECURE: H2RequestInit = { h2: { rejectUnauthorized: false } };

describe.skipIf(skip)('fetch() and connect() through idle gaps and server restarts (nghttpd)', () => {
  const procs = new Processes();
  let dir: string;
  let tls: { key: string; cert: string };
  let big: Uint8Array;
  const ports = { h2c: 0, tls: 0 };
  const servers: { h2c?: ReturnType<Processes['start']>; tls?: ReturnType<Processes['start']> } = {};

  /** Starts nghttpd on ports[kind], h2c or TLS, remembering the process to restart it. */
  async function start(kind: 'h2c' | 'tls'): Promise<void> {
    const docs = join(dir, 'docs');
    const args =
      kind === 'tls'
        ? ['-d', docs, String(ports[kind]), tls.key, tls.cert]
        : ['--no-tls', '-d', docs, String(ports[kind])];
    const s = procs.start(peers.nghttpd!, args);
    await listening(ports[kind], s.child);
    servers[kind] = s;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-client-idle-'));
    mkdirSync(join(dir, 'docs'));
    big = randomBytes(10 * MiB);
    writeFileSync(join(dir, 'docs', 'big.bin'), big);
    writeFileSync(join(dir, 'docs', 'small.txt'), 'small\n');
    tls = selfSignedCert(peers.openssl!, join(dir, 'tls'));
    ports.h2c = await freePort();
    ports.tls = await freePort();
    await start('h2c');
    await start('tls');
  }, 60_000);

  afterAll(async () => {
    await fetch.close();
    procs.stopAll();
  });

  const url = (kind: 'h2c' | 'tls', host = '127.0.0.1') =>
    `${kind === 'tls' ? 'https' : 'http'}://${host}:${ports[kind]}`;
  const init = (kind: 'h2c' | 'tls') => (kind === 'tls' ? INSECURE : undefined);

  async function viaFetch(f: typeof fetch, kind: 'h2c' | 'tls', path: string, host?: string): Promise<string> {
    const r = await f(url(kind, host) + path, init(kind));
    const body = new Uint8Array(await r.arrayBuffer());
    return `${r.status} ${sha(body)}`;
  }
  async function viaSession(s: ClientSession, path: string): Promise<string> {
    const r = await s.request({ path });
    return `${r.status} ${sha(await r.bytes())}`;
  }
  const want = (data: Uint8Array | string) => `200 ${sha(typeof data === 'string' ? Buffer.from(data) : data)}`;
  const session = (kind: 'h2c' | 'tls') => connect(url(kind), kind === 'tls' ? { rejectUnauthorized: false } : {});

  it('answers on the first try after 26 s of silence (shipped defaults), and after the server restarts', async () => {
    await recorded(
      'nghttpd',
      version,
      'h2wasm fetch()/connect() → peer server (h2c, TLS)',
      'a 26 s idle gap with the shipped defaults, then the server restarts; 10 MiB by hash',
      async () => {
        const kinds = ['h2c', 'tls'] as const;
        const sessions = { h2c: session('h2c'), tls: session('tls') };
        for (const k of kinds) {
          expect(await viaFetch(fetch, k, '/small.txt')).toBe(want('small\n'));
          expect(await viaSession(sessions[k], '/small.txt')).toBe(want('small\n'));
        }
        await sleep(26_000);
        // New connections first, before anything else has told the runtime the time: a new
        // origin for fetch() (a new pooled session) and new connect() sessions, all at once.
        const fresh = { h2c: session('h2c'), tls: session('tls') };
        const first = await Promise.all(
          kinds.flatMap((k) => [viaFetch(fetch, k, '/big.bin', 'localhost'), viaSession(fresh[k], '/small.txt')]),
        );
        expect(first).toEqual(kinds.flatMap(() => [want(big), want('small\n')]));
        for (const k of kinds) {
          await fresh[k].close();
          // The pooled session and the first connect() session, each idle 26 s.
          expect(await viaFetch(fetch, k, '/small.txt')).toBe(want('small\n'));
          expect(await viaSession(sessions[k], '/big.bin')).toBe(want(big));
        }
        // The server restarts: a pooled session that saw it go is replaced; a connect()
        // session is closed for good (a clear error), and a new one works.
        for (const k of kinds) servers[k]!.child.kill('SIGKILL');
        await sleep(200);
        await start('h2c');
        await start('tls');
        for (const k of kinds) {
          expect(await viaFetch(fetch, k, '/small.txt')).toBe(want('small\n'));
          // The socket's own error (the killed server reset it) or the session's "closed".
          await expect(sessions[k].request({ path: '/small.txt' })).rejects.toThrow(
            /closed|connection|ECONNRESET|EPIPE/i,
          );
          const fresh = session(k);
          expect(await viaSession(fresh, '/big.bin')).toBe(want(big));
          await fresh.close();
        }
      },
    );
  }, 120_000);

  it('fetch() with scaled timeouts: pooled sessions idle out and are replaced between requests, PINGs answered', async () => {
    const f = createFetch((origin, options) => connect(origin, { ...options, unrefWhenIdle: true }));
    const scaled = { idleTimeoutMs: 800, keepaliveIntervalMs: 300, keepaliveTimeoutMs: 1000, settingsTimeoutMs: 1000 };
    const seen = new Set<ClientSession>();
    try {
      for (let round = 0; round < 5; round++) {
        for (const k of ['h2c', 'tls'] as const) {
          const r = await f(url(k) + '/small.txt', { ...init(k), h2: { ...(init(k)?.h2 ?? {}), ...scaled } });
          expect(`${r.status} ${sha(new Uint8Array(await r.arrayBuffer()))}`).toBe(want('small\n'));
          seen.add(f.sessions.get(new URL(url(k)).origin)!);
        }
        await sleep(1200);
      }
      // Every round found the last session closed by its idle timeout and opened a new one.
      expect(seen.size).toBe(10);
    } finally {
      await f.close();
    }
  }, 60_000);
});
