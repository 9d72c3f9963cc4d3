// HTTP message validation (RFC 9113 §8.1–§8.5, RFC 8441 §4) of one decoded field block.
//
// The HPACK decoder hands over a flat field list: per field `u32 name_len, u32 value_len,
// u32 flags` (little-endian) then the name bytes then the value bytes, no padding (flags:
// bit0 never-indexed, bit1 no-index; irrelevant here). The connection layer calls the
// check that matches the block it received:
//
//   HEADERS opening a request (server side)   validateRequest(ptr, len, enableConnectProtocol)
//   PUSH_PROMISE (client side)                validatePushPromise(ptr, len)
//   HEADERS carrying a response, 1xx included validateResponse(ptr, len, requestMethod)
//   HEADERS closing a message (trailers)      validateTrailers(ptr, len)
//
// A false answer means the message is malformed (§8.1.1): the caller resets the stream
// with PROTOCOL_ERROR (§5.4.2); `errorMessage` names the fault, `errorIndex` the field.
// A true answer leaves the control data readable in place (pointers into the caller's
// field list, valid as long as that list is) until the next call.
//
// One validator lives per connection and is reused for every block: nothing is allocated
// per message or per field. Field bytes are never turned into strings; they are compared
// in place against literals (static data) and one 256-byte class table (message-chars.ts).
//
// What stays with the connection layer (it needs stream state):
// - §8.1: a HEADERS frame with END_STREAM that carries an informational (1xx) status is
//   malformed (`isInformational`); a second HEADERS without END_STREAM after the request
//   headers or after a final status is malformed; PUSH_PROMISE received by a server.
// - §8.1.1: the sum of DATA payloads must equal `expectedDataLength` when it is >= 0.
// - §8.4: whether the server is authoritative for a promised `:authority`.
// - §8.2.3: cookie crumbs (several `cookie` fields) are legal and need no validation here;
//   whoever hands the message to a non-HTTP/2 context joins them with "; ".
import {
  C_AUTHORITY,
  C_NAME,
  C_SCHEME,
  C_TOKEN,
  C_VALUE,
  allIn,
  charIs,
  eqAscii,
  eqAsciiNoCase,
  eqBytesNoCase,
  indexOfByte,
  initCharTable,
  nameBytesOk,
  pathBytesOk,
  valueBytesOk,
} from './message-chars';
import { fieldFits, fieldName, fieldNameLen, fieldValue, fieldValueLen, nextField } from '../hpack/field-list';
import { Msg, msg } from '../util/messages';

/** The request method, classified (RFC 9110 §9.1: methods are case-sensitive). */
export namespace Method {
  /** No `:method` (a response or trailers, or before any validation). */
  export const NONE: u8 = 0;
  export const GET: u8 = 1;
  export const HEAD: u8 = 2;
  export const POST: u8 = 3;
  export const PUT: u8 = 4;
  export const DELETE: u8 = 5;
  export const CONNECT: u8 = 6;
  export const OPTIONS: u8 = 7;
  export const TRACE: u8 = 8;
  export const PATCH: u8 = 9;
  /** Any other token: read it at `methodPtr`/`methodLen`. */
  export const OTHER: u8 = 10;
}

/** Which check ran last. */
export namespace MessageKind {
  export const NONE: u8 = 0;
  export const REQUEST: u8 = 1;
  export const PUSH_PROMISE: u8 = 2;
  export const RESPONSE: u8 = 3;
  export const TRAILERS: u8 = 4;
}

/** Pseudo-header fields as bits of `MessageValidator.pseudo` (ffi/messages.ts Pseudo numbers them instead, as the ABI does). */
export namespace PseudoBit {
  export const METHOD: u32 = 1;
  export const SCHEME: u32 = 2;
  export const AUTHORITY: u32 = 4;
  export const PATH: u32 = 8;
  export const PROTOCOL: u32 = 16;
  export const STATUS: u32 = 32;
}

