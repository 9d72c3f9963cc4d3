// The RFC 9113 rules that can be judged from the 9-byte header alone, before any payload
// is read. Judging them this early is what lets the decoder refuse an oversized or
// misaddressed frame without buffering it (§4.2). Rules that need the payload live with
// the payload parser (decoder.ts, settings.ts); rules that need stream state (idle,
// closed, half-closed…) are the connection layer's (assembly/proto).
import {
  ErrorCode,
  Flag,
  FrameType,
  GOAWAY_MIN_PAYLOAD_SIZE,
  PING_PAYLOAD_SIZE,
  PRIORITY_PAYLOAD_SIZE,
  PROMISED_ID_SIZE,
  RST_STREAM_PAYLOAD_SIZE,
  Role,
  SETTING_ENTRY_SIZE,
  WINDOW_UPDATE_PAYLOAD_SIZE,
} from './constants';
import { FrameError } from './errors';
import { Msg } from '../util/messages';

/** True for the ten types of §6; anything else is skipped whole (§4.1, §5.5). */
@inline export function isKnownType(type: u8): bool {
  return type <= FrameType.LAST_KNOWN;
}

/** Frames whose size error must end the connection (§4.2). */
@inline function sizeErrorIsConnectionWide(type: u8, streamId: u32): bool {
  return (
    streamId == 0 ||
    type == FrameType.HEADERS ||
    type == FrameType.PUSH_PROMISE ||
    type == FrameType.CONTINUATION ||
    type == FrameType.SETTINGS
  );
}

/**
 * Checks a frame header. `continuationFor` is the stream whose field block is open
 * (0 when none). Sets `err` and returns false when a rule is broken. Unknown types pass
 * (the caller skips them) unless they interrupt a field block.
 */
export function checkHeader(
  err: FrameError,
  type: u8,
  flags: u8,
  streamId: u32,
  length: u32,
  maxFrameSize: u32,
  continuationFor: u32,
  role: u8,
): bool {
  // §6.10: CONTINUATION belongs to a stream (checked first for the clearer message).
  if (type == FrameType.CONTINUATION && streamId == 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.CONTINUATION_ON_STREAM);
    return false;
  }
  // §4.3, §6.2, §6.10: a field block is one contiguous run of frames on one stream.
  if (continuationFor != 0) {
    if (type != FrameType.CONTINUATION) {
      err.connection(ErrorCode.PROTOCOL_ERROR, Msg.EXPECTED_CONTINUATION_FIELD_BLOCK_INTERRUPTED);
      return false;
    }
    if (streamId != continuationFor) {
      err.connection(ErrorCode.PROTOCOL_ERROR, Msg.CONTINUATION_ON_A_DIFFERENT_STREAM);
      return false;
    }
  } else if (type == FrameType.CONTINUATION) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.CONTINUATION_WITHOUT_AN_OPEN_FIELD);
    return false;
  }
  // Unknown types carry no rules of their own; they are discarded unread, so their size
  // costs nothing (§5.5: ignore unknown extension frames).
  if (!isKnownType(type)) return true;

  // §4.2: too large for our SETTINGS_MAX_FRAME_SIZE.
  if (length > maxFrameSize) {
    if (sizeErrorIsConnectionWide(type, streamId)) {
      err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.FRAME_LARGER_THAN_SETTINGS_MAX);
    } else {
      err.stream(ErrorCode.FRAME_SIZE_ERROR, streamId, Msg.FRAME_LARGER_THAN_SETTINGS_MAX);
    }
    return false;
  }

  switch (type) {
    case FrameType.DATA:
      return checkData(err, flags, streamId, length);
    case FrameType.HEADERS:
      return checkHeaders(err, flags, streamId, length);
    case FrameType.PRIORITY:
      return checkPriority(err, streamId, length);
    case FrameType.RST_STREAM:
      return checkRstStream(err, streamId, length);
    case FrameType.SETTINGS:
      return checkSettings(err, flags, streamId, length);
    case FrameType.PUSH_PROMISE:
      return checkPushPromise(err, flags, streamId, length, role);
    case FrameType.PING:
      return checkPing(err, streamId, length);
    case FrameType.GOAWAY:
      return checkGoaway(err, streamId, length);
    case FrameType.WINDOW_UPDATE:
      return checkWindowUpdate(err, length);
  }
  return true;
}

