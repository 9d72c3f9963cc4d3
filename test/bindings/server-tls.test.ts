// A node:http2 client against our serve() over h2c and over TLS (ALPN h2, a certificate
// made at test time): bodies of every awkward size both ways, byte for byte.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http2 from 'node:http2';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { serve, type Server } from '../../bindings/index.js';

const SIZES = [0, 1, 16383, 16384, 16385, 1 << 20, 64 << 20];
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
if (!hasOpenssl) console.log('server-tls: openssl not installed, the TLS cases are skipped');

function bodyOf(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 997) b[i] = (i / 997) & 0xff;
  return b;
}

async function startEcho(tls?: { cert: Buffer; key: Buffer }): Promise<Server> {
  // Answers with the request body's sha256, then a body of the size asked in the path.
  return serve({
    port: 0,
    tls,
    handler: async (req, res) => {
      const h = createHash('sha256');
      for await (const c of req.body()) h.update(c);
      const size = Number(req.path.slice(1));
      await res.respond(200, [['x-request-sha256', h.digest('hex')]], bodyOf(size));
    },
  });
}

async function exchange(client: http2.ClientHttp2Session, size: number) {
  const upload = bodyOf(size);
  const req = client.request({ ':method': 'POST', ':path': `/${size}` });
  req.end(upload);
  const parts: Buffer[] = [];
  let requestSha = '';
  req.on('response', (h) => {
    requestSha = String(h['x-request-sha256']);
  });
  req.on('data', (d) => parts.push(d));
  await new Promise((r, j) => {
    req.on('end', r);
    req.on('error', j);
  });
  return { requestSha, uploadSha: sha(upload), body: Buffer.concat(parts) };
}

describe.each([
  ['h2c', false],
  ['TLS', true],
] as const)('node:http2 client → serve() over %s', (_name, secure) => {
  let server: Server;
  let client: http2.ClientHttp2Session;
  beforeAll(async () => {
    if (secure && !hasOpenssl) return;
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (secure) {
      const dir = mkdtempSync(join(tmpdir(), 'h2wasm-tls-'));
      const gen = spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]);
      expect(gen.status).toBe(0);
      tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    }
    server = await startEcho(tls);
    client = http2.connect(server.url, secure ? { rejectUnauthorized: false } : {});
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it.skipIf(secure && !hasOpenssl).each(SIZES)(
    '%i bytes each way, byte for byte',
    async (size) => {
      const r = await exchange(client, size);
      expect(r.requestSha).toBe(r.uploadSha);
      expect(r.body.length).toBe(size);
      expect(sha(r.body)).toBe(sha(bodyOf(size)));
    },
    60000,
  );
});