// The names and values compared in place, as bytes: static arrays, so they sit in the data
// segment as octets (a string literal would be UTF-16, copied at start).
const A_443: StaticArray<u8> = [0x34, 0x34, 0x33]; // '443'
const A_80: StaticArray<u8> = [0x38, 0x30]; // '80'
const A_AUTHORITY: StaticArray<u8> = [0x3a, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x69, 0x74, 0x79]; // ':authority'
const A_METHOD: StaticArray<u8> = [0x3a, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64]; // ':method'
const A_PATH: StaticArray<u8> = [0x3a, 0x70, 0x61, 0x74, 0x68]; // ':path'
const A_PROTOCOL: StaticArray<u8> = [0x3a, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x63, 0x6f, 0x6c]; // ':protocol'
const A_SCHEME: StaticArray<u8> = [0x3a, 0x73, 0x63, 0x68, 0x65, 0x6d, 0x65]; // ':scheme'
const A_STATUS: StaticArray<u8> = [0x3a, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73]; // ':status'
const A_CONNECT: StaticArray<u8> = [0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54]; // 'CONNECT'
const A_DELETE: StaticArray<u8> = [0x44, 0x45, 0x4c, 0x45, 0x54, 0x45]; // 'DELETE'
const A_GET: StaticArray<u8> = [0x47, 0x45, 0x54]; // 'GET'
const A_HEAD: StaticArray<u8> = [0x48, 0x45, 0x41, 0x44]; // 'HEAD'
const A_OPTIONS: StaticArray<u8> = [0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53]; // 'OPTIONS'
const A_PATCH: StaticArray<u8> = [0x50, 0x41, 0x54, 0x43, 0x48]; // 'PATCH'
const A_POST: StaticArray<u8> = [0x50, 0x4f, 0x53, 0x54]; // 'POST'
const A_PUT: StaticArray<u8> = [0x50, 0x55, 0x54]; // 'PUT'
const A_TRACE: StaticArray<u8> = [0x54, 0x52, 0x41, 0x43, 0x45]; // 'TRACE'
const A_CONNECTION: StaticArray<u8> = [0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e]; // 'connection'
const A_CONTENT_LENGTH: StaticArray<u8> = [
  0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68,
]; // 'content-length'
const A_HOST: StaticArray<u8> = [0x68, 0x6f, 0x73, 0x74]; // 'host'
const A_KEEP_ALIVE: StaticArray<u8> = [0x6b, 0x65, 0x65, 0x70, 0x2d, 0x61, 0x6c, 0x69, 0x76, 0x65]; // 'keep-alive'
const A_PROXY_CONNECTION: StaticArray<u8> = [
  0x70, 0x72, 0x6f, 0x78, 0x79, 0x2d, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e,
]; // 'proxy-connection'
const A_TE: StaticArray<u8> = [0x74, 0x65]; // 'te'
const A_TRANSFER_ENCODING: StaticArray<u8> = [
  0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72, 0x2d, 0x65, 0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67,
]; // 'transfer-encoding'
const A_UPGRADE: StaticArray<u8> = [0x75, 0x70, 0x67, 0x72, 0x61, 0x64, 0x65]; // 'upgrade'

const REQUEST_PSEUDO: u32 = PseudoBit.METHOD | PseudoBit.SCHEME | PseudoBit.AUTHORITY | PseudoBit.PATH;

const SCHEME_OTHER: u8 = 0;
const SCHEME_HTTP: u8 = 1;
const SCHEME_HTTPS: u8 = 2;

const COLON: u8 = 0x3a;
const SP: u8 = 0x20;
const HTAB: u8 = 0x09;

@inline function isOws(b: u8): bool {
  return b == SP || b == HTAB;
}

@inline function isDigit(b: u8): bool {
  return b >= 0x30 && b <= 0x39;
}

/** The bit of a pseudo-header name (colon included), 0 when it is not one we define. */
function pseudoBit(name: usize, len: u32): u32 {
  switch (len) {
    case 5:
      return eqAscii(name, len, A_PATH) ? PseudoBit.PATH : 0;
    case 7:
      if (eqAscii(name, len, A_METHOD)) return PseudoBit.METHOD;
      if (eqAscii(name, len, A_SCHEME)) return PseudoBit.SCHEME;
      if (eqAscii(name, len, A_STATUS)) return PseudoBit.STATUS;
      return 0;
    case 9:
      return eqAscii(name, len, A_PROTOCOL) ? PseudoBit.PROTOCOL : 0;
    case 10:
      return eqAscii(name, len, A_AUTHORITY) ? PseudoBit.AUTHORITY : 0;
  }
  return 0;
}

