// The gRPC test service h2wasm.test.Echo, defined without protoc: its FileDescriptorProto is
// built in code and turned into descriptors by @bufbuild/protobuf, typed as protoc-gen-es
// would have typed them. No `node:` import and no relative import, so that scripts under
// Deno and Bun, and esbuild bundles for a Worker or a browser page, can use it as it is;
// the grpc-js server implementing it (Node only) is grpc-echo-server.ts.
//
//   message EchoRequest  { string text = 1; int32 count = 2; int32 delay_ms = 3; }
//   message EchoResponse { string text = 1; int32 index = 2; }
//   service Echo {
//     rpc Unary(EchoRequest) returns (EchoResponse);                      // text back, index 0
//     rpc ServerStream(EchoRequest) returns (stream EchoResponse);        // count responses "text-i"
//     rpc ClientStream(stream EchoRequest) returns (EchoResponse);        // texts joined by ",", index = how many
//     rpc Bidi(stream EchoRequest) returns (stream EchoResponse);         // each request back as it arrives
//   }
import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
} from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';

export type EchoRequest = Message<'h2wasm.test.EchoRequest'> & { text: string; count: number; delayMs: number };
export type EchoResponse = Message<'h2wasm.test.EchoResponse'> & { text: string; index: number };

const field = (name: string, number: number, type: FieldDescriptorProto_Type, jsonName: string) => ({
  name,
  number,
  type,
  jsonName,
  label: FieldDescriptorProto_Label.OPTIONAL,
});
const { STRING, INT32 } = FieldDescriptorProto_Type;
const method = (name: string, clientStreaming: boolean, serverStreaming: boolean) => ({
  name,
  inputType: '.h2wasm.test.EchoRequest',
  outputType: '.h2wasm.test.EchoResponse',
  clientStreaming,
  serverStreaming,
});

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'h2wasm/test/echo.proto',
    package: 'h2wasm.test',
    syntax: 'proto3',
    messageType: [
      {
        name: 'EchoRequest',
        field: [
          field('text', 1, STRING, 'text'),
          field('count', 2, INT32, 'count'),
          field('delay_ms', 3, INT32, 'delayMs'),
        ],
      },
      { name: 'EchoResponse', field: [field('text', 1, STRING, 'text'), field('index', 2, INT32, 'index')] },
    ],
    service: [
      {
        name: 'Echo',
        method: [
          method('Unary', false, false),
          method('ServerStream', false, true),
          method('ClientStream', true, false),
          method('Bidi', true, true),
        ],
      },
    ],
  }),
  () => undefined,
);

function need<T>(what: string, x: T | undefined): T {
  if (x === undefined) throw new Error(`grpc-echo: ${what} missing from the descriptor`);
  return x;
}

export const EchoRequestSchema = need(
  'EchoRequest',
  registry.getMessage('h2wasm.test.EchoRequest'),
) as unknown as GenMessage<EchoRequest>;
export const EchoResponseSchema = need(
  'EchoResponse',
  registry.getMessage('h2wasm.test.EchoResponse'),
) as unknown as GenMessage<EchoResponse>;

type Io = { input: typeof EchoRequestSchema; output: typeof EchoResponseSchema };
export const EchoService = need('Echo', registry.getService('h2wasm.test.Echo')) as unknown as GenService<{
  unary: Io & { methodKind: 'unary' };
  serverStream: Io & { methodKind: 'server_streaming' };
  clientStream: Io & { methodKind: 'client_streaming' };
  bidi: Io & { methodKind: 'bidi_streaming' };
}>;

export type EchoClient = Client<typeof EchoService>;

/** What runEchoCalls saw, call by call. */
export interface EchoCallsResult {
  unary: string;
  serverStream: number;
  clientStream: string;
  bidi: string[];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`grpc-echo: ${what}`);
}

/**
 * One call of each kind through `client`, each checked (throws on a wrong answer): a unary,
 * a server stream of `streamCount` messages in order, a client stream of three, and a bidi
 * stream whose next request is sent only once the previous answer arrived (it cannot finish
 * on a transport that holds the request body back until it ends).
 */
export async function runEchoCalls(client: EchoClient, streamCount = 10): Promise<EchoCallsResult> {
  const u = await client.unary({ text: 'hello' });
  check(u.text === 'hello' && u.index === 0, `unary answered ${JSON.stringify(u.text)}`);

  let n = 0;
  for await (const r of client.serverStream({ text: 's', count: streamCount })) {
    check(r.index === n && r.text === `s-${n}`, `server stream message ${n} was ${r.index} ${JSON.stringify(r.text)}`);
    n++;
  }
  check(n === streamCount, `server stream gave ${n} of ${streamCount}`);

  const c = await client.clientStream(
    (async function* () {
      for (const text of ['a', 'b', 'c']) yield { text };
    })(),
  );
  check(c.text === 'a,b,c' && c.index === 3, `client stream answered ${JSON.stringify(c.text)} (${c.index})`);

  const bidi = await interleavedBidi(client, 3, 10_000);
  check(bidi.join(',') === 'm0,m1,m2', `bidi answered ${bidi.join(',')}`);

  return { unary: u.text, serverStream: n, clientStream: c.text, bidi };
}

/**
 * A bidi call of `n` requests "m0".."m{n-1}" where request i+1 is only made after answer i
 * arrived; returns the answers' texts. `timeoutMs` bounds it (a transport that does not
 * interleave fails with DeadlineExceeded instead of hanging).
 */
export async function interleavedBidi(client: EchoClient, n: number, timeoutMs: number): Promise<string[]> {
  let answered: () => void = () => {};
  async function* requests() {
    for (let i = 0; i < n; i++) {
      const next = new Promise<void>((r) => (answered = r));
      yield { text: `m${i}` };
      await next;
    }
  }
  const got: string[] = [];
  for await (const r of client.bidi(requests(), { timeoutMs })) {
    got.push(r.text);
    answered();
  }
  return got;
}
