// The WHATWG face of the server: a `fetch(request) => response` handler (Deno.serve's,
// Bun.serve's, a Hono app's) as a stream handler. No `node:` import: serve() in Node, Deno
// and Bun and a Worker's connect() handler use the same adapter.
//
// Two fast paths, as @hono/node-server has them, in code of our own:
//
// - The request the handler gets is a light object whose prototype chains to
//   Request.prototype (`instanceof Request` holds): method, url, headers (a Headers built
//   when first asked for), signal, and text()/json()/arrayBuffer()/blob()/bytes() read the
//   stream's body directly; anything else (body, clone(), formData(), cache, mode…)
//   builds the runtime's own Request once, on demand, and answers from it. Where the
//   runtime's Request cannot be constructed from such an object (`new Request(request)`,
//   `fetch(request)` read the native object's internals; checked once, at the first
//   request), every request is a native Request as before. Node 20, Deno 2 and Bun take
//   light ones.
// - A LightResponse (exported; the global Response once serve({ fetch }) runs, unless its
//   `overrideGlobalObjects` is false) keeps the body and init it was given: a string, bytes or null
//   body with its headers is answered at once, without a ReadableStream. Any other
//   Response (the runtime's own, a stream body, one whose body was touched) is read
//   through its stream, as before — unless the runtime's Response shows the string or bytes
//   it was made with (undici 6's, in Node 20: found once by a probe), then those.
import { iteratorStream, joinBytes } from './client.js';
import type { IncomingRequest, Responder, ResponseBody, StreamHandler } from './server-conn.js';

export type FetchFunction = (request: Request) => Response | Promise<Response>;

const NativeRequest: typeof Request = globalThis.Request;
const NativeResponse: typeof Response = globalThis.Response;
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

// ---- the request ----------------------------------------------------------------------------

const STATE = Symbol('h2wasm.request');

interface RequestState {
  readonly req: IncomingRequest;
  readonly res: Responder;
  readonly url: string;
  readonly method: string;
  headers?: Headers;
  /** The runtime's own Request, once something outside the fast path asked for it. */
  real?: Request;
  controller?: AbortController;
  /** The body was read by text()/arrayBuffer()/… without a native Request. */
  consumed: boolean;
}

type Light = { [STATE]: RequestState };

/** Methods a Request upper-cases (the Fetch standard's normalisation); others stay as sent. */
function normalizeMethod(method: string): string {
  switch (method) {
    case 'GET':
    case 'POST':
    case 'HEAD':
    case 'PUT':
    case 'DELETE':
    case 'OPTIONS':
    case 'PATCH':
      return method;
  }
  const upper = method.toUpperCase();
  return upper === 'DELETE' ||
    upper === 'GET' ||
    upper === 'HEAD' ||
    upper === 'OPTIONS' ||
    upper === 'POST' ||
    upper === 'PUT'
    ? upper
    : method;
}

const hasNoBody = (method: string) => method === 'GET' || method === 'HEAD';

/** The request's fields as Headers; HTTP/2's split `cookie` fields joined with '; ' (RFC 9113 §8.2.3). */
function headersOf(s: RequestState): Headers {
  if (s.headers) return s.headers;
  const fields = s.req.headers;
  let cookie: string | undefined;
  let list = fields;
  for (const [name, value] of fields) {
    if (name !== 'cookie') continue;
    if (cookie === undefined) cookie = value;
    else {
      cookie += '; ' + value;
      list = fields.filter(([n]) => n !== 'cookie');
    }
  }
  if (list !== fields) list.push(['cookie', cookie!]);
  return (s.headers = new Headers(list));
}

function controllerOf(s: RequestState): AbortController {
  if (s.controller) return s.controller;
  const controller = (s.controller = new AbortController());
  s.res.whenAborted?.(() => {
    if (!controller.signal.aborted)
      controller.abort(new DOMException('h2wasm: the stream was reset or its connection closed', 'AbortError'));
  });
  return controller;
}

