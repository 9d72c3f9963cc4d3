// fetch() on h2wasm sessions: the standard signature and a WHATWG Response whose body
// streams from the connection. One HTTP/2 session per origin, kept in a small pool and
// replaced once it closes or receives GOAWAY. No `node:` import: the adapter passes how
// to connect and how to send over HTTP/1.1 (node.ts exports the Node version).
//
// An origin that does not speak HTTP/2 (TLS whose ALPN did not pick h2; a cleartext
// server that answers the h2c preface in HTTP/1.x) is remembered as HTTP/1.1 for
// FETCH_PROTOCOL_TTL_MS, and this and later requests to it go through the adapter's
// HTTP/1.1 sender, one exchange per hop:
// the same Response, redirects followed by the same loop. Differences from the platform
// fetch, by design: no content decoding (we send no accept-encoding); no cookies, cache
// or CORS. Trailers (both protocols): `h2wasmTrailers(response)`.
import { abortError, iteratorStream, type ClientResponse, type ClientSession, type RequestBody } from './client.js';
import type { ConnectionOptions } from './server-conn.js';
import { CONNECTION_FIELDS, webHeaders } from './http-fields.js';
import { SessionPool } from './session-pool.js';

export type Connector = (origin: string, options: ConnectionOptions & Record<string, unknown>) => ClientSession;

/** TLS settings of `init.h2` that an HTTP/1.1 sender honours where it can. */
export interface Http1Tls {
  rejectUnauthorized?: boolean;
  ca?: string | Uint8Array | (string | Uint8Array)[];
  servername?: string;
}

/** One HTTP/1.1 exchange for the adapter's sender: no redirect following of its own. */
export interface Http1Request {
  method: string;
  /** The absolute URL. */
  url: string;
  headers: [string, string][];
  body: RequestBody;
  signal?: AbortSignal;
  tls?: Http1Tls;
}

/** What a sender answers: the shape of ClientResponse that fetch() reads. */
export type Http1Response = Pick<ClientResponse, 'status' | 'headers' | 'body' | 'stream' | 'trailers'>;

/** Sends one request over HTTP/1.1; `close` lets go of what it pools (fetch.close() calls it). */
export interface Http1Sender {
  (request: Http1Request): Promise<Http1Response>;
  close?(): void | Promise<void>;
}

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

/**
 * Watches a client connection's first bytes for an HTTP/1.x status line where the server's
 * SETTINGS should be (an HTTP/1.1 server answers the h2c preface with 400, then closes).
 * Feed it each chunk read: undefined while undecided, null once the bytes are not HTTP/1.x
 * (stop feeding), or the NOT_HTTP2 error to fail the session with.
 */
export function http1AnswerWatch(host: string): (chunk: Uint8Array) => Error | null | undefined {
  const want = 'HTTP/1.';
  let seen = '';
  return (chunk) => {
    for (let i = 0; i < chunk.length && seen.length < want.length; i++) seen += String.fromCharCode(chunk[i]);
    if (seen !== want) return want.startsWith(seen) ? undefined : null;
    const head = String.fromCharCode(...chunk.subarray(0, 80));
    const line = /^HTTP\/1\.\d [^\r\n]{0,60}/.exec(head)?.[0] ?? 'HTTP/1.x';
    return notHttp2(`${host} did not negotiate HTTP/2: it answered the h2c preface in HTTP/1.1 ("${line}")`);
  };
}

/** Whether `e` says the origin does not speak HTTP/2 (see notHttp2). */
export function isNotHttp2(e: unknown): boolean {
  const m = e as { code?: unknown; http1?: unknown } | null;
  return m?.code === NOT_HTTP2 && m.http1 === true;
}

/** Extra init keys: connection options for a session this call opens (first call per origin
 *  wins); the TLS ones also apply to each HTTP/1.1 exchange. */
export interface H2RequestInit extends RequestInit {
  duplex?: 'half';
  h2?: ConnectionOptions & Http1Tls;
}

