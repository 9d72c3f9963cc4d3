// serve()'s res.push (RFC 9113 §8.4) against node:http2's client: a promised request with
// its own response when the client takes pushes, null when it disabled them.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import { serve } from '../../bindings/node.js';

async function pushingServer() {
  const outcomes: string[] = [];
  const server = await serve({
    port: 0,
    handler: async (_req, res) => {
      const pushed = res.push('/style.css', [['accept', 'text/css']]);
      outcomes.push(pushed ? 'pushed' : 'refused');
      await pushed?.respond(200, [['content-type', 'text/css']], 'body { color: red }');
      await res.respond(200, [['content-type', 'text/html']], '<link rel=stylesheet href=/style.css>');
    },
  });
  return { server, outcomes };
}

describe('serve(): res.push', () => {
  it('promises a request node:http2 receives with its response, before the page ends', async () => {
    const { server, outcomes } = await pushingServer();
    const client = http2.connect(server.url);
    try {
      const pushes: { path: string; accept: string; type: string; body: string }[] = [];
      const pushDone = new Promise<void>((resolve) => {
        client.on('stream', (stream, headers) => {
          const entry = { path: String(headers[':path']), accept: String(headers.accept), type: '', body: '' };
          pushes.push(entry);
          stream.on('push', (h) => (entry.type = String(h['content-type'])));
          stream.setEncoding('utf8');
          stream.on('data', (d: string) => (entry.body += d));
          stream.on('end', () => resolve());
        });
      });
      const req = client.request({ ':path': '/' });
      let page = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (page += d));
      await new Promise((r) => req.on('end', r));
      await pushDone;
      expect(outcomes).toEqual(['pushed']);
      expect(page).toBe('<link rel=stylesheet href=/style.css>');
      expect(pushes).toEqual([
        { path: '/style.css', accept: 'text/css', type: 'text/css', body: 'body { color: red }' },
      ]);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('returns null when the client disabled push, and the page is answered all the same', async () => {
    const { server, outcomes } = await pushingServer();
    const client = http2.connect(server.url, { settings: { enablePush: false } });
    try {
      let streams = 0;
      client.on('stream', () => streams++);
      const req = client.request({ ':path': '/' });
      let page = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (page += d));
      await new Promise((r) => req.on('end', r));
      expect(outcomes).toEqual(['refused']);
      expect(page).toBe('<link rel=stylesheet href=/style.css>');
      expect(streams).toBe(0);
    } finally {
      client.close();
      await server.close();
    }
  });
});
