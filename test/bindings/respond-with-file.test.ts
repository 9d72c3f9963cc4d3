// res.respondWithFile: a file through zero-copy DATA from the TypeScript server (the bytes go
// from the file into each outgoing frame, never into the module), against node:http2's
// client and curl, byte for byte; a missing file is the handler's error before anything
// is sent; a client that goes away mid-file resets the stream and frees the source.
import { describe, it, expect, afterAll } from 'vitest';
import http2 from 'node:http2';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { serve } from '../../bindings/index.js';

const dir = mkdtempSync(join(tmpdir(), 'h2wasm-rwf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function fileServer() {
  const errors: unknown[] = [];
  const server = await serve({
    port: 0,
    onError: (e) => errors.push(e),
    handler: (req, res) =>
      res.respondWithFile(join(dir, req.path.slice(1)), [['content-type', 'application/octet-stream']]),
  });
  return { server, errors };
}

function get(url: string, path: string): Promise<{ status: number; length: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(url);
    const req = client.request({ ':path': path });
    const chunks: Buffer[] = [];
    let status = 0;
    let length = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
      length = String(h['content-length']);
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      client.close();
      resolve({ status, length, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
  });
}

describe('respondWithFile (zero-copy from a file)', () => {
  it('node:http2 gets each file byte for byte with its content-length (0 B, 1 KiB, 5 MiB)', async () => {
    const files = { empty: randomBytes(0), small: randomBytes(1024), big: randomBytes(5 << 20) };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const { server, errors } = await fileServer();
    try {
      for (const [name, data] of Object.entries(files)) {
        const r = await get(server.url, `/${name}`);
        expect(r.status).toBe(200);
        expect(r.length).toBe(String(data.length));
        expect(sha(r.body), name).toBe(sha(data));
      }
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('curl gets the 5 MiB file byte for byte', async () => {
    const data = randomBytes(5 << 20);
    writeFileSync(join(dir, 'curl.bin'), data);
    const { server } = await fileServer();
    try {
      // Not spawnSync: the server runs in this process's event loop.
      const out = await new Promise<Buffer>((resolve, reject) =>
        execFile(
          'curl',
          ['-s', '--http2-prior-knowledge', `${server.url}/curl.bin`],
          { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 30_000 },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      expect(sha(out)).toBe(sha(data));
    } finally {
      await server.close();
    }
  });

  it('a missing file: the handler throws before anything is sent, and the stream is reset', async () => {
    const { server, errors } = await fileServer();
    try {
      await expect(get(server.url, '/nope')).rejects.toThrow();
      expect(errors.length).toBe(1);
      expect(String(errors[0])).toMatch(/ENOENT/);
    } finally {
      await server.close();
    }
  });

  it('a client that goes away mid-file: the response ends and the server serves the next one', async () => {
    const data = randomBytes(8 << 20);
    writeFileSync(join(dir, 'cut.bin'), data);
    const { server } = await fileServer();
    try {
      const client = http2.connect(server.url);
      const req = client.request({ ':path': '/cut.bin' });
      await new Promise<void>((resolve) => req.once('data', () => resolve()));
      req.close(http2.constants.NGHTTP2_CANCEL);
      client.close();
      const again = await get(server.url, '/cut.bin');
      expect(sha(again.body)).toBe(sha(data));
    } finally {
      await server.close();
    }
  });
});
