// A node:http2 client for the serve({ fetch }) suites: one request, its status, fields and body.
import http2 from 'node:http2';

export interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** Whether any DATA came (a HEAD answer must have none). */
  dataFrames: number;
}

export function call(
  client: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Uint8Array | string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined });
    let h: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let dataFrames = 0;
    req.on('response', (x) => {
      h = x;
    });
    req.on('data', (d: Buffer) => {
      dataFrames++;
      chunks.push(d);
    });
    req.on('end', () => resolve({ status: Number(h[':status']), headers: h, body: Buffer.concat(chunks), dataFrames }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

/** A handler making a Response of every kind of body through the global Response (native,
 *  or LightResponse once the globals are replaced), by path; BODY_KINDS lists each path and
 *  the content-type and body it must answer with, as the native Response gives them. */
export async function everyBodyKind(req: Request): Promise<Response> {
  switch (new URL(req.url).pathname) {
    case '/cloned': {
      const r = new Response('both halves');
      void r.clone().text();
      return r;
    }
    case '/read': {
      const r = new Response('already read');
      await r.text();
      return r;
    }
    case '/stream':
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode('streamed'));
            c.close();
          },
        }),
      );
    case '/blob':
      return new Response(new Blob(['a blob']));
    case '/params':
      return new Response(new URLSearchParams({ q: 'a b' }));
    default:
      return Response.json({ ok: true });
  }
}
export const BODY_KINDS: [path: string, contentType: string | undefined, body: string][] = [
  ['/cloned', 'text/plain;charset=UTF-8', 'both halves'],
  ['/read', 'text/plain;charset=UTF-8', ''],
  ['/stream', undefined, 'streamed'],
  ['/blob', undefined, 'a blob'],
  ['/params', 'application/x-www-form-urlencoded;charset=UTF-8', 'q=a+b'],
  ['/json', 'application/json', '{"ok":true}'],
];