/** A pooled session closes after this long without a request (as Go's DefaultTransport's
 *  IdleConnTimeout), before the servers it talks to would (h2wasm serve: 5 min). */
export const FETCH_IDLE_TIMEOUT_MS = 90_000;

/** How long an origin found to speak HTTP/1.1 only is asked over HTTP/1.1 before HTTP/2 is
 *  offered to it again (createFetch's protocolTtlMs). */
export const FETCH_PROTOCOL_TTL_MS = 10 * 60_000;

const trailersOf = new WeakMap<Response, Http1Response>();

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

export interface H2Fetch {
  (input: string | URL | Request, init?: H2RequestInit): Promise<Response>;
  /** Closes every pooled session gracefully, lets go of the HTTP/1.1 sender's connections
   *  and forgets which origins speak HTTP/1.1. */
  close(): Promise<void>;
  /** The pooled sessions by origin (read-only use: tests, diagnostics). */
  readonly sessions: ReadonlyMap<string, ClientSession>;
}

/**
 * fetch() over `connect`'s sessions; an origin that does not speak HTTP/2 goes through
 * `http1` (default: one hop of the platform's fetch with redirect: 'manual', which cannot
 * take `init.h2`'s TLS settings and may decode content).
 */
export function createFetch(
  connect: Connector,
  http1?: Http1Sender,
  options: { protocolTtlMs?: number } = {},
): H2Fetch {
  const pool = new SessionPool<H2RequestInit | undefined>((origin, init) =>
    connect(origin, { idleTimeoutMs: FETCH_IDLE_TIMEOUT_MS, ...(init?.h2 ?? {}) }),
  );
  // The origins found not to speak HTTP/2, until when: HTTP/2 is offered again after
  // protocolTtlMs (a server upgraded, or a deploy's HTTP/1.1-only moment, must not pin an
  // origin for the life of the process), as Alt-Svc entries expire.
  const http1Until = new Map<string, number>();
  const ttl = options.protocolTtlMs ?? FETCH_PROTOCOL_TTL_MS;
  const speaksHttp1 = (origin: string) => {
    const until = http1Until.get(origin);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    http1Until.delete(origin);
    return false;
  };
  const sendHttp1: Http1Sender = http1 ?? ((r) => platformHttp1(r, fetch));

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
        if (!CONNECTION_FIELDS.has(name)) headers.push([name, value]);
      });
      const body: RequestBody = replay !== undefined ? replay : request.body;
      // The session the last attempt used: a retry replaces it in the pool.
      let used: ClientSession | undefined;
      const send = async (stale?: ClientSession): Promise<Http1Response> => {
        if (!speaksHttp1(url.origin)) {
          const session = (used = pool.get(url.origin, init, stale));
          // Settled before the body is handed over: a failed h2 attempt takes no stream.
          const h2 = await session.ready.then(
            () => true,
            (e: unknown) => {
              if (!isNotHttp2(e)) throw e;
              http1Until.set(url.origin, Date.now() + ttl);
              return false;
            },
          );
          if (h2)
            return session.request({
              method: request.method,
              path: url.pathname + url.search,
              authority: url.host,
              headers,
              body,
              signal,
            });
        }
        const o = init?.h2;
        return sendHttp1({
          method: request.method,
          url: url.href,
          headers,
          body,
          signal,
          tls: o && { rejectUnauthorized: o.rejectUnauthorized, ca: o.ca, servername: o.servername },
        });
      };
      let res: Http1Response; // what fetch reads of a response: a ClientResponse is one too
      try {
        res = await send();
      } catch (e) {
        // Not processed by the server (GOAWAY, REFUSED_STREAM): once more on a new connection.
        if (!(e as { retryable?: boolean }).retryable || replay === undefined) throw e;
        res = await send(used);
      }
      if (REDIRECT.has(res.status) && redirectMode !== 'manual') {
        const location = res.headers.find(([k]) => k === 'location')?.[1];
        if (location !== undefined) {
          if (redirectMode === 'error') {
            res.body[Symbol.asyncIterator]().return?.();
            throw new TypeError(`h2wasm fetch: redirect to ${location} with redirect: 'error'`);
          }
          // Awaited: an HTTP/1.1 connection is free for the next hop once the body is dropped.
          await res.body[Symbol.asyncIterator]().return?.();
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
      const responseHeaders = webHeaders(res.headers);
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

  Object.defineProperty(fetch, 'sessions', { value: pool.sessions });
  fetch.close = async () => {
    http1Until.clear();
    await Promise.all([pool.close(), sendHttp1.close?.()]);
  };
  return fetch;
}

/**
 * A response of one exchange from its body's chunks (an HTTP/1.1 sender's answer): the
 * body read once, as `body` or as `stream`; trailers() once it ended (reads it to its end
 * if nobody does). Breaking off calls `chunks.return`.
 */
export function http1Response(
  status: number,
  headers: [string, string][],
  chunks: AsyncIterator<Uint8Array>,
  trailers: () => [string, string][] = () => [],
): Http1Response {
  let started = false;
  let ended = false;
  let failure: unknown;
  let readable: ReadableStream<Uint8Array> | undefined;
  const waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const settle = (e?: unknown) => {
    for (const w of waiters.splice(0)) {
      if (e === undefined) w.resolve();
      else w.reject(e);
    }
  };
  const iterator = (): AsyncIterator<Uint8Array> => {
    if (started) throw new TypeError('h2wasm: the response body was already read');
    started = true;
    return {
      next: async () => {
        if (ended) return { value: undefined, done: true };
        if (failure !== undefined) throw failure;
        try {
          const r = await chunks.next();
          if (r.done) {
            ended = true;
            settle();
          }
          return r;
        } catch (e) {
          failure = e;
          settle(e);
          throw e;
        }
      },
      return: async () => {
        if (!ended && failure === undefined) {
          failure = new TypeError('h2wasm: the response body was not read to its end');
          await chunks.return?.();
          settle(failure);
        }
        return { value: undefined, done: true };
      },
    };
  };
  const body: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: iterator };
  return {
    status,
    headers,
    body,
    get stream() {
      readable ??= iteratorStream(iterator());
      return readable;
    },
    async trailers() {
      if (!started) for await (const _ of body) void _;
      else if (!ended) {
        if (failure !== undefined) throw failure;
        await new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      }
      return trailers();
    },
  };
}

