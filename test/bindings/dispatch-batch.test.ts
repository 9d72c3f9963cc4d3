// Handlers run after the executor's turn, the turn's requests together: a handler that
// answers at once (no await) must not make each answer its own write. Counted on the
// server's socket writes for 100 requests that arrive together (node:http2 writes through
// its native handle, so every JS socket write here is the server's).
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import net from 'node:net';
import { serve } from '../../bindings/index.js';

describe('dispatch after the turn', () => {
  it('100 requests answered synchronously go out in a few writes, not one each', async () => {
    const server = await serve({ port: 0, handler: (_req, res) => void res.respond(200, [], 'x') });
    const client = http2.connect(server.url);
    await new Promise((r) => client.once('remoteSettings', r));
    const write = net.Socket.prototype.write;
    let writes = 0;
    net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
      writes++;
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof write;
    try {
      await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<void>((resolve, reject) => {
              const req = client.request({ ':path': '/' });
              req.on('data', () => {});
              req.on('end', resolve).on('error', reject);
              req.end();
            }),
        ),
      );
    } finally {
      net.Socket.prototype.write = write;
    }
    client.close();
    await server.close();
    // One write per turn of answers (a handful); answered inside the turn it was 100.
    expect(writes).toBeLessThan(20);
  });
});
