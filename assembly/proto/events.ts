// What the engine tells the layer above, as calls on a handler it was given (nghttp2's
// session callbacks, sans allocation): field lists and DATA arrive as pointers valid only
// for the duration of the call.
import { Stream } from './stream';

export namespace HeadKind {
  /** A request head (server side) or a promised request (client side, with onPush). */
  export const REQUEST: u8 = 0;
  /** A final response head (client side). */
  export const RESPONSE: u8 = 1;
  /** A 1xx informational response (client side); more heads follow. */
  export const INFORMATIONAL: u8 = 2;
  /** Trailers, either side; END_STREAM always set. */
  export const TRAILERS: u8 = 3;
}

export abstract class Handler {
  /** A peer-initiated stream arrived with its request head (server role). */
  onRequest(stream: Stream, fields: usize, fieldsLen: u32, endStream: bool): void {}
  /** A response head, informational response or trailers arrived on `stream`. */
  onHead(stream: Stream, kind: u8, fields: usize, fieldsLen: u32, endStream: bool): void {}
  /** DATA payload (padding stripped); `len` may be 0 with END_STREAM. */
  onData(stream: Stream, data: usize, len: u32, endStream: bool): void {}
  /** The server promised `promised` (reserved remote) with the request head, on `parent`. */
  onPush(parent: Stream, promised: Stream, fields: usize, fieldsLen: u32): void {}
  /** The stream ended abnormally: reset by the peer (`remote`) or by us, refused, or cut by GOAWAY. */
  onReset(stream: Stream, code: u32, remote: bool): void {}
  /** The stream is closed and about to be forgotten: drop every reference to it. */
  onClosed(stream: Stream): void {}
  /** Our queued stream got its id and its head went out. */
  onOpened(stream: Stream): void {}
  /** More send capacity is assigned to `stream` (after reserveCapacity). */
  onCapacity(stream: Stream, capacity: u32): void {}
  /** The peer's SETTINGS were applied (and ACKed). */
  onRemoteSettings(): void {}
  /** Our SETTINGS were acknowledged. */
  onSettingsAck(): void {}
  /** The ACK of one of our PINGs arrived, `rtt` ms after it was sent. */
  onPingAck(data: u64, rtt: i64): void {}
  /** The peer sent GOAWAY. Streams above `lastStreamId` are reset with REFUSED_STREAM (retryable). */
  onGoaway(lastStreamId: u32, code: u32, debug: usize, debugLen: u32): void {}
  /** The connection failed (`code` is what we sent in GOAWAY, or the peer's) and is closed. */
  onConnectionError(code: u32, message: string, remote: bool): void {}
  /** The engine was called from outside its own I/O (a send, a reset, a ping, …): whoever
   *  drives it must run it again before sleeping. */
  touched(): void {}
}

/** A handler that ignores everything: for engines whose owner only reads state. */
export class NullHandler extends Handler {}