/** The runtime's own Request for this one (built once). */
function materialise(s: RequestState): Request {
  if (s.real) return s.real;
  const method = s.method;
  const init: RequestInit & { duplex?: 'half' } = {
    method: method === 'TRACE' ? 'GET' : method, // a Request refuses TRACE: its method is given back below
    headers: headersOf(s),
    signal: controllerOf(s).signal,
  };
  if (!hasNoBody(method) && method !== 'TRACE') {
    init.body = s.consumed ? new ReadableStream({ start: (c) => c.close() }) : requestBody(s.req);
    init.duplex = 'half';
  }
  const real = new NativeRequest(s.url, init);
  if (method === 'TRACE') Object.defineProperty(real, 'method', { value: 'TRACE' });
  // A body read already through the fast path: the native one is used too.
  if (s.consumed && real.body) void real.arrayBuffer().catch(() => {});
  return (s.real = real);
}

const requestBody = (req: IncomingRequest) => iteratorStream(req.body()[Symbol.asyncIterator]());

const unusable = () => new TypeError('Body is unusable: the body has already been read');

/** The whole body as bytes, read straight from the stream. */
async function readBody(s: RequestState): Promise<Uint8Array> {
  if (hasNoBody(s.method)) return EMPTY;
  if (s.consumed) throw unusable();
  s.consumed = true;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of s.req.body()) {
    chunks.push(chunk);
    size += chunk.length;
  }
  return chunks.length === 0 ? EMPTY : joinBytes(chunks, size);
}

const exactBuffer = (b: Uint8Array): ArrayBuffer =>
  b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer
    ? b.buffer
    : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);

/** Reads the body through the fast path, or through the native Request once there is one. */
function consume<T>(self: Light, via: 'text' | 'arrayBuffer' | 'blob' | 'json' | 'bytes', fast: (b: Uint8Array) => T) {
  const s = self[STATE];
  if (s.real) {
    const real = s.real as unknown as Record<string, (() => Promise<T>) | undefined>;
    // bytes() is newer than some runtimes' Request (Node 20's).
    if (via === 'bytes' && !real.bytes) return s.real.arrayBuffer().then((b) => new Uint8Array(b) as T);
    return real[via]!.call(s.real);
  }
  return readBody(s).then(fast);
}

class LightRequest {
  declare [STATE]: RequestState;
  constructor(state: RequestState) {
    this[STATE] = state;
  }
  get method(): string {
    return this[STATE].method;
  }
  get url(): string {
    return this[STATE].url;
  }
  get headers(): Headers {
    return headersOf(this[STATE]);
  }
  get signal(): AbortSignal {
    return controllerOf(this[STATE]).signal;
  }
  get body(): ReadableStream<Uint8Array> | null {
    const s = this[STATE];
    if (!s.real && hasNoBody(s.method)) return null;
    return materialise(s).body;
  }
  get bodyUsed(): boolean {
    const s = this[STATE];
    return s.consumed || (s.real?.bodyUsed ?? false);
  }
  text(): Promise<string> {
    return consume(this, 'text', (b) => decoder.decode(b));
  }
  json(): Promise<unknown> {
    return consume(this, 'json', (b) => JSON.parse(decoder.decode(b)) as unknown);
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return consume(this, 'arrayBuffer', exactBuffer);
  }
  bytes(): Promise<Uint8Array> {
    return consume(this, 'bytes', (b) => b);
  }
  blob(): Promise<Blob> {
    return consume(
      this,
      'blob',
      (b) => new Blob([b as Uint8Array<ArrayBuffer>], { type: this.headers.get('content-type') ?? '' }),
    );
  }
  formData(): Promise<FormData> {
    const s = this[STATE];
    if (s.consumed) return Promise.reject(unusable());
    return materialise(s).formData();
  }
  clone(): Request {
    const s = this[STATE];
    if (s.consumed) throw unusable();
    return materialise(s).clone();
  }
}

// What needs a Request or a Response made (symbol slots, probes) waits for the first use,
// not the module's loading (a Worker's global scope).
const forwardSlots: (() => void)[] = [];
let prepared = false;
function prepare(): void {
  if (prepared) return;
  prepared = true;
  for (const forward of forwardSlots)
    try {
      forward();
    } catch {
      /* no symbol slots to forward */
    }
  nativeBodySlot = findBodySlot();
}