function classifyMethod(p: usize, len: u32): u8 {
  switch (len) {
    case 3:
      if (eqAscii(p, len, A_GET)) return Method.GET;
      if (eqAscii(p, len, A_PUT)) return Method.PUT;
      break;
    case 4:
      if (eqAscii(p, len, A_HEAD)) return Method.HEAD;
      if (eqAscii(p, len, A_POST)) return Method.POST;
      break;
    case 5:
      if (eqAscii(p, len, A_PATCH)) return Method.PATCH;
      if (eqAscii(p, len, A_TRACE)) return Method.TRACE;
      break;
    case 6:
      if (eqAscii(p, len, A_DELETE)) return Method.DELETE;
      break;
    case 7:
      if (eqAscii(p, len, A_CONNECT)) return Method.CONNECT;
      if (eqAscii(p, len, A_OPTIONS)) return Method.OPTIONS;
      break;
  }
  return Method.OTHER;
}

/**
 * Length of an authority without an empty or default port (RFC 3986 §6.2.3 scheme-based
 * normalization: "example.com:", "example.com:443" for https and "example.com" are one
 * authority). A colon inside an IP-literal ("[::1]") is not a port separator.
 */
function authorityWithoutDefaultPort(p: usize, len: u32, scheme: u8): u32 {
  let colon: i32 = -1;
  for (let i = <i32>len - 1; i >= 0; i--) {
    const b = load<u8>(p + <usize>i);
    if (b == 0x5d) return len; // ']' after the last colon: no port
    if (b == COLON) {
      colon = i;
      break;
    }
  }
  if (colon < 0) return len;
  const port = p + <usize>colon + 1;
  const portLen = len - <u32>colon - 1;
  if (portLen == 0) return <u32>colon;
  if (scheme == SCHEME_HTTP && eqAscii(port, portLen, A_80)) return <u32>colon;
  if (scheme == SCHEME_HTTPS && eqAscii(port, portLen, A_443)) return <u32>colon;
  return len;
}

export class MessageValidator {
  // --- policy -------------------------------------------------------------------------

  /**
   * §8.3.1: a server SHOULD treat a request whose `host` identifies another entity than
   * `:authority` as malformed. On by default (a front end routing on `:authority` and a
   * back end routing on `host` is the classic confusion); the comparison is scheme-based
   * (ASCII case ignored, empty or default port dropped). Set false to tolerate.
   */
  rejectHostMismatch: bool = true;

  // --- results of the last successful check -------------------------------------------

  kind: u8 = MessageKind.NONE;
  /** Pseudo-header fields present (bits of `PseudoBit`). */
  pseudo: u32 = 0;
  /** Fields in the block. */
  fieldCount: u32 = 0;

  method: u8 = Method.NONE;
  methodPtr: usize = 0;
  methodLen: u32 = 0;
  schemePtr: usize = 0;
  schemeLen: u32 = 0;
  pathPtr: usize = 0;
  pathLen: u32 = 0;
  authorityPtr: usize = 0;
  authorityLen: u32 = 0;
  /** RFC 8441 extended CONNECT: the protocol to tunnel (`websocket`…). */
  protocolPtr: usize = 0;
  protocolLen: u32 = 0;
  /** The `host` header field of a request (its value may legally be empty). */
  hasHost: bool = false;
  hostPtr: usize = 0;
  hostLen: u32 = 0;
  /** A request carried `te: trailers` (gRPC relies on it). */
  teTrailers: bool = false;

  /** `:status` of a response; 0 otherwise. */
  status: i32 = 0;
  /** The content-length value as received; -1 when absent. */
  contentLength: i64 = -1;
  /**
   * What the connection layer enforces on the DATA that follows (§8.1.1): when >= 0, the
   * sum of DATA payload lengths must equal it, so 0 means "no content allowed" (responses
   * to HEAD, 1xx, 204, 304: RFC 9110 §6.4.1, where content-length describes the content
   * that would have been sent and is not compared). -1: nothing to enforce (absent
   * content-length; CONNECT and extended CONNECT requests and 2xx responses to CONNECT,
   * whose DATA is a tunnel: RFC 9110 §9.3.6; trailers).
   */
  expectedDataLength: i64 = -1;

  // --- result of the last failed check --------------------------------------------------

  /** Static description of the fault; "" after a success. */
  errorMessage: string = '';
  /** Index of the offending field in the block; -1 when the block as a whole is at fault. */
  errorIndex: i32 = -1;

  private regularSeen: bool = false;
  private scheme: u8 = SCHEME_OTHER;
  private allowedPseudo: u32 = 0;

  constructor() {
    initCharTable();
  }

