// HTTP/1.1's side of `h2wasm serve` under hostile connections, with its timeouts scaled
// down: sockets that say nothing, heads dribbled a byte at a time (slowloris), uploads that
// stop. A good HTTP/1.1 client is answered promptly all the while, and the server closes
// every hostile socket by its timeout (not the attacker), each with its protocol's answer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { startServe, type ServeProcess } from './serve-cli.js';
import { sleep } from '../bindings/support.js';

const T = 1000; // handshakeTimeoutMs, headerTimeoutMs, recvIdleTimeoutMs
const EACH = 150; // sockets per kind of attack

let server: ServeProcess;
beforeAll(async () => {
  server = await startServe(
    [`handshakeTimeoutMs=${T}`, `headerTimeoutMs=${T}`, `recvIdleTimeoutMs=${T}`].flatMap((s) => ['--set', s]),
  );
});
afterAll(() => server?.stop());

interface Hostile {
  socket: net.Socket;
  got: string;
  closedAt?: number;
}

function open(first: string): Promise<Hostile> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const h: Hostile = { socket, got: '' };
    socket.on('data', (d) => (h.got += d.toString('latin1')));
    socket.on('close', () => (h.closedAt = performance.now()));
    socket.on('error', () => {});
    socket.once('connect', () => {
      if (first) socket.write(first);
      resolve(h);
    });
    socket.once('error', reject);
  });
}

describe('h2wasm serve: HTTP/1.1 under hostile connections (timeouts at 1 s)', () => {
  it('a good client is answered while silent, slowloris and stalled-upload sockets are each closed by their timeout', async () => {
    const t0 = performance.now();
    const silent = await Promise.all(Array.from({ length: EACH }, () => open('')));
    const loris = await Promise.all(Array.from({ length: EACH }, () => open('GET / HTTP/1.1\r\nHost: x\r\n')));
    const uploads = await Promise.all(
      Array.from({ length: EACH }, () => open('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc')),
    );
    // The slowloris keep their heads coming, a header line every 200 ms, never the end.
    const drip = setInterval(() => {
      for (const h of loris) if (h.closedAt === undefined) h.socket.write('X-A: b\r\n');
    }, 200);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const latencies: number[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        const body = await new Promise<string>((resolve, reject) => {
          http
            .get(`${server.url}/good/${i}`, { agent }, (res) => {
              let b = '';
              res.on('data', (d) => (b += d));
              res.on('end', () => resolve(b));
            })
            .on('error', reject);
        });
        expect(body).toBe('hello from h2wasm\n');
        latencies.push(performance.now() - t);
        await sleep(50);
      }
      const deadline = performance.now() + 4 * T + 3000;
      const all = [...silent, ...loris, ...uploads];
      while (all.some((h) => h.closedAt === undefined) && performance.now() < deadline) await sleep(50);
    } finally {
      clearInterval(drip);
      agent.destroy();
    }
    latencies.sort((a, b) => a - b);
    const seen = `good client latencies (ms) ${latencies.map(Math.round)}`;
    expect(latencies[latencies.length >> 1], seen).toBeLessThan(100); // the median
    expect(latencies[latencies.length - 1], seen).toBeLessThan(1000); // the worst, on a loaded CI machine
    console.log(`http1-hostile: ${seen}`);
    const open_ = (hs: Hostile[]) => hs.filter((h) => h.closedAt === undefined).length;
    expect([open_(silent), open_(loris), open_(uploads)]).toEqual([0, 0, 0]);
    // Silent: the HTTP/2 answer to a missing preface; slowloris: node's 408 at its head timeout.
    expect(silent.filter((h) => h.got.includes('\x07\x00\x00\x00\x00\x00')).length).toBe(EACH);
    expect(loris.filter((h) => /^HTTP\/1\.1 408 /.test(h.got)).length).toBe(EACH);
    // Not before their thresholds: a timeout, not a refusal.
    for (const h of [...silent, ...uploads]) expect(h.closedAt! - t0).toBeGreaterThanOrEqual(T - 50);
    expect(server.stderr()).not.toMatch(/TypeError|RangeError|uncaught/i);
  }, 30_000);
});