// Whatever else a Request has (cache, mode, redirect, keepalive…, and what a runtime adds)
// comes from the native Request; so do its internal slots where they are symbol-keyed own
// properties (undici's in Node 20, Deno's), which lets `new Request(request)` and
// `fetch(request)` take the light one.
forwardToNative(
  LightRequest.prototype,
  NativeRequest.prototype,
  () => new NativeRequest('http://h2wasm.invalid/'),
  (self) => materialise((self as Light)[STATE]),
);

function lightRequest(req: IncomingRequest, res: Responder, url: string): Request {
  return new LightRequest({
    req,
    res,
    url,
    method: normalizeMethod(req.method),
    consumed: false,
  }) as unknown as Request;
}

/** The native Request of a light one (itself for any other). */
export function nativeRequest(request: Request): Request {
  const s = (request as unknown as Partial<Light>)[STATE];
  return s ? materialise(s) : request;
}

/** Whether `new Request(light)` works here (checked once; false where the native Request
 *  reads private slots a light object cannot give): else requests are native ones. */
function lightRequestsWork(): boolean {
  try {
    const req = {
      method: 'POST',
      headers: [['x-probe', '1']],
      body: async function* () {
        yield new TextEncoder().encode('probe');
      },
    } as unknown as IncomingRequest;
    const light = lightRequest(req, {} as Responder, 'http://h2wasm.invalid/probe');
    const copy = new globalThis.Request(light);
    return copy.url === 'http://h2wasm.invalid/probe' && copy.method === 'POST' && copy.headers.get('x-probe') === '1';
  } catch {
    return false;
  }
}

let lightRequests: boolean | undefined;

// ---- the response ---------------------------------------------------------------------------

const RESPONSE = Symbol('h2wasm.response');

interface ResponseState {
  status: number;
  body: string | Uint8Array | null;
  /** The init's headers as given (a record, pairs or Headers), or the Headers built from them. */
  headers: HeadersInit | undefined;
  live?: Headers;
  real?: Response;
}

const NULL_BODY_STATUS = (s: number) => s === 101 || s === 103 || s === 204 || s === 205 || s === 304;

/**
 * A Response that keeps the string, bytes or null body and the init it was made with, so
 * that serve({ fetch }) answers it without a ReadableStream. `instanceof Response` holds;
 * status, ok and headers are its own, anything else (body, text(), clone(), statusText…)
 * comes from a native Response built on first use. Bodies of any other kind, and inits
 * that are not plain (a statusText, an invalid status), make the native one at once.
 */
export class LightResponse {
  declare [RESPONSE]: ResponseState;
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    if (!prepared) prepare();
    const status = init?.status ?? 200;
    let bytes: string | Uint8Array | null | undefined;
    if (body == null) bytes = null;
    else if (typeof body === 'string') bytes = body;
    // Copied, as a native Response copies a BufferSource: changes made after do not go out.
    else if (body instanceof Uint8Array) bytes = body.slice();
    else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body.slice(0));
    const plain =
      bytes !== undefined &&
      !init?.statusText && // HTTP/2 has no reason phrase; a native Response keeps one
      Number.isInteger(status) &&
      status >= 200 &&
      status <= 599 &&
      !(bytes !== null && NULL_BODY_STATUS(status));
    this[RESPONSE] = { status, body: bytes ?? null, headers: init?.headers };
    if (!plain) this[RESPONSE].real = new NativeResponse(body, init); // throws as the native one does
  }
  get status(): number {
    const s = this[RESPONSE];
    return s.real ? s.real.status : s.status;
  }
  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status < 300;
  }
  get headers(): Headers {
    const s = this[RESPONSE];
    if (s.real) return s.real.headers;
    if (!s.live) {
      s.live = new Headers(s.headers);
      if (typeof s.body === 'string' && !s.live.has('content-type'))
        s.live.set('content-type', 'text/plain;charset=UTF-8');
    }
    return s.live;
  }
  /** Any Response is one, as the global Response this may stand for: a native one (fetch()'s
   *  answers) too, not only those made here. */
  static [Symbol.hasInstance](value: unknown): boolean {
    // A subclass of it (class Mine extends Response, once replaced) tells its own.
    return this === LightResponse
      ? value instanceof NativeResponse
      : (Function.prototype[Symbol.hasInstance] as (v: unknown) => boolean).call(this, value);
  }
  static {
    Object.setPrototypeOf(LightResponse, NativeResponse); // Response.json(), .error(), .redirect()
  }
}

