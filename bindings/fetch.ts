// fetch() over HTTP/2 on h2wasm sessions: the standard signature and a WHATWG Response
// whose body streams from the connection. One session per origin, kept in a small pool
// and replaced once it closes or receives GOAWAY. No `node:` import: the adapter passes
// how to connect (node.ts exports the Node version).
//
// Differences from the platform fetch, by design: HTTP/2 only (a server without h2 is an
// error, not a downgrade); no content decoding (we send no accept-encoding); no cookies,
// cache or CORS. Trailers: `h2wasmTrailers(response)`.
import { abortError, type ClientResponse, type ClientSession, type RequestBody } from './client.js';
import type { ConnectionOptions } from './server-conn.js';

export type Connector = (origin: string, options: ConnectionOptions & Record<string, unknown>) => ClientSession;

/** The `code` of the error a session fails with when its origin does not speak HTTP/2
 *  (the error also has `http1: true`): fetch() then goes over HTTP/1.1. */
export const NOT_HTTP2 = 'H2WASM_NOT_HTTP2';

/** The marked error (adapters make it in connect()). */
export function notHttp2(message: string, cause?: unknown): Error & { code: string; http1: true } {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), {
    code: NOT_HTTP2,
    http1: true as const,
  });
}

/** Whether `e` says the origin does not speak HTTP/2 (see notHttp2). */
export function isNotHttp2(e: unknown): boolean {
  const m = e as { code?: unknown; http1?: unknown } | null;
  return m?.code === NOT_HTTP2 && m.http1 === true;
}

/** Extra init keys: connection options for a session this call opens (first call per origin wins). */
export interface H2RequestInit extends RequestInit {
  duplex?: 'half';
  h2?: ConnectionOptions & { rejectUnauthorized?: boolean; ca?: string | Uint8Array | (string | Uint8Array)[] };
}

/** A pooled session closes after this long without a request (as Go's DefaultTransport's
 *  IdleConnTimeout), before the servers it talks to would (h2wasm serve: 5 min). */
export const FETCH_IDLE_TIMEOUT_MS = 90_000;

const trailersOf = new WeakMap<Response, ClientResponse>();

/**
 * The trailers of a Response from h2wasm's fetch: resolves once its body was read to the
 * end (reads it to the end if nobody does); [] when none came. Rejects for a Response
 * that did not come from h2wasm's fetch (or a clone of one).
 */
export function h2wasmTrailers(response: Response): Promise<[string, string][]> {
  const r = trailersOf.get(response);
  if (!r) return Promise.reject(new TypeError('h2wasm: not a response from h2wasm fetch()'));
  return r.trailers();
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);

export interface H2Fetch {
  (input: string | URL | Request, init?: H2RequestInit): Promise<Response>;
  /** Closes every pooled session gracefully. */
  close(): Promise<void>;
  /** The pooled sessions by origin (read-only use: tests, diagnostics). */
  readonly sessions: ReadonlyMap<string, ClientSession>;
}

export function createFetch(connect: Connector): H2Fetch {
  const pool = new Map<string, ClientSession>();

  const sessionFor = (origin: string, init: H2RequestInit | undefined, fresh: boolean): ClientSession => {
    const have = pool.get(origin);
    if (have && have.isOpen && !fresh) return have;
    if (have && fresh) have.close().catch(() => {});
    const s = connect(origin, { idleTimeoutMs: FETCH_IDLE_TIMEOUT_MS, ...(init?.h2 ?? {}) });
    pool.set(origin, s);
    s.closed.then(() => {
      if (pool.get(origin) === s) pool.delete(origin);
    });
    s.ready.catch(() => {
      if (pool.get(origin) === s) pool.delete(origin);
    });
    return s;
  };

  const fetch = async function fetch(input: string | URL | Request, init?: H2RequestInit): Promise<Response> {
    let request = new Request(input as RequestInfo, init as RequestInit);
    // Replayable bodies go as bytes (retries, 307/308); anything else streams once.
    let replay: RequestBody | undefined = replayable(init?.body);
    if (replay === undefined && request.body === null) replay = null;
    const redirectMode = request.redirect;
    const signal = request.signal;
    for (let hop = 0; hop <= 20; hop++) {
      if (signal.aborted) throw abortError(signal);
      const url = new URL(request.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new TypeError(`h2wasm fetch: unsupported scheme ${url.protocol}`);
      const headers: [string, string][] = [];
      request.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name)) headers.push([name, value]);
      });
      const body: RequestBody = replay !== undefined ? replay : request.body;
      const send = (fresh: boolean) =>
        sessionFor(url.origin, init, fresh).request({
          method: request.method,
          path: url.pathname + url.search,
          authority: url.host,
          headers,
          body,
          signal,
        });
      let res: ClientResponse;
      try {
        res = await send(false);
      } catch (e) {
        // Not processed by the server (GOAWAY, REFUSED_STREAM): once more on a new connection.
        if (!(e as { retryable?: boolean }).retryable || replay === undefined) throw e;
        res = await send(true);
      }
      if (REDIRECT.has(res.status) && redirectMode !== 'manual') {
        const location = res.headers.find(([k]) => k === 'location')?.[1];
        if (location !== undefined) {
          if (redirectMode === 'error') {
            res.body[Symbol.asyncIterator]().return?.();
            throw new TypeError(`h2wasm fetch: redirect to ${location} with redirect: 'error'`);
          }
          res.body[Symbol.asyncIterator]().return?.();
          const next = new URL(location, url);
          const toGet =
            res.status === 303
              ? request.method !== 'HEAD'
              : (res.status === 301 || res.status === 302) && request.method === 'POST';
          if (!toGet && replay === undefined)
            throw new TypeError('h2wasm fetch: cannot follow a redirect with a streamed body');
          const h = new Headers(request.headers);
          if (toGet)
            for (const n of [
              'content-type',
              'content-length',
              'content-encoding',
              'content-language',
              'content-location',
            ])
              h.delete(n);
          if (next.origin !== url.origin) h.delete('authorization');
          request = new Request(next, {
            method: toGet ? 'GET' : request.method,
            headers: h,
            signal,
            redirect: redirectMode,
          });
          if (toGet) replay = null;
          continue;
        }
      }
      const responseHeaders = new Headers();
      for (const [k, v] of res.headers) {
        try {
          responseHeaders.append(k, v);
        } catch {
          /* a value Headers refuses */
        }
      }
      const nullBody = NULL_BODY.has(res.status) || request.method === 'HEAD';
      if (nullBody) res.body[Symbol.asyncIterator]().return?.();
      const response = new Response(nullBody ? null : res.stream, { status: res.status, headers: responseHeaders });
      Object.defineProperty(response, 'url', { value: url.href });
      Object.defineProperty(response, 'redirected', { value: hop > 0 });
      trailersOf.set(response, res);
      return response;
    }
    throw new TypeError('h2wasm fetch: too many redirects');
  } as H2Fetch;

  Object.defineProperty(fetch, 'sessions', { value: pool });
  fetch.close = async () => {
    const all = [...pool.values()];
    pool.clear();
    await Promise.all(all.map((s) => s.close().catch(() => {})));
  };
  return fetch;
}

function replayable(body: unknown): RequestBody | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}