  @inline get hasMethod(): bool {
    return (this.pseudo & PseudoBit.METHOD) != 0;
  }
  @inline get hasScheme(): bool {
    return (this.pseudo & PseudoBit.SCHEME) != 0;
  }
  @inline get hasPath(): bool {
    return (this.pseudo & PseudoBit.PATH) != 0;
  }
  @inline get hasAuthority(): bool {
    return (this.pseudo & PseudoBit.AUTHORITY) != 0;
  }
  /** RFC 8441: the request is an extended CONNECT (`:protocol` present, method CONNECT). */
  @inline get hasProtocol(): bool {
    return (this.pseudo & PseudoBit.PROTOCOL) != 0;
  }
  /** A CONNECT request, classic (§8.5) or extended (RFC 8441). */
  @inline get isConnect(): bool {
    return this.method == Method.CONNECT;
  }
  /** An interim response (1xx; 101 never validates, §8.6): a final response must follow. */
  @inline get isInformational(): bool {
    return this.status >= 100 && this.status < 200;
  }

  // --- the four checks ------------------------------------------------------------------

  /**
   * A request's header block, as a server receives it. `enableConnectProtocol`: we sent
   * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3), so `:protocol` is defined.
   */
  validateRequest(ptr: usize, len: u32, enableConnectProtocol: bool): bool {
    const allowed = enableConnectProtocol ? REQUEST_PSEUDO | PseudoBit.PROTOCOL : REQUEST_PSEUDO;
    if (!this.scan(ptr, len, MessageKind.REQUEST, allowed)) return false;
    return this.finishRequest();
  }

  /**
   * The promised request of a PUSH_PROMISE, as a client receives it (§8.4, §8.4.1): a
   * complete, valid request whose method is safe and cacheable (GET or HEAD: RFC 9110
   * §9.2.1, §9.2.3), without content, with an `:authority` (for which the caller then
   * checks the server is authoritative).
   */
  validatePushPromise(ptr: usize, len: u32): bool {
    if (!this.scan(ptr, len, MessageKind.PUSH_PROMISE, REQUEST_PSEUDO)) return false;
    if (!this.finishRequest()) return false;
    if (this.method != Method.GET && this.method != Method.HEAD) {
      return this.fail(Msg.PROMISED_REQUEST_METHOD_IS_NOT);
    }
    // §8.4: "indicates the presence of request content"; content-length: 0 does not.
    if (this.contentLength > 0) return this.fail(Msg.PROMISED_REQUEST_WITH_CONTENT_CONTENT);
    if (!this.hasAuthority) return this.fail(Msg.PROMISED_REQUEST_WITHOUT_AUTHORITY);
    return true;
  }

  /**
   * A response's header block, interim (1xx) or final, as a client receives it.
   * `requestMethod` (a `Method`) decides `expectedDataLength` for HEAD and CONNECT; pass
   * `Method.NONE` when unknown.
   */
  validateResponse(ptr: usize, len: u32, requestMethod: u8 = Method.NONE): bool {
    if (!this.scan(ptr, len, MessageKind.RESPONSE, PseudoBit.STATUS)) return false;
    // §8.3.2: :status in every response, interim ones included.
    if ((this.pseudo & PseudoBit.STATUS) == 0) return this.fail(Msg.MISSING_STATUS);
    const s = this.status;
    if (s < 200 || s == 204 || s == 304 || requestMethod == Method.HEAD) {
      this.expectedDataLength = 0;
    } else if (requestMethod == Method.CONNECT && s < 300) {
      this.expectedDataLength = -1;
    } else {
      this.expectedDataLength = this.contentLength;
    }
    return true;
  }

  /** A trailer block (§8.1), either direction. */
  validateTrailers(ptr: usize, len: u32): bool {
    return this.scan(ptr, len, MessageKind.TRAILERS, 0);
  }

  // --- scanning -----------------------------------------------------------------------

  private reset(kind: u8, allowed: u32): void {
    this.kind = kind;
    this.allowedPseudo = allowed;
    this.pseudo = 0;
    this.fieldCount = 0;
    this.regularSeen = false;
    this.scheme = SCHEME_OTHER;
    this.method = Method.NONE;
    this.methodPtr = 0;
    this.methodLen = 0;
    this.schemePtr = 0;
    this.schemeLen = 0;
    this.pathPtr = 0;
    this.pathLen = 0;
    this.authorityPtr = 0;
    this.authorityLen = 0;
    this.protocolPtr = 0;
    this.protocolLen = 0;
    this.hasHost = false;
    this.hostPtr = 0;
    this.hostLen = 0;
    this.teTrailers = false;
    this.status = 0;
    this.contentLength = -1;
    this.expectedDataLength = -1;
    this.errorMessage = '';
    this.errorIndex = -1;
  }

