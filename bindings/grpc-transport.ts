// A Connect-ES transport speaking gRPC over h2wasm's HTTP/2 client: `createClient(Service,
// createGrpcTransport({ baseUrl, connect }))`. No `node:` import: each entry (Node,
// workerd, a browser…) passes how to open a session; one ClientSession per origin, pooled.
//
// Streaming calls are Connect-ES's own gRPC protocol (createTransport of
// @connectrpc/connect/protocol-grpc) over the HTTP client below: the request head goes
// out at once and the body streams as Connect produces it (client streaming and bidi
// interleave with the responses); the response head resolves the call, its body is read as
// the caller pulls (flow control applies backpressure), the trailers are filled in when
// it ends. Unary calls take a shorter road with the same steps (runUnaryCall for
// interceptors and the deadline, Connect's headers, serialization, compression and
// validation): their one message goes as bytes and the answer is read whole, without the
// chain of async generators Connect's generic path puts around every call, which costs
// more than the HTTP/2 exchange itself. An aborted signal (cancel, deadline) resets the
// stream with CANCEL. A call the server did not process (refused: GOAWAY, REFUSED_STREAM)
// goes once more on a new connection when what it had taken of its body was small.
import type {
  BinaryReadOptions,
  BinaryWriteOptions,
  DescMessage,
  DescMethodUnary,
  JsonReadOptions,
  JsonWriteOptions,
  MessageInitShape,
} from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextValues,
  type ContextValues,
  type Interceptor,
  type Transport,
  type UnaryResponse,
} from '@connectrpc/connect';
import {
  compressedFlag,
  createMethodSerializationLookup,
  createMethodUrl,
  encodeEnvelope,
  envelopeCompress,
  envelopeDecompress,
  runUnaryCall,
  validateReadWriteMaxBytes,
  type CommonTransportOptions,
  type Compression,
  type MethodSerializationLookup,
  type UniversalClientResponse,
} from '@connectrpc/connect/protocol';
import {
  createTransport,
  headerGrpcStatus,
  requestHeaderWithCompression,
  validateResponseWithCompression,
  validateTrailer,
} from '@connectrpc/connect/protocol-grpc';
import { H2ConnectionError, H2StreamError, joinBytes, type ClientResponse, type ClientSession } from './client.js';
import { webHeaders } from './http-fields.js';
import { SessionPool } from './session-pool.js';

export interface GrpcTransportOptions {
  /** Where the service lives: requests go to `${baseUrl}/${service}/${method}`. */
  baseUrl: string;
  /** Opens an HTTP/2 session to an origin ('http://host:port', 'https://host'); each
   *  entry passes its own (Node's is node.ts's connect). */
  connect: (origin: string) => ClientSession;
  /** Interceptors of every call made through this transport. */
  interceptors?: Interceptor[];
  /** Protobuf binary (application/grpc+proto, the default) or JSON (application/grpc+json,
   *  which few gRPC servers take). */
  useBinaryFormat?: boolean;
  jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
  /** Deadline of every call that sets none (sent as grpc-timeout; the call fails with
   *  DeadlineExceeded when it passes). */
  defaultTimeoutMs?: number;
  /** Response compressions offered (none by default: no codec here is portable to every
   *  runtime; pass Connect-ES Compression objects). */
  acceptCompression?: Compression[];
  /** Compression of request messages (none by default). */
  sendCompression?: Compression | null;
  /** Messages smaller than this are sent uncompressed (1 KiB by default). */
  compressMinBytes?: number;
  /** Largest response message accepted (~4 GiB by default). */
  readMaxBytes?: number;
  /** Largest request message sent (~4 GiB by default). */
  writeMaxBytes?: number;
}

/** A Connect-ES Transport that also lets go of its connections. */
export interface GrpcTransport extends Transport {
  /** Closes the pooled sessions gracefully (calls in flight finish). */
  close(): Promise<void>;
}

/** How much of a streamed request body is kept for a retry on a new connection, at most. */
export const GRPC_REPLAY_MAX_BYTES = 64 * 1024;

export function createGrpcTransport(options: GrpcTransportOptions): GrpcTransport {
  const { connect, readMaxBytes, writeMaxBytes, compressMinBytes, ...rest } = options;
  const pool = new SessionPool<undefined>((origin) => connect(origin));
  const exchange = exchanger(pool);
  const opt: CommonTransportOptions = {
    ...rest,
    httpClient: (req) => universalResponse(exchange(req.url, req.header, req.body, req.signal)),
    useBinaryFormat: options.useBinaryFormat ?? true,
    interceptors: options.interceptors ?? [],
    acceptCompression: options.acceptCompression ?? [],
    sendCompression: options.sendCompression ?? null,
    ...validateReadWriteMaxBytes(readMaxBytes, writeMaxBytes, compressMinBytes),
  };
  return {
    unary: unaryCaller(opt, exchange),
    stream: createTransport(opt).stream,
    close: () => pool.close(),
  };
}

type Body = Uint8Array | AsyncIterable<Uint8Array> | undefined;
type Exchange = (url: string, header: Headers, body: Body, signal?: AbortSignal) => Promise<ClientResponse>;

