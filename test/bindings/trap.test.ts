// A trap in the module instance (a bug: every size a peer or host decides is checked
// first) must not end the server: the instance is not called again, its connections fail
// at once with a clear error, one line says so, and the next connection is served by a
// fresh instance of the same compiled module. The trap is injected where a real one
// surfaces: an export call throwing WebAssembly.RuntimeError.
import { describe, it, expect, vi } from 'vitest';
import http2 from 'node:http2';
import { serve, runtime } from '../../bindings/index.js';

function get(url: string, session?: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = session ?? http2.connect(url);
    client.on('error', reject);
    const req = client.request({ ':path': '/' });
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => {
        client.close();
        resolve(Number(h[':status']));
      });
    });
    req.on('error', (e) => {
      client.destroy();
      reject(e);
    });
    req.on('close', () => reject(new Error(`stream closed without a response (rst ${req.rstCode})`)));
  });
}

/** Makes the next h2_executor_poll of `rt` throw as a trapping export would (the exports
 *  object is frozen: `rt` gets a copy whose poll traps once). */
function armTrap(rt: ReturnType<typeof runtime>): void {
  const real = rt.ex;
  const fake: Record<string, unknown> = {};
  for (const key of Object.keys(real)) fake[key] = (real as Record<string, unknown>)[key];
  let armed = true;
  fake.h2_executor_poll = (exec: number) => {
    if (!armed) return real.h2_executor_poll(exec);
    armed = false;
    throw new WebAssembly.RuntimeError('unreachable (injected)');
  };
  (rt as { ex: unknown }).ex = fake;
}

describe('a trap in the module instance', () => {
  it("fails that instance's connections, says so once, and serves the next connection from a fresh instance", async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const server = await serve({ port: 0, handler: (_req, res) => res.respond(200, [], 'ok') });
    try {
      expect(await get(server.url)).toBe(200);
      // A connection on the instance (serve() gives a connection to the engine once its
      // first bytes say HTTP/2: the server's SETTINGS show it has been).
      const session = http2.connect(server.url);
      await new Promise((r) => session.once('remoteSettings', r));
      const before = runtime();
      armTrap(before);
      // The request whose poll traps: its connection fails (an error, not a hang).
      await expect(get(server.url, session)).rejects.toThrow();
      expect(before.broken?.message).toMatch(/injected/);
      expect(log.mock.calls.filter((c) => /trapped/.test(String(c[0])))).toHaveLength(1);
      // The next connection: a fresh instance of the same compiled module.
      expect(await get(server.url)).toBe(200);
      expect(runtime()).not.toBe(before);
      expect(runtime().broken).toBeUndefined();
    } finally {
      await server.close();
      log.mockRestore();
    }
  });
});
