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