/** One HTTP/2 exchange on the pool's session to the URL's origin; a refused one goes again
 *  on a new session. Errors are ConnectErrors. */
function exchanger(pool: SessionPool<undefined>): Exchange {
  // The URL of each method, parsed once (a transport calls a handful of them).
  const targets = new Map<string, { origin: string; path: string }>();
  const target = (url: string) => {
    let t = targets.get(url);
    if (!t) {
      const u = new URL(url);
      t = { origin: u.origin, path: u.pathname + u.search };
      if (targets.size < 256) targets.set(url, t);
    }
    return t;
  };
  return async (url, header, body, signal) => {
    const { origin, path } = target(url);
    const headers: [string, string][] = [];
    header.forEach((value, name) => headers.push([name, value]));
    const replay = body && !(body instanceof Uint8Array) ? new Replay(body[Symbol.asyncIterator]()) : undefined;
    const send = (session: ClientSession) =>
      session.request({ method: 'POST', path, headers, body: replay ? replay.attempt() : body, signal });
    let session = pool.get(origin, undefined);
    try {
      return await send(session);
    } catch (e) {
      if (!(e as { retryable?: boolean }).retryable || signal?.aborted || replay?.replayable === false)
        throw grpcError(e);
      replay?.commit();
      session = pool.get(origin, undefined, session);
      try {
        return await send(session);
      } catch (e2) {
        throw grpcError(e2);
      }
    } finally {
      replay?.stop();
    }
  };
}

/** What Connect's generic (streaming) path reads: errors as ConnectErrors, the trailers
 *  filled in at the body's end; throw (Connect's abort of a pipe) and return let go of
 *  the stream (CANCEL). */
async function universalResponse(response: Promise<ClientResponse>): Promise<UniversalClientResponse> {
  const res = await response;
  const trailer = new Headers();
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      const it = res.body[Symbol.asyncIterator]();
      const ended = async (r: IteratorResult<Uint8Array>) => {
        webHeaders(await res.trailers(), trailer);
        return r;
      };
      const done: IteratorResult<Uint8Array> = { value: undefined, done: true };
      return {
        next: () =>
          it.next().then(
            (r) => (r.done ? ended(r) : r),
            (e) => Promise.reject(grpcError(e)),
          ),
        throw: async (e: unknown) => {
          await it.return?.();
          throw e;
        },
        return: async () => {
          await it.return?.();
          return done;
        },
      };
    },
  };
  return { status: res.status, header: webHeaders(res.headers), body, trailer };
}

/**
 * Transport.unary: Connect's gRPC unary call (protocol-grpc's createTransport) step by
 * step, with the request as one buffer and the response read whole.
 */
function unaryCaller(opt: CommonTransportOptions, exchange: Exchange): Transport['unary'] {
  const methods = new WeakMap<
    object,
    { url: string; serialization: MethodSerializationLookup<DescMessage, DescMessage> }
  >();
  const binary = opt.useBinaryFormat;
  return async function unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    message: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    let m = methods.get(method);
    if (!m) {
      m = {
        url: createMethodUrl(opt.baseUrl, method),
        serialization: createMethodSerializationLookup(method, opt.binaryOptions, opt.jsonOptions, opt),
      };
      methods.set(method, m);
    }
    const { url, serialization } = m;
    timeoutMs = timeoutMs === undefined ? opt.defaultTimeoutMs : timeoutMs <= 0 ? undefined : timeoutMs;
    return runUnaryCall<I, O>({
      interceptors: opt.interceptors,
      signal,
      timeoutMs,
      req: {
        stream: false,
        service: method.parent,
        method,
        requestMethod: 'POST',
        url,
        header: requestHeaderWithCompression(binary, timeoutMs, header, opt.acceptCompression, opt.sendCompression),
        contextValues: contextValues ?? createContextValues(),
        message,
      },
      next: async (req) => {
        let sent: { flags: number; data: Uint8Array } = {
          flags: 0,
          data: serialization.getI(binary).serialize(req.message),
        };
        if (opt.sendCompression && sent.data.byteLength >= opt.compressMinBytes)
          sent = await envelopeCompress(sent, opt.sendCompression, opt.compressMinBytes);
        const res = await exchange(req.url, req.header, encodeEnvelope(sent.flags, sent.data), req.signal);
        const header = webHeaders(res.headers);
        const { compression, headerError } = validateResponseWithCompression(opt.acceptCompression, res.status, header);
        let env: { flags: number; data: Uint8Array } | undefined;
        try {
          env = await unaryAnswer(res.body, opt.readMaxBytes);
        } catch (e) {
          throw e instanceof ConnectError ? e : grpcError(e);
        }
        let output: UnaryResponse<I, O>['message'] | undefined;
        if (env) {
          const raw =
            env.flags & compressedFlag ? await envelopeDecompress(env, compression ?? null, opt.readMaxBytes) : env;
          output = serialization.getO(binary).parse(raw.data) as UnaryResponse<I, O>['message'];
        }
        const trailer = webHeaders(await res.trailers());
        validateTrailer(trailer, header);
        if (output === undefined) {
          // A trailers-only response: its status is in the head.
          if (headerError) throw headerError;
          throw new ConnectError(
            'protocol error: missing output message for unary method',
            trailer.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown,
          );
        }
        if (headerError)
          throw new ConnectError(
            'protocol error: received output message for unary method with error status',
            Code.Unknown,
          );
        return { stream: false, service: method.parent, method, header, message: output, trailer };
      },
    });
  };
}

