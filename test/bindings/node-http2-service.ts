// The gRPC service of the node-http2 suite, shared by its server (the suite, plain
// @grpc/grpc-js on node:http2) and its client (node-http2-client.ts, @grpc/grpc-js on
// h2wasm/node-http2). No protobuf: messages are raw bytes (identity serializers).
import { createHash } from 'node:crypto';
import { pattern as bytesOf } from '../support/rng.js';

const identity = (b: Buffer) => b;

/** A grpc-js method definition whose messages are raw bytes (also test/interop/grpc.test.ts's). */
export function rawMethod(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

const method = (name: string, requestStream: boolean, responseStream: boolean) =>
  rawMethod(`/h2wasm.test.Echo/${name}`, requestStream, responseStream);

export const SERVICE = {
  /** Echoes the message. */
  Unary: method('Unary', false, false),
  /** { count, size } → `count` messages of `size` bytes (message i: pattern(size, i)). */
  ServerStream: method('ServerStream', false, true),
  /** Messages → { count, bytes, sha256 } of them all. */
  ClientStream: method('ClientStream', true, false),
  /** Echoes each message as it arrives. */
  Bidi: method('Bidi', true, true),
  /** Answers the client's x-client metadata; sends initial metadata and trailers of its own. */
  Meta: method('Meta', false, false),
  /** Fails with NOT_FOUND, a message with a non-ASCII character, and trailing metadata. */
  Fail: method('Fail', false, false),
  /** Never answers: ends when the client cancels or its deadline passes (x-tag names it). */
  Slow: method('Slow', false, false),
  /** { ms } → answers after that long. */
  Sleep: method('Sleep', false, false),
};

export type MethodName = keyof typeof SERVICE;

/** Deterministic bytes: message `seed` of a stream (the suites' pattern, as a Buffer). */
export const pattern = (size: number, seed: number): Buffer => {
  const bytes = bytesOf(size, seed);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
};

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export const FAIL_DETAILS = 'no widget named café';
