// Classification of what the decoder finds wrong with a frame (RFC 9113 §5.4): a
// connection error ends the connection (GOAWAY), a stream error ends one stream
// (RST_STREAM) and decoding goes on. One instance lives inside each decoder and is
// overwritten in place: reporting an error allocates nothing (messages are static).
import { ErrorCode } from './constants';
import { Msg, msg } from '../util/messages';

export namespace ErrorKind {
  export const NONE: u8 = 0;
  /** §5.4.2: reset `streamId` with `code`; the connection continues. */
  export const STREAM: u8 = 1;
  /** §5.4.1: send GOAWAY with `code` and close; the decoder accepts no more input. */
  export const CONNECTION: u8 = 2;
}

export class FrameError {
  kind: u8 = ErrorKind.NONE;
  /** RFC 9113 §7 error code to send. */
  code: u32 = ErrorCode.NO_ERROR;
  /** Stream to reset for a stream error; 0 for a connection error. */
  streamId: u32 = 0;
  /** Short static description, for logs and GOAWAY debug data. */
  message: string = '';

  @inline get isError(): bool {
    return this.kind != ErrorKind.NONE;
  }
  @inline get isConnection(): bool {
    return this.kind == ErrorKind.CONNECTION;
  }

  connection(code: u32, message: Msg): void {
    this.kind = ErrorKind.CONNECTION;
    this.code = code;
    this.streamId = 0;
    this.message = msg(message);
  }

  stream(code: u32, streamId: u32, message: Msg): void {
    this.kind = ErrorKind.STREAM;
    this.code = code;
    this.streamId = streamId;
    this.message = msg(message);
  }

  clear(): void {
    this.kind = ErrorKind.NONE;
    this.code = ErrorCode.NO_ERROR;
    this.streamId = 0;
    this.message = '';
  }
}
