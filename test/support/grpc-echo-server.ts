// The Echo service of grpc-echo.ts served by @grpc/grpc-js on 127.0.0.1 (Node only), for
// the gRPC transport's tests and bench/grpc.mjs. Its method definitions (grpc-js's own
// serializers over the same protobuf schemas) also make a grpc-js client.
//
// What the server does beyond echoing, for the tests to check:
// - response metadata: `x-echo-header` (the request's `x-client` value, "none" without
//   one) and trailers `x-trailer` (the method name), on success and on error;
// - `text: "fail"` answers INVALID_ARGUMENT "fail requested" (Unary, ServerStream);
// - `delay_ms` waits before answering (Unary, ServerStream: before the first message);
// - every call the client cancelled is recorded (its method and request text);
// - every call's peer (the client's address:port) is recorded: one per connection.
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EchoRequestSchema, EchoResponseSchema, type EchoRequest, type EchoResponse } from './grpc-echo.js';

const serializeResponse = (m: EchoResponse) => Buffer.from(toBinary(EchoResponseSchema, m));
const deserializeResponse = (b: Buffer) => fromBinary(EchoResponseSchema, b);
const serializeRequest = (m: EchoRequest) => Buffer.from(toBinary(EchoRequestSchema, m));
const deserializeRequest = (b: Buffer) => fromBinary(EchoRequestSchema, b);

const definition = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/h2wasm.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: serializeRequest,
  requestDeserialize: deserializeRequest,
  responseSerialize: serializeResponse,
  responseDeserialize: deserializeResponse,
});

/** grpc-js's service definition of Echo (server and client alike). */
export const echoGrpcJsDefinition = {
  Unary: definition('Unary', false, false),
  ServerStream: definition('ServerStream', false, true),
  ClientStream: definition('ClientStream', true, false),
  Bidi: definition('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export const response = (text: string, index: number): EchoResponse => create(EchoResponseSchema, { text, index });
export const request = (text: string, count = 0, delayMs = 0): EchoRequest =>
  create(EchoRequestSchema, { text, count, delayMs });

export interface EchoServer {
  readonly port: number;
  readonly url: string;
  /** "Method text" of every call the client cancelled. */
  readonly cancelled: string[];
  /** The peers (client address:port) calls came from: one per connection. */
  readonly peers: Set<string>;
  /** Calls whose handler started. */
  readonly calls: number;
  /** GOAWAY to every connection (they finish what they have); still listening. */
  drain(): void;
  /** Stops now: every connection is closed. */
  stop(): Promise<void>;
}

/** What every kind of server call has (grpc-js does not export the type). */
interface SurfaceCall {
  readonly metadata: grpc.Metadata;
  getPeer(): string;
  sendMetadata(metadata: grpc.Metadata): void;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** Messages up to this size both ways (grpc-js's default is 4 MiB, less than a test's). */
const MAX_MESSAGE = 64 << 20;

export async function startEchoServer(port = 0): Promise<EchoServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE,
    'grpc.max_send_message_length': MAX_MESSAGE,
  });
  const cancelled: string[] = [];
  const peers = new Set<string>();
  let calls = 0;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  const begin = (name: string, call: SurfaceCall, text: () => string) => {
    calls++;
    peers.add(call.getPeer());
    const headers = new grpc.Metadata();
    const client = call.metadata.get('x-client')[0];
    headers.set('x-echo-header', client === undefined ? 'none' : String(client));
    call.sendMetadata(headers);
    const state = { cancelled: false };
    call.on('cancelled', () => {
      state.cancelled = true;
      cancelled.push(`${name} ${text()}`);
    });
    const trailer = new grpc.Metadata();
    trailer.set('x-trailer', name);
    return { state, trailer };
  };
  const failure = (trailer: grpc.Metadata): Partial<grpc.StatusObject> => ({
    code: grpc.status.INVALID_ARGUMENT,
    details: 'fail requested',
    metadata: trailer,
  });

  server.addService(echoGrpcJsDefinition, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
      const req = call.request;
      const { state, trailer } = begin('Unary', call, () => req.text);
      const answer = () => {
        if (state.cancelled) return;
        if (req.text === 'fail') callback(failure(trailer), null);
        else callback(null, response(req.text, 0), trailer);
      };
      if (req.delayMs > 0) setTimeout(answer, req.delayMs);
      else answer();
    },
    ServerStream: async (call: grpc.ServerWritableStream<EchoRequest, EchoResponse>) => {
      const req = call.request;
      const { state, trailer } = begin('ServerStream', call, () => req.text);
      if (req.delayMs > 0) await sleep(req.delayMs);
      if (state.cancelled) return;
      if (req.text === 'fail') return void call.emit('error', failure(trailer));
      // Paced by the client's reading (a slow reader holds the writer back); a cancelled
      // call wakes the writer too.
      let wake = () => {};
      call.on('cancelled', () => wake());
      for (let i = 0; i < req.count && !state.cancelled; i++) {
        if (!call.write(response(`${req.text}-${i}`, i)))
          await new Promise<void>((r) => {
            wake = r;
            call.once('drain', r);
          });
      }
      if (!state.cancelled) call.end(trailer);
    },
    ClientStream: (
      call: grpc.ServerReadableStream<EchoRequest, EchoResponse>,
      callback: grpc.sendUnaryData<EchoResponse>,
    ) => {
      const texts: string[] = [];
      const { trailer } = begin('ClientStream', call, () => texts.join(','));
      call.on('data', (m: EchoRequest) => texts.push(m.text));
      call.on('end', () => callback(null, response(texts.join(','), texts.length), trailer));
    },
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoResponse>) => {
      let n = 0;
      let last = '';
      const { trailer } = begin('Bidi', call, () => last);
      call.on('data', (m: EchoRequest) => {
        last = m.text;
        call.write(response(m.text, n++));
      });
      call.on('end', () => call.end(trailer));
    },
  });

  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    cancelled,
    peers,
    get calls() {
      return calls;
    },
    drain: () => server.drain(`127.0.0.1:${bound}`, 5000),
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

export interface EchoGrpcJsClient extends grpc.Client {
  Unary(request: EchoRequest, callback: grpc.requestCallback<EchoResponse>): grpc.ClientUnaryCall;
}

/** A grpc-js client of Echo (the peer bench/grpc.mjs measures against). */
export function echoGrpcJsClient(url: string, options: grpc.ClientOptions = {}): EchoGrpcJsClient {
  const Ctor = grpc.makeGenericClientConstructor(echoGrpcJsDefinition, 'Echo');
  return new Ctor(new URL(url).host, grpc.credentials.createInsecure(), options) as unknown as EchoGrpcJsClient;
}
