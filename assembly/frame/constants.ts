// Wire constants of RFC 9113 (§4, §6, §7, §11) and the two SETTINGS extensions we
// recognise. Namespaces of typed constants rather than enums, so each value has the width
// it has on the wire and folds to an immediate at every use.

/** Frame types (RFC 9113 §6, §11.2). */
export namespace FrameType {
  export const DATA: u8 = 0x0;
  export const HEADERS: u8 = 0x1;
  export const PRIORITY: u8 = 0x2;
  export const RST_STREAM: u8 = 0x3;
  export const SETTINGS: u8 = 0x4;
  export const PUSH_PROMISE: u8 = 0x5;
  export const PING: u8 = 0x6;
  export const GOAWAY: u8 = 0x7;
  export const WINDOW_UPDATE: u8 = 0x8;
  export const CONTINUATION: u8 = 0x9;
  /** Types above this are unknown to us and are skipped (§4.1, §5.5). */
  export const LAST_KNOWN: u8 = 0x9;
}

/** Frame flags (§6). The same bit means different things on different types. */
export namespace Flag {
  export const END_STREAM: u8 = 0x1;
  export const ACK: u8 = 0x1;
  export const END_HEADERS: u8 = 0x4;
  export const PADDED: u8 = 0x8;
  export const PRIORITY: u8 = 0x20;
}

/** Error codes (§7). Unknown codes are passed through untouched (§7: no special behaviour). */
export namespace ErrorCode {
  export const NO_ERROR: u32 = 0x0;
  export const PROTOCOL_ERROR: u32 = 0x1;
  export const INTERNAL_ERROR: u32 = 0x2;
  export const FLOW_CONTROL_ERROR: u32 = 0x3;
  export const SETTINGS_TIMEOUT: u32 = 0x4;
  export const STREAM_CLOSED: u32 = 0x5;
  export const FRAME_SIZE_ERROR: u32 = 0x6;
  export const REFUSED_STREAM: u32 = 0x7;
  export const CANCEL: u32 = 0x8;
  export const COMPRESSION_ERROR: u32 = 0x9;
  export const CONNECT_ERROR: u32 = 0xa;
  export const ENHANCE_YOUR_CALM: u32 = 0xb;
  export const INADEQUATE_SECURITY: u32 = 0xc;
  export const HTTP_1_1_REQUIRED: u32 = 0xd;
}

/** SETTINGS identifiers (§6.5.2; 8 from RFC 8441 §3; 9 from RFC 9218 §2.1). */
export namespace SettingId {
  export const HEADER_TABLE_SIZE: u16 = 0x1;
  export const ENABLE_PUSH: u16 = 0x2;
  export const MAX_CONCURRENT_STREAMS: u16 = 0x3;
  export const INITIAL_WINDOW_SIZE: u16 = 0x4;
  export const MAX_FRAME_SIZE: u16 = 0x5;
  export const MAX_HEADER_LIST_SIZE: u16 = 0x6;
  export const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;
  export const NO_RFC7540_PRIORITIES: u16 = 0x9;
}

/** Size of the fixed frame header (§4.1). */
export const FRAME_HEADER_SIZE: u32 = 9;
/** Initial SETTINGS_MAX_FRAME_SIZE, and the smallest value it may take (§4.2, §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE: u32 = 16384;
export const MIN_MAX_FRAME_SIZE: u32 = 16384;
/** Largest frame payload the 24-bit length can carry, and the largest MAX_FRAME_SIZE. */
export const MAX_MAX_FRAME_SIZE: u32 = 0xffffff;
/** Largest flow-control window, and largest WINDOW_UPDATE increment (§6.9.1). */
export const MAX_WINDOW_SIZE: u32 = 0x7fffffff;
/** Initial flow-control window (§6.9.2). */
export const DEFAULT_INITIAL_WINDOW_SIZE: u32 = 65535;
/** Largest stream identifier; also masks off the reserved bit (§4.1). */
export const MAX_STREAM_ID: u32 = 0x7fffffff;
/** Bytes per SETTINGS entry (§6.5.1). */
export const SETTING_ENTRY_SIZE: u32 = 6;
/** Fixed payload sizes (§6.3, §6.4, §6.7, §6.8, §6.9). */
export const PRIORITY_PAYLOAD_SIZE: u32 = 5;
export const RST_STREAM_PAYLOAD_SIZE: u32 = 4;
export const PING_PAYLOAD_SIZE: u32 = 8;
export const GOAWAY_MIN_PAYLOAD_SIZE: u32 = 8;
export const WINDOW_UPDATE_PAYLOAD_SIZE: u32 = 4;
/** Promised Stream ID field of PUSH_PROMISE (§6.6). */
export const PROMISED_ID_SIZE: u32 = 4;

/** Flags each known type defines; the rest are ignored on receipt (§4.1). */
export function knownFlags(type: u8): u8 {
  switch (type) {
    case FrameType.DATA:
      return Flag.END_STREAM | Flag.PADDED;
    case FrameType.HEADERS:
      return Flag.END_STREAM | Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY;
    case FrameType.SETTINGS:
      return Flag.ACK;
    case FrameType.PUSH_PROMISE:
      return Flag.END_HEADERS | Flag.PADDED;
    case FrameType.PING:
      return Flag.ACK;
    case FrameType.CONTINUATION:
      return Flag.END_HEADERS;
    default:
      return 0;
  }
}

/**
 * Which side the decoder reads for; enables the two checks that depend only on it.
 * ANY skips them (useful for tests and for standalone use).
 */
export namespace Role {
  export const ANY: u8 = 0;
  /** We are the client: a SETTINGS_ENABLE_PUSH of 1 from the server is an error (§6.5.2). */
  export const CLIENT: u8 = 1;
  /** We are the server: any PUSH_PROMISE from the client is an error (§8.4). */
  export const SERVER: u8 = 2;
}