const isLight = (r: unknown): r is LightResponse => typeof r === 'object' && r !== null && RESPONSE in r;

function realResponse(r: LightResponse): Response {
  const s = r[RESPONSE];
  if (!s.real) {
    const headers = r.headers; // the live ones: changes made since construction go along
    s.real = new NativeResponse(s.body as BodyInit | null, { status: s.status, headers });
  }
  return s.real;
}

forwardToNative(
  LightResponse.prototype,
  NativeResponse.prototype,
  () => new NativeResponse(null),
  (self) => realResponse(self as LightResponse),
);

/**
 * Gives a light class's prototype every member of the native one it does not define
 * itself, answered by `real(this)`, the native object behind it: getters and methods now,
 * the native's symbol-keyed own slots (seen on `sample()`) at the first request
 * (forwardSlots); then chains it to the native prototype, so that instanceof holds.
 */
function forwardToNative(light: object, native: object, sample: () => object, real: (self: unknown) => object): void {
  const proto = light as Record<PropertyKey, unknown>;
  const of = (self: unknown) => real(self) as Record<PropertyKey, unknown>;
  const ours = new Set(Reflect.ownKeys(proto));
  for (const key of Reflect.ownKeys(native)) {
    if (ours.has(key)) continue;
    const d = Object.getOwnPropertyDescriptor(native, key)!;
    if (d.get)
      Object.defineProperty(proto, key, {
        configurable: true,
        get() {
          return of(this)[key];
        },
      });
    else if (typeof d.value === 'function')
      Object.defineProperty(proto, key, {
        configurable: true,
        writable: true,
        value(...args: unknown[]) {
          const r = of(this);
          return (r[key] as (...a: unknown[]) => unknown).apply(r, args);
        },
      });
  }
  forwardSlots.push(() => {
    for (const key of Object.getOwnPropertySymbols(sample()))
      if (!ours.has(key))
        Object.defineProperty(proto, key, {
          configurable: true,
          get() {
            return of(this)[key];
          },
          set(v: unknown) {
            of(this)[key] = v;
          },
        });
  });
  Object.setPrototypeOf(proto, native);
}

/** The native Response of a LightResponse (itself for any other). */
export function nativeResponse(response: Response): Response {
  return isLight(response) ? realResponse(response) : response;
}

/**
 * Where the runtime's own Response keeps the body it was made with, when it keeps it in a
 * symbol-keyed slot (undici 6's state, Node 20's: `{ body: { stream, source } }`):
 * found once by a probe, undefined where it is not so (then the body is read through its
 * stream). A string or bytes `source` of a body not yet read is what the stream would give.
 */
let nativeBodySlot: symbol | undefined;
const findBodySlot = () => {
  try {
    const probe = new NativeResponse('h2wasm-probe');
    for (const key of Object.getOwnPropertySymbols(probe)) {
      const state = (probe as unknown as Record<symbol, { body?: { source?: unknown; stream?: unknown } }>)[key];
      if (state?.body?.source === 'h2wasm-probe' && state.body.stream === probe.body) return key;
    }
  } catch {
    /* nothing to find */
  }
  return undefined;
};

/** The string or bytes a native Response was made with, when they can be had without its stream. */
function nativeSource(response: Response): string | Uint8Array | undefined {
  if (!nativeBodySlot) return undefined;
  const source = (response as unknown as Record<symbol, { body?: { source?: unknown } } | undefined>)[nativeBodySlot]
    ?.body?.source;
  return (typeof source === 'string' || source instanceof Uint8Array) && !response.bodyUsed ? source : undefined;
}

/** Fields of a plain init's headers as the wire wants them (names lower-cased), or undefined
 *  when they are not plain (then a Headers is built). */