/**
 * A unary answer's one length-prefixed message (undefined when the body is empty), read
 * whole. As Connect's decoder does, a message over readMaxBytes fails as soon as its prefix
 * is in (ResourceExhausted), and so do bytes after the message (Unimplemented: a unary
 * method answers once); a body that ends inside the message is InvalidArgument.
 */
async function unaryAnswer(
  body: AsyncIterable<Uint8Array>,
  readMaxBytes: number,
): Promise<{ flags: number; data: Uint8Array } | undefined> {
  let parts: Uint8Array[] = [];
  let have = 0;
  let end = -1; // the message's end (5 + its length) once its prefix is in
  for await (const chunk of body) {
    parts.push(chunk);
    have += chunk.length;
    if (end < 0 && have >= 5) {
      parts = [joinBytes(parts, have)];
      const p = parts[0];
      const length = ((p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4]) >>> 0;
      if (length > readMaxBytes)
        throw new ConnectError(
          `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
          Code.ResourceExhausted,
        );
      end = 5 + length;
    }
    if (end >= 0 && have > end)
      throw new ConnectError('protocol error: received extra output message for unary method', Code.Unimplemented);
  }
  if (have === 0) return undefined;
  if (end < 0 || have < end) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  const all = joinBytes(parts, have);
  return { flags: all[0], data: all.subarray(5) };
}

/**
 * A streamed request body, taken once by whichever attempt is live: what the live attempt
 * took is kept (up to GRPC_REPLAY_MAX_BYTES, until the response head arrives) so that a
 * retry sends it first. Once a retry is committed, the refused attempt takes nothing more
 * and what is kept stays whatever its size; a pull it left unconsumed goes to the retry
 * (a chunk is kept when an attempt consumes it, so none is sent twice or lost).
 */
class Replay {
  private taken: Uint8Array[] | undefined = [];
  private size = 0;
  private committed = false;
  private generation = 0;
  /** The pull in flight, or resolved and not yet consumed by the live attempt. */
  private pull: Promise<IteratorResult<Uint8Array>> | undefined;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Whether every chunk taken so far is kept. */
  get replayable(): boolean {
    return this.taken !== undefined;
  }

  /** A retry goes: the current attempt is over, and what is kept is kept for it. */
  commit(): void {
    this.committed = true;
    this.generation++;
  }

  /** No retry from here on: let go of what is kept. */
  stop(): void {
    this.taken = undefined;
  }

  attempt(): AsyncIterable<Uint8Array> {
    const mine = ++this.generation;
    const replayed = this.taken ? this.taken.slice() : [];
    let at = 0;
    const over: IteratorResult<Uint8Array> = { value: undefined, done: true };
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      if (mine !== this.generation) return over;
      if (at < replayed.length) return { value: replayed[at++], done: false };
      const p = (this.pull ??= this.it.next());
      const r = await p;
      if (mine !== this.generation) return over; // retired meanwhile: the chunk is the retry's
      if (this.pull === p) this.pull = undefined;
      if (!r.done && this.taken && !this.committed) {
        this.taken.push(r.value);
        this.size += r.value.length;
        if (this.size > GRPC_REPLAY_MAX_BYTES) this.taken = undefined;
      }
      return r;
    };
    // No return(): an attempt that stops reading leaves the body to the next one (Connect
    // ends its request iterable itself when the call ends).
    return { [Symbol.asyncIterator]: () => ({ next }) };
  }
}

/** gRPC's code for an HTTP/2 stream reset (gRPC's PROTOCOL-HTTP2.md, "Errors"). */
const RESET_CODES: Record<number, Code> = {
  7: Code.Unavailable, // REFUSED_STREAM
  8: Code.Canceled, // CANCEL
  11: Code.ResourceExhausted, // ENHANCE_YOUR_CALM
  12: Code.PermissionDenied, // INADEQUATE_SECURITY
};

/** A failure of h2wasm or of the host's socket as a ConnectError with its gRPC code (an
 *  AbortError is Canceled: ConnectError.from knows it). */
function grpcError(e: unknown): ConnectError {
  let code = Code.Internal;
  if (e instanceof H2StreamError) code = e.retryable ? Code.Unavailable : (RESET_CODES[e.errorCode] ?? Code.Internal);
  else if (e instanceof H2ConnectionError) code = Code.Unavailable;
  // A host's socket error (ECONNREFUSED, a TLS failure, a server without HTTP/2): the
  // connection is not there.
  else if (typeof (e as { code?: unknown } | null)?.code === 'string') code = Code.Unavailable;
  return ConnectError.from(e, code);
}
