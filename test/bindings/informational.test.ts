// 1xx responses through the TypeScript API, both ways against node:http2: serve()'s
// res.informational() (103 Early Hints) as node's client sees it, and the client's
// onInformational hook hearing node's server send 103 and 100 before the final response.
import { describe, it, expect } from 'vitest';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect, serve } from '../../bindings/node.js';

describe('1xx responses', () => {
  it("serve(): res.informational(103, …) reaches node:http2's client before the final response", async () => {
    const server = await serve({
      port: 0,
      handler: async (_req, res) => {
        res.informational(103, [['link', '</style.css>; rel=preload; as=style']]);
        await res.respond(200, [['content-type', 'text/plain']], 'final');
      },
    });
    const client = http2.connect(server.url);
    try {
      const events: string[] = [];
      const req = client.request({ ':path': '/' });
      req.on('headers', (h) => events.push(`${h[':status']} ${h.link}`));
      req.on('response', (h) => events.push(`${h[':status']}`));
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      await new Promise((r) => req.on('end', r));
      expect(events).toEqual(['103 </style.css>; rel=preload; as=style', '200']);
      expect(body).toBe('final');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('the client: onInformational hears 103 and 100 from node:http2, in order, before the response', async () => {
    const node = http2.createServer();
    node.on('stream', (stream) => {
      stream.additionalHeaders({ ':status': 103, link: '</a.js>; rel=preload' });
      stream.additionalHeaders({ ':status': 100 });
      stream.respond({ ':status': 200 });
      stream.end('done');
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const port = (node.address() as AddressInfo).port;
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const heard: [number, [string, string][]][] = [];
      let headAt = -1;
      const res = await session.request({
        path: '/',
        onInformational: (status, headers) => heard.push([status, headers]),
      });
      headAt = heard.length;
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('done');
      expect(heard).toEqual([
        [103, [['link', '</a.js>; rel=preload']]],
        [100, []],
      ]);
      expect(headAt).toBe(2); // both heard before the response resolved
      // A request without the hook hears nothing and works the same.
      const plain = await session.request({ path: '/' });
      expect(await plain.text()).toBe('done');
      expect(heard).toHaveLength(2);
    } finally {
      await session.close();
      await new Promise((r) => node.close(r));
    }
  });
});
