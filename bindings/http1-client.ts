// The HTTP/1.1 sender of fetch() on Node (and of `h2wasm get`), for an origin that does
// not speak HTTP/2 (fetch.ts): one exchange per call over node:http / node:https
// request(), no redirect following (fetch's loop follows them hop by hop), no content
// decoding (as the HTTP/2 path). Keep-alive agents per origin; the request body streams
// with the socket's backpressure; the response's trailers come through trailers(). Not
// Node's global fetch: it cannot take `ca` / `rejectUnauthorized` without the undici package.
import http from 'node:http';
import https from 'node:https';
import { abortError, type RequestBody } from './client.js';
import {
  FETCH_IDLE_TIMEOUT_MS,
  http1Response,
  type Http1Request,
  type Http1Response,
  type Http1Sender,
} from './fetch.js';
import { NO_BODY_STATUS, rawPairs, socketAddress } from './http-fields.js';

/** A response body not read at all is drained (the connection is kept) up to this size;
 *  a longer one, or one broken off mid-way, closes its connection. */
const DRAIN_LIMIT = 64 * 1024;
/** Methods whose request may go again when a kept-alive connection turned out closed. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * A sender with its own keep-alive agents, one per origin. An idle connection closes
 * after FETCH_IDLE_TIMEOUT_MS, or a second before the server's `Keep-Alive: timeout`
 * says it would; a request that finds a kept connection closed under it goes once more
 * on a new one when it can (an idempotent method with a body in bytes, no response yet).
 */
export function http1Sender(): Http1Sender {
  const agents = new Map<string, http.Agent>();
  const send = (r: Http1Request): Promise<Http1Response> => {
    const url = new URL(r.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return Promise.reject(new TypeError(`h2wasm: unsupported URL scheme ${url.protocol} (http: or https:)`));
    let agent = agents.get(url.origin);
    if (!agent) {
      const options = { keepAlive: true, timeout: FETCH_IDLE_TIMEOUT_MS };
      agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
      agents.set(url.origin, agent);
    }
    return exchange(r, url, agent, true);
  };
  send.close = () => {
    for (const a of agents.values()) a.destroy();
    agents.clear();
  };
  return send;
}

function exchange(r: Http1Request, url: URL, agent: http.Agent, mayRetry: boolean): Promise<Http1Response> {
  const signal = r.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const method = r.method.toUpperCase();
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of r.headers) {
    const name = k.toLowerCase();
    const have = headers[name];
    headers[name] = have === undefined ? v : [...(Array.isArray(have) ? have : [have]), v];
  }
  const body = r.body;
  const bytes =
    typeof body === 'string'
      ? Buffer.from(body)
      : body instanceof Uint8Array
        ? body
        : body instanceof ArrayBuffer
          ? new Uint8Array(body)
          : null;
  const streamed = body != null && bytes === null;
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    // Framed always: Node would send a streamed DELETE's body unframed.
    if (streamed) headers['transfer-encoding'] = 'chunked';
    else if ((bytes && bytes.length > 0) || method === 'POST' || method === 'PUT' || method === 'PATCH')
      headers['content-length'] = String(bytes?.length ?? 0);
  }
  const secure = url.protocol === 'https:';
  const tls = r.tls ?? {};
  return new Promise<Http1Response>((resolve, reject) => {
    let req: http.ClientRequest;
    try {
      const options: https.RequestOptions & { ALPNProtocols?: string[] } = {
        method,
        hostname: socketAddress(url).host,
        port: url.port || (secure ? 443 : 80),
        path: url.pathname + url.search,
        headers,
        agent,
      };
      if (secure) {
        options.ALPNProtocols = ['http/1.1'];
        if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
        if (tls.ca !== undefined) options.ca = tls.ca as https.RequestOptions['ca'];
        if (tls.servername !== undefined) options.servername = tls.servername;
      }
      req = (secure ? https : http).request(options);
    } catch (e) {
      reject(e); // a header value Node refuses
      return;
    }
    let answered = false;
    const onAbort = () => req.destroy(abortError(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const unlisten = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (answered) return; // the body reports it
      unlisten();
      if (signal?.aborted) reject(abortError(signal));
      else if (mayRetry && req.reusedSocket && !streamed && IDEMPOTENT.has(method) && closedUnder(e))
        resolve(exchange(r, url, agent, false));
      else reject(e);
    });
    req.on('response', (res) => {
      answered = true;
      resolve(responseOf(req, res, method, signal, unlisten));
    });
    writeBody(req, bytes, streamed ? body : null).catch((e) => req.destroy(e as Error));
  });
}

/** What a request on a kept-alive connection the server has just closed fails with. */
function closedUnder(e: NodeJS.ErrnoException): boolean {
  return e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.message === 'socket hang up';
}

async function writeBody(req: http.ClientRequest, bytes: Uint8Array | null, body: RequestBody): Promise<void> {
  if (bytes) {
    req.end(bytes);
    return;
  }
  if (body == null) {
    req.end();
    return;
  }
  const it = isReadableStream(body) ? readerIterable(body) : (body as AsyncIterable<Uint8Array>);
  for await (const chunk of it) {
    if (req.destroyed) return; // leaving the loop cancels the source
    const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (c.length && !req.write(c)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          req.off('drain', go);
          req.off('close', go);
          resolve();
        };
        req.on('drain', go);
        req.on('close', go);
      });
    }
  }
  if (!req.destroyed) req.end();
}

function responseOf(
  req: http.ClientRequest,
  res: http.IncomingMessage,
  method: string,
  signal: AbortSignal | undefined,
  unlisten: () => void,
): Http1Response {
  const headers = rawPairs(res.rawHeaders);
  // Read on demand (the socket pauses while nobody reads): created by the first next().
  let source: AsyncIterator<Buffer> | undefined;
  const chunks: AsyncIterator<Uint8Array> = {
    next: async () => {
      source ??= res[Symbol.asyncIterator]();
      try {
        const r = await source.next();
        if (r.done) unlisten();
        return r;
      } catch (e) {
        unlisten();
        throw signal?.aborted ? abortError(signal) : e;
      }
    },
    return: async () => {
      unlisten();
      if (source)
        await source.return?.(); // mid-way: the connection closes
      else await drain(req, res, method);
      return { value: undefined, done: true };
    },
  };
  return http1Response(res.statusCode ?? 0, headers, chunks, () => rawPairs(res.rawTrailers));
}

/** Reads and drops a body nobody wants, so that its connection is kept; resolves when it
 *  ended, or when it proved longer than DRAIN_LIMIT (then the connection is closed). */
function drain(req: http.ClientRequest, res: http.IncomingMessage, method: string): Promise<void> {
  const length = Number(res.headers['content-length'] ?? 0);
  if (method !== 'HEAD' && !NO_BODY_STATUS.has(res.statusCode ?? 0) && !(length <= DRAIN_LIMIT)) {
    req.destroy();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    let n = 0;
    res.on('data', (d: Buffer) => {
      n += d.length;
      if (n > DRAIN_LIMIT) req.destroy();
    });
    res.once('end', resolve);
    res.once('close', resolve);
    res.resume();
  });
}

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof (x as ReadableStream | null)?.getReader === 'function';
}

async function* readerIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