  private fail(message: Msg): bool {
    this.errorMessage = msg(message);
    return false;
  }

  private scan(ptr: usize, len: u32, kind: u8, allowed: u32): bool {
    this.reset(kind, allowed);
    const end = ptr + <usize>len;
    let index: i32 = 0;
    for (let p = ptr; p < end; p = nextField(p)) {
      this.errorIndex = index;
      if (!fieldFits(p, end)) return this.fail(Msg.TRUNCATED_FIELD_LIST);
      if (!this.field(fieldName(p), fieldNameLen(p), fieldValue(p), fieldValueLen(p))) return false;
      index++;
    }
    this.errorIndex = -1;
    this.fieldCount = <u32>index;
    return true;
  }

  private field(name: usize, nameLen: u32, value: usize, valueLen: u32): bool {
    // §8.2.1: a field name is a non-empty token (RFC 9110 §5.1) without uppercase; the
    // colon only opens a pseudo-header name.
    if (nameLen == 0) return this.fail(Msg.EMPTY_FIELD_NAME);
    const pseudo = load<u8>(name) == COLON;
    const from: u32 = pseudo ? 1 : 0;
    if (!nameBytesOk(name + from, nameLen - from)) return this.nameFault(name + from, nameLen - from);
    if (pseudo) {
      // Every pseudo-header value check is narrower than the field-value check, so the
      // latter runs only to name the fault first, as it would have run first.
      if (this.pseudoField(name, nameLen, value, valueLen)) return true;
      const message = this.errorMessage;
      if (this.checkValue(value, valueLen)) this.errorMessage = message;
      return false;
    }
    if (!this.checkValue(value, valueLen)) return false;
    this.regularSeen = true;
    return this.regularField(name, nameLen, value, valueLen);
  }

  /** Names the first byte of a field name that may not be there. */
  private nameFault(name: usize, len: u32): bool {
    for (let i: u32 = 0; i < len; i++) {
      const b = load<u8>(name + i);
      if (charIs(b, C_NAME)) continue;
      if (b >= 0x41 && b <= 0x5a) return this.fail(Msg.UPPERCASE_CHARACTER_IN_FIELD_NAME);
      if (b == COLON) return this.fail(Msg.COLON_IN_FIELD_NAME);
      break;
    }
    return this.fail(Msg.INVALID_CHARACTER_IN_FIELD_NAME);
  }

  /**
   * §8.2.1 (MUST): no NUL, CR or LF; no SP or HTAB at either end. And (the SHOULD, as
   * RFC 9110 §5.5 defines field-value) no other control character: HTAB, SP, VCHAR and
   * obs-text only. An empty value is valid.
   */
  private checkValue(p: usize, len: u32): bool {
    if (len == 0) return true;
    if (valueBytesOk(p, len)) {
      if (isOws(load<u8>(p)) || isOws(load<u8>(p + len - 1))) {
        return this.fail(Msg.LEADING_OR_TRAILING_WHITESPACE);
      }
      return true;
    }
    for (let i: u32 = 0; i < len; i++) {
      const b = load<u8>(p + i);
      if (charIs(b, C_VALUE)) continue;
      if (b == 0 || b == 0x0a || b == 0x0d) return this.fail(Msg.NUL_CR_OR_LF);
      return this.fail(Msg.CONTROL_CHARACTER_IN_FIELD_VALUE);
    }
    if (isOws(load<u8>(p)) || isOws(load<u8>(p + len - 1))) {
      return this.fail(Msg.LEADING_OR_TRAILING_WHITESPACE);
    }
    return true;
  }

