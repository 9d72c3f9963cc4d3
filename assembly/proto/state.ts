// Stream states and their transitions (RFC 9113 §5.1), as pure functions so the rules
// read like the RFC's diagram and are tested alone. The connection decides what to do
// with a verdict (reset the stream, end the connection, ignore the frame).
import { FrameType, ErrorCode } from '../frame/constants';

export namespace StreamState {
  export const IDLE: u8 = 0;
  export const RESERVED_LOCAL: u8 = 1;
  export const RESERVED_REMOTE: u8 = 2;
  export const OPEN: u8 = 3;
  export const HALF_CLOSED_LOCAL: u8 = 4;
  export const HALF_CLOSED_REMOTE: u8 = 5;
  export const CLOSED: u8 = 6;
}

/** What receiving a frame in a state means. */
export namespace Verdict {
  export const ACCEPT: u8 = 0;
  /** Not an error, but nothing to do (e.g. PRIORITY anywhere, late frames after our RST_STREAM). */
  export const IGNORE: u8 = 1;
  /** Stream error with `verdictCode` (§5.4.2). */
  export const STREAM_ERROR: u8 = 2;
  /** Connection error with `verdictCode` (§5.4.1). */
  export const CONNECTION_ERROR: u8 = 3;
}

// A verdict travels as one u32: the kind in the low byte, the RFC 9113 error code above.
@inline function fail(kind: u8, code: u32): u32 {
  return (code << 8) | (<u32>kind);
}
@inline export function verdictKind(verdict: u32): u8 {
  return <u8>(verdict & 0xff);
}
@inline export function verdictErrorCode(verdict: u32): u32 {
  return verdict >>> 8;
}

/** How a stream reached CLOSED: the rules for late frames differ (§5.1 "closed"). */
export namespace ClosedBy {
  /** Both sides sent END_STREAM. */
  export const END_STREAM: u8 = 0;
  /** We sent RST_STREAM: the peer may not have seen it yet. */
  export const LOCAL_RESET: u8 = 1;
  /** The peer sent RST_STREAM. */
  export const REMOTE_RESET: u8 = 2;
}

/**
 * May a frame of `type` arrive on a stream in `state`? (§5.1). For CLOSED, `closedBy`
 * tells how the stream got there. Returns a verdict: read it with verdictKind /
 * verdictErrorCode.
 */
export function checkReceive(state: u8, type: u8, closedBy: u8): u32 {
  if (type == FrameType.PRIORITY) return <u32>Verdict.ACCEPT; // allowed in every state
  switch (state) {
    case StreamState.IDLE:
      // Only HEADERS (and PRIORITY) may open a stream; anything else is a connection error.
      return type == FrameType.HEADERS ? <u32>Verdict.ACCEPT : fail(Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR);
    case StreamState.RESERVED_LOCAL:
      return type == FrameType.RST_STREAM || type == FrameType.WINDOW_UPDATE
        ? <u32>Verdict.ACCEPT
        : fail(Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR);
    case StreamState.RESERVED_REMOTE:
      return type == FrameType.HEADERS || type == FrameType.RST_STREAM
        ? <u32>Verdict.ACCEPT
        : fail(Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR);
    case StreamState.OPEN:
    case StreamState.HALF_CLOSED_LOCAL:
      return <u32>Verdict.ACCEPT;
    case StreamState.HALF_CLOSED_REMOTE:
      return type == FrameType.WINDOW_UPDATE || type == FrameType.RST_STREAM
        ? <u32>Verdict.ACCEPT
        : fail(Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED);
    default: // CLOSED
      // Frames the peer sent before it saw our RST_STREAM are ignored.
      if (closedBy == ClosedBy.LOCAL_RESET) return <u32>Verdict.IGNORE;
      if (closedBy == ClosedBy.REMOTE_RESET) return fail(Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED);
      // After END_STREAM both ways, WINDOW_UPDATE and RST_STREAM can still cross in
      // flight and are ignored; anything else is a connection error.
      if (type == FrameType.WINDOW_UPDATE || type == FrameType.RST_STREAM) return <u32>Verdict.IGNORE;
      return fail(Verdict.CONNECTION_ERROR, ErrorCode.STREAM_CLOSED);
  }
}

/** State after we send HEADERS (opening or answering) with or without END_STREAM. */
export function afterSendHeaders(state: u8, endStream: bool): u8 {
  switch (state) {
    case StreamState.IDLE:
      return endStream ? StreamState.HALF_CLOSED_LOCAL : StreamState.OPEN;
    case StreamState.RESERVED_LOCAL:
      return endStream ? StreamState.CLOSED : StreamState.HALF_CLOSED_REMOTE;
    default:
      return endStream ? afterSendEnd(state) : state;
  }
}

/** State after we receive HEADERS with or without END_STREAM. */
export function afterRecvHeaders(state: u8, endStream: bool): u8 {
  switch (state) {
    case StreamState.IDLE:
      return endStream ? StreamState.HALF_CLOSED_REMOTE : StreamState.OPEN;
    case StreamState.RESERVED_REMOTE:
      return endStream ? StreamState.CLOSED : StreamState.HALF_CLOSED_LOCAL;
    default:
      return endStream ? afterRecvEnd(state) : state;
  }
}

/** State after we send END_STREAM (on DATA, HEADERS or trailers). */
export function afterSendEnd(state: u8): u8 {
  switch (state) {
    case StreamState.OPEN:
      return StreamState.HALF_CLOSED_LOCAL;
    case StreamState.HALF_CLOSED_REMOTE:
      return StreamState.CLOSED;
    default:
      return state;
  }
}

/** State after we receive END_STREAM. */
export function afterRecvEnd(state: u8): u8 {
  switch (state) {
    case StreamState.OPEN:
      return StreamState.HALF_CLOSED_REMOTE;
    case StreamState.HALF_CLOSED_LOCAL:
      return StreamState.CLOSED;
    default:
      return state;
  }
}

/** May we send DATA / trailers in `state`? */
@inline export function canSend(state: u8): bool {
  return state == StreamState.OPEN || state == StreamState.HALF_CLOSED_REMOTE;
}

/** May the peer still send us DATA in `state`? */
@inline export function canReceive(state: u8): bool {
  return state == StreamState.OPEN || state == StreamState.HALF_CLOSED_LOCAL;
}
