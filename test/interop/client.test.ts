// Our client (`h2wasm get`) against nghttpd, a server nobody here wrote: files from 0 B
// to 256 MiB, byte for byte.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, createReadStream, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT } from '../support/wasm.js';
import { recorded, recordSkipped, versionOf } from './record.js';

const CLI = join(ROOT, 'dist', 'bindings', 'cli.js');
const nghttpd = spawnSync('sh', ['-c', 'command -v nghttpd']).stdout.toString().trim() || null;
if (!nghttpd) {
  console.log('interop: nghttpd not installed, the client-against-nghttpd tests are skipped');
  recordSkipped('nghttpd');
}
const version = nghttpd ? versionOf(spawnSync(nghttpd, ['--version']).stdout.toString()) : '';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function fileSha(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

describe.skipIf(!nghttpd)('h2wasm get ← nghttpd', () => {
  let dir: string;
  let proc: ChildProcess;
  let port: number;
  const SIZES: [string, number][] = [
    ['empty.bin', 0],
    ['one-mib.bin', 1 << 20],
    ['big.bin', 256 << 20],
  ];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-nghttpd-'));
    // Made with dd from /dev/urandom: fast, and nothing of ours writes them.
    for (const [name, size] of SIZES) {
      const r = spawnSync('dd', ['if=/dev/urandom', `of=${join(dir, name)}`, 'bs=1M', `count=${size >> 20}`], {
        timeout: 60000,
      });
      expect(r.status).toBe(0);
    }
    port = await freePort();
    proc = spawn(nghttpd!, ['--no-tls', '-d', dir, String(port)], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const c = net.connect(port, '127.0.0.1', () => {
          c.destroy();
          r(true);
        });
        c.on('error', () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 120000);
  afterAll(() => {
    proc?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(SIZES)(
    '%s (%i bytes) arrives byte for byte',
    (name, size) =>
      recorded('nghttpd', version, 'h2wasm get → peer server (h2c)', `download ${size} B by sha256`, async () => {
        const out = join(dir, `${name}.out`);
        const fd = openSync(out, 'w');
        const r = spawnSync(process.execPath, [CLI, 'get', `http://127.0.0.1:${port}/${name}`], {
          stdio: ['ignore', fd, 'pipe'],
          timeout: 120000,
        });
        closeSync(fd);
        expect(r.status, r.stderr?.toString()).toBe(0);
        expect(await fileSha(out)).toBe(await fileSha(join(dir, name)));
      }),
    180000,
  );
});
