// The WHATWG face of the server: a `fetch(request) => response` handler (Deno.serve's,
// Bun.serve's, a Hono app's) as a stream handler. No `node:` import: serve() in Node, Deno
// and Bun and a Worker's connect() handler use the same adapter.
import { iteratorStream } from './client.js';
import type { IncomingRequest, Responder, StreamHandler } from './server-conn.js';

/** Adapts a WHATWG fetch handler to the stream handler. */
export function fetchHandler(
  fetch: (request: Request) => Response | Promise<Response>,
  secure: boolean,
): StreamHandler {
  return async (req: IncomingRequest, res: Responder) => {
    const url = `${req.scheme || (secure ? 'https' : 'http')}://${req.authority || 'localhost'}${req.path}`;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const body = hasBody ? iteratorStream(req.body()[Symbol.asyncIterator]()) : null;
    const request = new Request(url, { method: req.method, headers: req.headers, body, duplex: 'half' } as RequestInit);
    const response = await fetch(request);
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => headers.push([name, value]));
    await res.respond(response.status, headers, response.body ? streamIterable(response.body) : null);
  };
}

/** The stream's reader as an async iterable: read() already answers { value, done }, so
 *  no generator sits between it and the respond loop. */
function streamIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      const reader = stream.getReader();
      return {
        next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
        return: async () => {
          await reader.cancel();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