function plainFields(h: HeadersInit | undefined, out: [string, string][]): boolean {
  if (h === undefined) return true;
  if (Array.isArray(h)) {
    for (const pair of h) {
      if (pair.length !== 2) return false;
      out.push([String(pair[0]).toLowerCase(), fieldValue(pair[1])]);
    }
    return true;
  }
  if (typeof h !== 'object' || h instanceof Headers || Symbol.iterator in h) return false;
  for (const name in h as Record<string, string>)
    out.push([name.toLowerCase(), fieldValue((h as Record<string, string>)[name])]);
  return true;
}

/** A value as Headers keeps it: without leading and trailing HTTP whitespace (which HTTP/2 refuses). */
function fieldValue(v: unknown): string {
  const s = String(v);
  return s.length > 0 && (s.charCodeAt(0) <= 32 || s.charCodeAt(s.length - 1) <= 32)
    ? s.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')
    : s;
}

// ---- globals (serve()'s default, as @hono/node-server's) --------------------------------------

let overridden = false;

/**
 * Replaces the global Response with LightResponse, and the global Request with a subclass
 * that takes a light request (`new Request(c.req.raw, …)`), for the whole process: every
 * `new Response('…')` then takes serve({ fetch })'s fast path. serve({ fetch }) does it
 * unless its `overrideGlobalObjects` is false (serveStreamSocket only when it is true);
 * there is no undoing it.
 */
export function overrideGlobalObjects(): void {
  if (overridden) return;
  overridden = true;
  class Request extends NativeRequest {
    /** Any Request is one (fetch()'s own, a light one), as of the global this replaces. */
    static [Symbol.hasInstance](value: unknown): boolean {
      return this === Request
        ? value instanceof NativeRequest
        : (Function.prototype[Symbol.hasInstance] as (v: unknown) => boolean).call(this, value);
    }
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(
        typeof input === 'object' && STATE in input ? materialise((input as unknown as Light)[STATE]) : input,
        init,
      );
    }
  }
  Object.defineProperty(globalThis, 'Request', { value: Request, writable: true, configurable: true });
  Object.defineProperty(globalThis, 'Response', { value: LightResponse, writable: true, configurable: true });
  lightRequests = undefined; // checked again, with this Request
}

// ---- the handler ----------------------------------------------------------------------------

/** Adapts a WHATWG fetch handler to the stream handler. */
export function fetchHandler(fetch: FetchFunction, secure = false): StreamHandler {
  return (req: IncomingRequest, res: Responder) => {
    const url = `${req.scheme || (secure ? 'https' : 'http')}://${req.authority || 'localhost'}${req.path}`;
    if (lightRequests === undefined) {
      prepare();
      lightRequests = lightRequestsWork();
    }
    const request = lightRequests ? lightRequest(req, res, url) : nativeRequestOf(req, res, url);
    const out = fetch(request);
    if (out instanceof NativeResponse) return send(out, req, res);
    return Promise.resolve(out).then((response) => send(response, req, res));
  };
}

/** A native Request for `req` (where light ones cannot be used). */
function nativeRequestOf(req: IncomingRequest, res: Responder, url: string): Request {
  return materialise({ req, res, url, method: normalizeMethod(req.method), consumed: false });
}

function send(response: Response, req: IncomingRequest, res: Responder): Promise<void> {
  if (!(response instanceof NativeResponse)) throw new TypeError('h2wasm: the fetch handler did not answer a Response');
  const head = req.method === 'HEAD';
  const light = isLight(response) ? response[RESPONSE] : undefined;
  if (light && !light.real) {
    const fields: [string, string][] = [];
    let body: ResponseBody = light.body;
    if (light.live || !plainFields(light.headers, fields)) {
      fields.length = 0;
      light.live ??= response.headers;
      light.live.forEach((value, name) => fields.push([name, value]));
    } else if (typeof body === 'string') {
      let typed = false;
      for (const f of fields) if (f[0] === 'content-type') typed = true;
      if (!typed) fields.push(['content-type', 'text/plain;charset=UTF-8']);
    }
    if (head) body = null;
    return res.respond(light.status, fields, body);
  }
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  const source = nativeSource(response);
  if (source !== undefined) return res.respond(response.status, headers, head ? null : source);
  const body = response.body;
  if (head && body) void body.cancel().catch(() => {});
  return res.respond(response.status, headers, body && !head ? streamIterable(body) : null);
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