// §6.1
function checkData(err: FrameError, flags: u8, streamId: u32, length: u32): bool {
  if (streamId == 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.DATA_ON_STREAM);
    return false;
  }
  // The Pad Length field itself is mandatory when PADDED is set (§4.2: too small).
  if ((flags & Flag.PADDED) != 0 && length < 1) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.PADDED_DATA_WITHOUT_A_PAD);
    return false;
  }
  return true;
}

// §6.2
function checkHeaders(err: FrameError, flags: u8, streamId: u32, length: u32): bool {
  if (streamId == 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.HEADERS_ON_STREAM);
    return false;
  }
  let need: u32 = 0;
  if ((flags & Flag.PADDED) != 0) need += 1;
  if ((flags & Flag.PRIORITY) != 0) need += PRIORITY_PAYLOAD_SIZE;
  if (length < need) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.HEADERS_TOO_SHORT_FOR);
    return false;
  }
  return true;
}

// §6.3
function checkPriority(err: FrameError, streamId: u32, length: u32): bool {
  if (streamId == 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.PRIORITY_ON_STREAM);
    return false;
  }
  if (length != PRIORITY_PAYLOAD_SIZE) {
    err.stream(ErrorCode.FRAME_SIZE_ERROR, streamId, Msg.PRIORITY_LENGTH_IS_NOT_5);
    return false;
  }
  return true;
}

// §6.4
function checkRstStream(err: FrameError, streamId: u32, length: u32): bool {
  if (streamId == 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.RST_STREAM_ON_STREAM);
    return false;
  }
  if (length != RST_STREAM_PAYLOAD_SIZE) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.RST_STREAM_LENGTH_IS_NOT);
    return false;
  }
  return true;
}

// §6.5
function checkSettings(err: FrameError, flags: u8, streamId: u32, length: u32): bool {
  if (streamId != 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.SETTINGS_ON_A_STREAM);
    return false;
  }
  if ((flags & Flag.ACK) != 0 && length != 0) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.SETTINGS_ACK_WITH_A_PAYLOAD);
    return false;
  }
  if (length % SETTING_ENTRY_SIZE != 0) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.SETTINGS_LENGTH_NOT_A_MULTIPLE);
    return false;
  }
  return true;
}

// §6.6, §8.4
function checkPushPromise(err: FrameError, flags: u8, streamId: u32, length: u32, role: u8): bool {
  if (role == Role.SERVER) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.PUSH_PROMISE_SENT_BY);
    return false;
  }
  if (streamId == 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.PUSH_PROMISE_ON_STREAM);
    return false;
  }
  const need: u32 = ((flags & Flag.PADDED) != 0 ? 1 : 0) + PROMISED_ID_SIZE;
  if (length < need) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.PUSH_PROMISE_TOO_SHORT_FOR);
    return false;
  }
  return true;
}

// §6.7
function checkPing(err: FrameError, streamId: u32, length: u32): bool {
  if (streamId != 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.PING_ON_A_STREAM);
    return false;
  }
  if (length != PING_PAYLOAD_SIZE) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.PING_LENGTH_IS_NOT);
    return false;
  }
  return true;
}

// §6.8
function checkGoaway(err: FrameError, streamId: u32, length: u32): bool {
  if (streamId != 0) {
    err.connection(ErrorCode.PROTOCOL_ERROR, Msg.GOAWAY_ON_A_STREAM);
    return false;
  }
  if (length < GOAWAY_MIN_PAYLOAD_SIZE) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.GOAWAY_SHORTER_THAN);
    return false;
  }
  return true;
}

// §6.9: WINDOW_UPDATE is valid on stream 0 (connection window) and on any stream.
function checkWindowUpdate(err: FrameError, length: u32): bool {
  if (length != WINDOW_UPDATE_PAYLOAD_SIZE) {
    err.connection(ErrorCode.FRAME_SIZE_ERROR, Msg.WINDOW_UPDATE_LENGTH_IS_NOT);
    return false;
  }
  return true;
}
