// `h2wasm serve` behind proxies that speak HTTP/1.x to their upstream, as most deployments'
// defaults do: haproxy (HTTP/1.1 to the server, with an HTTP health check every 100 ms,
// which marks a server that cannot answer it DOWN) and nginx (proxy_pass: HTTP/1.0 with
// Connection: close by default; HTTP/1.1 with an upstream keepalive pool). Through each:
// GETs, a 10 MiB upload checked by the server's hash, and the same upload with
// Expect: 100-continue in under 0.5 s. Skipped in one line when a proxy is missing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which, run, listening, freePort, Processes } from '../examples/support.js';
import { pattern, sha, sleep } from '../bindings/support.js';
import { startServe, type ServeProcess } from './serve-cli.js';
import { recorded, skipForMissing, versionOf } from './record.js';
import { nginxConf } from './nginx-conf.js';

const SBIN = ['/usr/sbin', '/usr/local/sbin'];
const peers = { nginx: which('nginx', SBIN), haproxy: which('haproxy', SBIN), curl: which('curl') };
const missing = Object.entries(peers)
  .filter(([, p]) => !p)
  .map(([n]) => n);

if (!skipForMissing('h2wasm serve behind HTTP/1.x proxies', missing)) {
  describe('h2wasm serve behind proxies speaking HTTP/1.x upstream', () => {
    const procs = new Processes();
    const dir = mkdtempSync(join(tmpdir(), 'h2wasm-h1-proxies-'));
    const upload = pattern(10 << 20, 11);
    const uploadFile = join(dir, 'upload.bin');
    writeFileSync(uploadFile, upload);
    let server: ServeProcess;
    const routes: { name: string; peer: 'haproxy' | 'nginx'; url: string }[] = [];
    const versions: Record<string, string> = {};

    beforeAll(async () => {
      server = await startServe();
      const ngx = join(dir, 'nginx');
      mkdirSync(ngx);
      const [n10, n11, hap] = [await freePort(), await freePort(), await freePort()];
      writeFileSync(
        join(ngx, 'nginx.conf'),
        nginxConf(
          ngx,
          [
            'proxy_request_buffering off;',
            `upstream pool { server 127.0.0.1:${server.port}; keepalive 8; }`,
            `server { listen 127.0.0.1:${n10}; location / { proxy_pass http://127.0.0.1:${server.port}; } }`,
            `server { listen 127.0.0.1:${n11}; location / { proxy_pass http://pool; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
          ],
          256,
        ),
      );
      const nginx = procs.start(peers.nginx!, ['-p', ngx, '-c', join(ngx, 'nginx.conf'), '-e', join(ngx, 'error.log')]);
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(
        cfg,
        `global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend f
  bind 127.0.0.1:${hap}
  default_backend b
backend b
  option httpchk GET /health
  http-check expect status 200
  server s 127.0.0.1:${server.port} check inter 100ms fall 1 rise 1
`,
      );
      const haproxy = procs.start(peers.haproxy!, ['-f', cfg, '-db']);
      await listening(n10, nginx.child);
      await listening(n11, nginx.child);
      await listening(hap, haproxy.child);
      // Several health checks have run: one that failed would have marked the server DOWN (503s).
      await sleep(600);
      routes.push(
        {
          name: 'haproxy, HTTP/1.1 upstream, health check GET /health',
          peer: 'haproxy',
          url: `http://127.0.0.1:${hap}`,
        },
        { name: 'nginx proxy_pass (HTTP/1.0, Connection: close)', peer: 'nginx', url: `http://127.0.0.1:${n10}` },
        { name: 'nginx proxy_pass, HTTP/1.1 keepalive pool', peer: 'nginx', url: `http://127.0.0.1:${n11}` },
      );
      versions.haproxy = versionOf((await run(peers.haproxy!, ['-v'])).stdout.toString());
      versions.nginx = versionOf((await run(peers.nginx!, ['-v'])).stderr);
    });
    afterAll(async () => {
      procs.stopAll();
      await server?.stop();
    });

    /** curl through a route; the last line of stdout is "<status> <seconds>". */
    const curl = async (args: string[]) => {
      const r = await run(peers.curl!, ['-sS', '-D', '-', '-w', '\n%{response_code} %{time_total}', ...args]);
      expect(r.status, r.stderr).toBe(0);
      const out = r.stdout.toString('latin1');
      const at = out.lastIndexOf('\n');
      const [status, seconds] = out
        .slice(at + 1)
        .split(' ')
        .map(Number);
      return { out: out.slice(0, at), status, seconds };
    };

    it('GETs, a 10 MiB upload by hash and an Expect: 100-continue upload in under 0.5 s, through every route', async () => {
      for (const route of routes) {
        await recorded(
          route.peer,
          versions[route.peer],
          `${route.name} → h2wasm serve`,
          'GET ×20, 10 MiB POST by sha256, Expect: 100-continue POST < 0.5 s',
          async () => {
            for (let i = 0; i < 20; i++) {
              const r = await curl([`${route.url}/n/${i}`]);
              expect([r.status, r.out.endsWith('hello from h2wasm\n')], route.name).toEqual([200, true]);
            }
            const post = await curl(['--data-binary', `@${uploadFile}`, `${route.url}/`]);
            expect(/x-received-sha256: (\w+)/i.exec(post.out)?.[1], route.name).toBe(sha(upload));
            const expect100 = await curl([
              '-H',
              'Expect: 100-continue',
              '--data-binary',
              `@${uploadFile}`,
              `${route.url}/`,
            ]);
            expect(/x-received-sha256: (\w+)/i.exec(expect100.out)?.[1], route.name).toBe(sha(upload));
            expect(expect100.seconds, route.name).toBeLessThan(0.5);
          },
        );
      }
    }, 120_000);
  });
}