  private pseudoField(name: usize, nameLen: u32, value: usize, valueLen: u32): bool {
    // §8.1, §8.3: no pseudo-header field in trailers.
    if (this.kind == MessageKind.TRAILERS) return this.fail(Msg.PSEUDO_HEADER_FIELD_IN_TRAILERS);
    // §8.3: only the pseudo-header fields defined for this kind of message.
    const bit = pseudoBit(name, nameLen);
    if (bit == 0) return this.fail(Msg.UNKNOWN_PSEUDO_HEADER_FIELD);
    if ((bit & this.allowedPseudo) == 0) {
      if (bit == PseudoBit.STATUS) return this.fail(Msg.RESPONSE_PSEUDO_HEADER_FIELD_STATUS);
      if (this.kind == MessageKind.RESPONSE) return this.fail(Msg.REQUEST_PSEUDO_HEADER_FIELD);
      // RFC 8441 §3, §4: :protocol is defined only once we sent the setting.
      if (this.kind == MessageKind.REQUEST) {
        return this.fail(Msg.PROTOCOL_WITHOUT_SETTINGS_ENABLE_CONNECT);
      }
      return this.fail(Msg.PROTOCOL_IN_A_PROMISED_REQUEST);
    }
    // §8.3: all pseudo-header fields before all regular fields.
    if (this.regularSeen) return this.fail(Msg.PSEUDO_HEADER_FIELD_AFTER);
    // §8.3: each at most once.
    if ((this.pseudo & bit) != 0) return this.fail(duplicateMessage(bit));
    this.pseudo |= bit;

    switch (bit) {
      case PseudoBit.METHOD: {
        // RFC 9110 §9.1: method = token.
        if (valueLen == 0 || !allIn(value, valueLen, C_TOKEN)) return this.fail(Msg.INVALID_METHOD);
        this.methodPtr = value;
        this.methodLen = valueLen;
        this.method = classifyMethod(value, valueLen);
        break;
      }
      case PseudoBit.SCHEME: {
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). Schemes are
        // case-insensitive, so "HTTPS" gets the https rules too.
        if (valueLen == 0 || !isAlpha(load<u8>(value)) || !allIn(value, valueLen, C_SCHEME)) {
          return this.fail(Msg.INVALID_SCHEME);
        }
        this.schemePtr = value;
        this.schemeLen = valueLen;
        if (eqAsciiNoCase(value, valueLen, 'https')) this.scheme = SCHEME_HTTPS;
        else if (eqAsciiNoCase(value, valueLen, 'http')) this.scheme = SCHEME_HTTP;
        break;
      }
      case PseudoBit.AUTHORITY: {
        // RFC 3986 §3.2 characters; emptiness and userinfo depend on the scheme (finishRequest).
        if (!allIn(value, valueLen, C_AUTHORITY)) return this.fail(Msg.INVALID_CHARACTER_IN_AUTHORITY);
        this.authorityPtr = value;
        this.authorityLen = valueLen;
        break;
      }
      case PseudoBit.PATH: {
        // A request-target never holds SP or controls (RFC 9112 §3.2): refusing them keeps
        // a translation to HTTP/1.1 from splitting the request line. Shape: finishRequest.
        if (!pathBytesOk(value, valueLen)) return this.fail(Msg.INVALID_CHARACTER_IN_PATH);
        this.pathPtr = value;
        this.pathLen = valueLen;
        break;
      }
      case PseudoBit.PROTOCOL: {
        // RFC 8441 §4: a value from the Upgrade Token registry, i.e. a token.
        if (valueLen == 0 || !allIn(value, valueLen, C_TOKEN)) return this.fail(Msg.INVALID_PROTOCOL);
        this.protocolPtr = value;
        this.protocolLen = valueLen;
        break;
      }
      case PseudoBit.STATUS:
        return this.statusField(value, valueLen);
    }
    return true;
  }

  /**
   * RFC 9110 §15: three digits. 000–099 name no class and are refused; 600–999 are
   * outside 100..599 but RFC 9110 §15 asks clients to process them as 5xx, so they pass.
   * §8.6: HTTP/2 does not support 101 (Switching Protocols).
   */
  private statusField(p: usize, len: u32): bool {
    if (len != 3) return this.fail(Msg.INVALID_STATUS_NOT_THREE_DIGITS);
    const a = load<u8>(p);
    const b = load<u8>(p + 1);
    const c = load<u8>(p + 2);
    if (!isDigit(a) || !isDigit(b) || !isDigit(c)) return this.fail(Msg.INVALID_STATUS_NOT_THREE_DIGITS);
    const s = <i32>(a - 0x30) * 100 + <i32>(b - 0x30) * 10 + <i32>(c - 0x30);
    if (s < 100) return this.fail(Msg.INVALID_STATUS_BELOW_100);
    if (s == 101) return this.fail(Msg.STATUS_101_SWITCHING_PROTOCOLS_IS);
    this.status = s;
    return true;
  }

  private regularField(name: usize, nameLen: u32, value: usize, valueLen: u32): bool {
    // Names are validated lowercase tokens by now, so an exact match is enough.
    switch (nameLen) {
      case 2: {
        if (!eqAscii(name, nameLen, A_TE)) break;
        // §8.2.2: TE may appear, with no value other than "trailers" (a case-insensitive
        // token, RFC 9110 §10.1.4). Held to the same rule in every kind of block.
        if (!eqAsciiNoCase(value, valueLen, 'trailers')) return this.fail(Msg.TE_OTHER_THAN_TRAILERS);
        this.teTrailers = true;
        break;
      }
      case 4: {
        if (!eqAscii(name, nameLen, A_HOST)) break;
        if (this.kind != MessageKind.REQUEST && this.kind != MessageKind.PUSH_PROMISE) break;
        // RFC 9110 §7.2: one Host per request.
        if (this.hasHost) return this.fail(Msg.DUPLICATE_HOST);
        this.hasHost = true;
        this.hostPtr = value;
        this.hostLen = valueLen;
        break;
      }
      case 7: {
        if (eqAscii(name, nameLen, A_UPGRADE)) return this.fail(Msg.CONNECTION_SPECIFIC_FIELD_UPGRADE);
        break;
      }
      case 10: {
        // §8.2.2: connection-specific header fields make the message malformed.
        if (eqAscii(name, nameLen, A_CONNECTION)) return this.fail(Msg.CONNECTION_SPECIFIC_FIELD_CONNECTION);
        if (eqAscii(name, nameLen, A_KEEP_ALIVE)) return this.fail(Msg.CONNECTION_SPECIFIC_FIELD_KEEP_ALIVE);
        break;
      }
      case 14: {
        if (!eqAscii(name, nameLen, A_CONTENT_LENGTH)) break;
        // Framing metadata means nothing after the content (RFC 9110 §6.5.1, §8.6).
        if (this.kind == MessageKind.TRAILERS) return this.fail(Msg.CONTENT_LENGTH_IN_TRAILERS);
        return this.contentLengthField(value, valueLen);
      }
      case 16: {
        if (eqAscii(name, nameLen, A_PROXY_CONNECTION))
          return this.fail(Msg.CONNECTION_SPECIFIC_FIELD_PROXY_CONNECTION);
        break;
      }
      case 17: {
        if (eqAscii(name, nameLen, A_TRANSFER_ENCODING))
          return this.fail(Msg.CONNECTION_SPECIFIC_FIELD_TRANSFER_ENCODING);
        break;
      }
    }
    return true;
  }

  /**
   * §8.1.1, RFC 9110 §8.6: Content-Length = 1*DIGIT. Repeated values (separate fields or
   * the list form "5, 5") are accepted when they are all the same number, as RFC 9110 §8.6
   * allows; anything else, and values past 2^63-1, is malformed.
   */
  private contentLengthField(p: usize, len: u32): bool {
    let i: u32 = 0;
    while (true) {
      const start = i;
      let n: i64 = 0;
      while (i < len) {
        const b = load<u8>(p + i);
        if (!isDigit(b)) break;
        const d = <i64>(b - 0x30);
        if (n > (i64.MAX_VALUE - d) / 10) return this.fail(Msg.CONTENT_LENGTH_TOO_LARGE);
        n = n * 10 + d;
        i++;
      }
      if (i == start) return this.fail(Msg.INVALID_CONTENT_LENGTH);
      if (this.contentLength >= 0 && this.contentLength != n) return this.fail(Msg.CONTENT_LENGTH_VALUES_DIFFER);
      this.contentLength = n;
      while (i < len && isOws(load<u8>(p + i))) i++;
      if (i == len) return true;
      if (load<u8>(p + i) != 0x2c) return this.fail(Msg.INVALID_CONTENT_LENGTH);
      i++;
      while (i < len && isOws(load<u8>(p + i))) i++;
    }
    return true; // unreachable
  }

  /** The block-level rules of a request (§8.3.1, §8.5, RFC 8441 §4). */
  private finishRequest(): bool {
    this.errorIndex = -1;
    const p = this.pseudo;
    if ((p & PseudoBit.METHOD) == 0) return this.fail(Msg.MISSING_METHOD);
    const connect = this.method == Method.CONNECT;
    if ((p & PseudoBit.PROTOCOL) != 0) {
      // RFC 8441 §4: :protocol only with CONNECT, and then :scheme, :path and
      // :authority are all present (the target URI is complete).
      if (!connect) return this.fail(Msg.PROTOCOL_IN_A_REQUEST_WHOSE);
      if ((p & PseudoBit.SCHEME) == 0) return this.fail(Msg.MISSING_SCHEME_IN_EXTENDED_CONNECT);
      if ((p & PseudoBit.PATH) == 0) return this.fail(Msg.MISSING_PATH_IN_EXTENDED_CONNECT);
      if ((p & PseudoBit.AUTHORITY) == 0) return this.fail(Msg.MISSING_AUTHORITY_IN_EXTENDED_CONNECT);
    } else if (connect) {
      // §8.5: :scheme and :path omitted, :authority is host and port.
      if ((p & (PseudoBit.SCHEME | PseudoBit.PATH)) != 0) return this.fail(Msg.SCHEME_OR_PATH);
      if ((p & PseudoBit.AUTHORITY) == 0) return this.fail(Msg.MISSING_AUTHORITY_IN_A_CONNECT);
    } else {
      // §8.3.1: exactly one :method, :scheme and :path.
      if ((p & PseudoBit.SCHEME) == 0) return this.fail(Msg.MISSING_SCHEME);
      if ((p & PseudoBit.PATH) == 0) return this.fail(Msg.MISSING_PATH);
    }

    if ((p & PseudoBit.PATH) != 0) {
      // §8.3.1: never empty (we hold every scheme to it: an empty request-target has no
      // HTTP/1.1 form either). For http and https: an absolute path, or "*" for OPTIONS.
      if (this.pathLen == 0) return this.fail(Msg.EMPTY_PATH);
      if (this.scheme != SCHEME_OTHER) {
        const first = load<u8>(this.pathPtr);
        if (this.pathLen == 1 && first == 0x2a) {
          if (this.method != Method.OPTIONS) return this.fail(Msg.PATH_ASTERISK_NOT_OPTIONS);
        } else if (first != 0x2f) {
          return this.fail(Msg.PATH_NOT_STARTING_WITH_SLASH);
        }
      }
    }

    // §8.3.1: no userinfo for http and https (RFC 9110 §4.2.4), and an http(s) URI has a
    // non-empty host (RFC 9110 §4.2.1). CONNECT's authority-form is host:port only
    // (RFC 9110 §9.3.6), so a classic CONNECT is held to the same rules.
    const strictAuthority = this.scheme != SCHEME_OTHER || (connect && (p & PseudoBit.PROTOCOL) == 0);
    if ((p & PseudoBit.AUTHORITY) != 0 && strictAuthority) {
      if (this.authorityLen == 0) return this.fail(Msg.EMPTY_AUTHORITY);
      if (indexOfByte(this.authorityPtr, this.authorityLen, 0x40) >= 0) return this.fail(Msg.USERINFO_IN_AUTHORITY);
    }

    if (this.hasHost) {
      // RFC 9110 §7.2: Host = uri-host [ ":" port ], empty when there is no authority.
      if (!allIn(this.hostPtr, this.hostLen, C_AUTHORITY) || indexOfByte(this.hostPtr, this.hostLen, 0x40) >= 0) {
        return this.fail(Msg.INVALID_HOST);
      }
      if ((p & PseudoBit.AUTHORITY) != 0) {
        if (this.rejectHostMismatch && !this.hostMatchesAuthority()) return this.fail(Msg.HOST_DIFFERS_FROM_AUTHORITY);
      } else if (this.hostLen == 0 && strictAuthority) {
        return this.fail(Msg.EMPTY_HOST);
      }
    }

    // CONNECT's DATA is a tunnel (RFC 9110 §9.3.6: the request has no content).
    this.expectedDataLength = connect ? -1 : this.contentLength;
    return true;
  }

  private hostMatchesAuthority(): bool {
    const s = this.scheme;
    const a = authorityWithoutDefaultPort(this.authorityPtr, this.authorityLen, s);
    const h = authorityWithoutDefaultPort(this.hostPtr, this.hostLen, s);
    return eqBytesNoCase(this.authorityPtr, a, this.hostPtr, h);
  }
}

@inline function isAlpha(b: u8): bool {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function duplicateMessage(bit: u32): Msg {
  switch (bit) {
    case PseudoBit.METHOD:
      return Msg.DUPLICATE_METHOD;
    case PseudoBit.SCHEME:
      return Msg.DUPLICATE_SCHEME;
    case PseudoBit.AUTHORITY:
      return Msg.DUPLICATE_AUTHORITY;
    case PseudoBit.PATH:
      return Msg.DUPLICATE_PATH;
    case PseudoBit.PROTOCOL:
      return Msg.DUPLICATE_PROTOCOL;
  }
  return Msg.DUPLICATE_STATUS;
}
