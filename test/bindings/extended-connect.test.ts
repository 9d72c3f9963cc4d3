// Extended CONNECT (RFC 8441) through the TypeScript API, both ways against node:http2:
// a WebSocket conversation tunnelled over one HTTP/2 stream (RFC 6455 frames, text only,
// short), the client's frames masked as RFC 6455 requires of clients.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect, serve } from '../../bindings/node.js';

/** One RFC 6455 text frame (FIN, payload under 126 bytes), masked when a client sends it. */
function wsFrame(text: string, masked: boolean): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const mask = masked ? Uint8Array.of(0x11, 0x22, 0x33, 0x44) : new Uint8Array(0);
  const out = new Uint8Array(2 + mask.length + payload.length);
  out[0] = 0x81;
  out[1] = (masked ? 0x80 : 0) | payload.length;
  out.set(mask, 2);
  for (let i = 0; i < payload.length; i++) out[2 + mask.length + i] = payload[i] ^ (masked ? mask[i % 4] : 0);
  return out;
}

/** The text frames in `bytes` (whole frames only), unmasked. */
function wsTexts(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at + 2 <= bytes.length;) {
    const masked = (bytes[at + 1] & 0x80) !== 0;
    const len = bytes[at + 1] & 0x7f;
    const start = at + 2 + (masked ? 4 : 0);
    if (start + len > bytes.length) break;
    const p = bytes.slice(start, start + len);
    if (masked) for (let i = 0; i < len; i++) p[i] ^= bytes[at + 2 + (i % 4)];
    out.push(new TextDecoder().decode(p));
    at = start + len;
  }
  return out;
}

/** An async iterable the test feeds; end() finishes it. */
function channel() {
  const queue: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  return {
    push(b: Uint8Array) {
      queue.push(b);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length) yield queue.shift()!;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

describe('extended CONNECT (RFC 8441): WebSocket over HTTP/2', () => {
  it('the client opens a tunnel to node:http2 with protocol: websocket and talks through it', async () => {
    const node = http2.createServer({ settings: { enableConnectProtocol: true } });
    const seen: string[] = [];
    node.on('stream', (stream, headers) => {
      seen.push(`${headers[':method']} ${headers[':protocol']} ${headers[':path']}`);
      stream.respond({ ':status': 200 });
      stream.on('data', (d: Buffer) => {
        for (const text of wsTexts(d)) stream.write(wsFrame(`echo: ${text}`, false));
      });
      stream.on('end', () => stream.end());
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const session = connect(`http://127.0.0.1:${(node.address() as AddressInfo).port}`);
    try {
      const out = channel();
      const res = await session.request({ path: '/chat', protocol: 'websocket', body: out });
      expect(res.status).toBe(200);
      const texts: string[] = [];
      const reading = (async () => {
        for await (const chunk of res.body) {
          texts.push(...wsTexts(chunk));
          if (texts.length === 1) out.push(wsFrame('second', true));
          if (texts.length === 2) out.end();
        }
      })();
      out.push(wsFrame('hello', true));
      await reading;
      expect(seen).toEqual(['CONNECT websocket /chat']);
      expect(texts).toEqual(['echo: hello', 'echo: second']);
    } finally {
      await session.close();
      await new Promise((r) => node.close(r));
    }
  });

  it('serve() with enableConnectProtocol takes a tunnel from node:http2: req.protocol, both directions', async () => {
    const server = await serve({
      port: 0,
      settings: { enableConnectProtocol: true },
      handler: async (req, res) => {
        if (req.method !== 'CONNECT' || req.protocol !== 'websocket') return res.respond(400);
        await res.respond(
          200,
          [],
          (async function* () {
            for await (const chunk of req.body())
              for (const text of wsTexts(chunk)) yield wsFrame(`echo: ${text}`, false);
          })(),
        );
      },
    });
    const client = http2.connect(server.url);
    try {
      await new Promise((r) => client.once('remoteSettings', r));
      expect(client.remoteSettings.enableConnectProtocol).toBe(true);
      const authority = new URL(server.url).host;
      const stream = client.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':scheme': 'http',
          ':path': '/chat',
          ':authority': authority,
        },
        { endStream: false },
      );
      const status = await new Promise((r) => stream.on('response', (h) => r(h[':status'])));
      expect(status).toBe(200);
      const texts: string[] = [];
      const done = new Promise<void>((resolve) => {
        stream.on('data', (d: Buffer) => {
          texts.push(...wsTexts(d));
          if (texts.length === 1) stream.write(wsFrame('two', true));
          if (texts.length === 2) stream.end();
        });
        stream.on('end', () => resolve());
      });
      stream.write(wsFrame('one', true));
      await done;
      expect(texts).toEqual(['echo: one', 'echo: two']);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('a server that did not enable it: the request fails without being sent', async () => {
    const node = http2.createServer();
    let streams = 0;
    node.on('stream', (s) => {
      streams++;
      s.respond({ ':status': 200 });
      s.end();
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const session = connect(`http://127.0.0.1:${(node.address() as AddressInfo).port}`);
    try {
      await (await session.request({ path: '/' })).text(); // the settings have arrived
      await expect(session.request({ path: '/chat', protocol: 'websocket', body: channel() })).rejects.toThrow();
      expect(streams).toBe(1);
    } finally {
      await session.close();
      await new Promise((r) => node.close(r));
    }
  });
});