/** The default HTTP/1.1 sender: one hop of the platform's fetch. */
async function platformHttp1(r: Http1Request, self: H2Fetch): Promise<Http1Response> {
  const platform = globalThis.fetch;
  if (typeof platform !== 'function' || platform === (self as unknown))
    throw new TypeError(`h2wasm fetch: ${new URL(r.url).origin} does not speak HTTP/2 and there is no HTTP/1.1 sender`);
  const res = await platform(r.url, {
    method: r.method,
    headers: r.headers,
    body: r.body as BodyInit | null | undefined,
    redirect: 'manual',
    signal: r.signal,
    duplex: 'half',
  } as RequestInit);
  // A browser hides a redirect it did not follow (status 0): nothing to follow it by.
  if (res.type === 'opaqueredirect')
    throw new TypeError(`h2wasm fetch: this runtime's fetch does not show the redirect of ${r.url}`);
  const headers: [string, string][] = [];
  res.headers.forEach((value, name) => headers.push([name, value]));
  const reader = res.body?.getReader();
  return http1Response(res.status, headers, {
    next: async () => {
      if (!reader) return { value: undefined, done: true };
      const { value, done } = await reader.read();
      return done ? { value: undefined, done: true } : { value, done: false };
    },
    return: async () => {
      await reader?.cancel();
      return { value: undefined, done: true };
    },
  });
}

function replayable(body: unknown): RequestBody | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}
