// Requests and responses as the ABI hands them around (hyper_request, hyper_response),
// and how they become the field lists the engine sends.
import { ByteBuffer } from '../util/bytes';
import { FIELD_HEADER, fieldName, fieldNameLen, fieldSize, fieldValue, fieldValueLen, nextField } from '../hpack';
import { Headers, HEADERS_LIMIT } from './http';
import { Disposable } from './task';
import { HandleKind, handleRelease } from './handles';
import { StreamCtx } from './stream-ctx';
import { Body } from './body';

/** Which pseudo-header a request accessor reads or writes. */
export namespace Pseudo {
  export const METHOD: i32 = 0;
  export const SCHEME: i32 = 1;
  export const AUTHORITY: i32 = 2;
  export const PATH: i32 = 3;
  export const PROTOCOL: i32 = 4;
  export const COUNT: i32 = 5;
}

/** Most bytes all of a request's pseudo-header values may take together. */
const PSEUDO_BYTES_LIMIT: u32 = 1 << 20;

const PSEUDO_NAMES: StaticArray<string> = [':method', ':scheme', ':authority', ':path', ':protocol'];

export class Request extends Disposable {
  handle: u32 = 0;
  /** Each pseudo-header's offset (high 32 bits) and length in pseudoBytes; -1 when unset.
   *  Five fields side by side, read by index (span/setSpan): no array per request. */
  private span0: i64 = -1;
  private span1: i64 = -1;
  private span2: i64 = -1;
  private span3: i64 = -1;
  private span4: i64 = -1;
  /** Pseudo-header values back to back in one buffer (one allocation for all of them);
   *  made on the first value. */
  private pseudoBytes: ByteBuffer | null = null;
  /** The regular headers; made when first asked for. */
  private headerList: Headers | null = null;
  /** Server side: the head as it arrived (validated: pseudo-headers first), kept whole
   *  until something asks for a part of it; a host that takes it flat
   *  (h2_serverconn_take_requests) never has it split. */
  private arrived: ByteBuffer | null = null;
  /** Outgoing body read from the host (h2_request_set_body), or null. */
  body: Body | null = null;
  /** Outgoing body written by the host through a send stream (h2_request_send_stream). */
  streaming: bool = false;
  streamingHandle: u32 = 0;
  /** h2_request_on_informational: 1xx heads go to h2_host.informational(userdata, …). */
  wantsInformational: bool = false;
  informationalUserdata: u32 = 0;
  /** Server side: the stream this request arrived on (until its respond handle is taken). */
  ctx: StreamCtx | null = null;
  bodyTaken: bool = false;
  respondTaken: bool = false;
  /** Server side: it arrived from the peer (its body is read from ctx). */
  received: bool = false;

  @inline private span(which: i32): i64 {
    return load<i64>(changetype<usize>(this) + offsetof<Request>('span0') + ((<usize>which) << 3));
  }
  @inline private setSpan(which: i32, value: i64): void {
    store<i64>(changetype<usize>(this) + offsetof<Request>('span0') + ((<usize>which) << 3), value);
  }

  /** The regular headers (a received head is split first). */
  get headers(): Headers {
    this.split();
    let h = this.headerList;
    if (h == null) {
      h = new Headers();
      this.headerList = h;
    }
    return h;
  }

  /** Keeps a received head (a validated field list) whole, to be split when asked. */
  receive(fields: usize, len: u32): bool {
    const b = new ByteBuffer(HEADERS_LIMIT + PSEUDO_BYTES_LIMIT);
    if (!b.reserve(len)) return false;
    b.pushBytes(fields, len);
    this.arrived = b;
    return true;
  }

  /**
   * Splits a received head into pseudo-headers and headers. The engine validated it
   * (§8.3: pseudo-headers first; names lowercase), so the regular fields are one run: it
   * moves to the front of the same buffer, which becomes the headers' list.
   */
  private split(): void {
    const b = this.arrived;
    if (b == null) return;
    this.arrived = null;
    const start = b.ptr;
    const end = start + <usize>b.len;
    let p = start;
    for (; p < end; p = nextField(p)) {
      const name = fieldName(p);
      const nl = fieldNameLen(p);
      if (nl < 2 || load<u8>(name) != 0x3a) break;
      const which = pseudoIndex(name, nl);
      if (which >= 0) this.setPseudo(which, fieldValue(p), fieldValueLen(p));
    }
    const rest = <u32>(end - p);
    if (rest > 0) memory.copy(start, p, rest);
    b.len = rest;
    b.limit = HEADERS_LIMIT;
    this.headerList = new Headers(b);
  }

  hasPseudo(which: i32): bool {
    this.split();
    return this.span(which) >= 0;
  }
  /** Where a set pseudo-header's value starts (valid until the next set). */
  @inline pseudoPtr(which: i32): usize {
    return changetype<ByteBuffer>(this.pseudoBytes).ptr + <usize>(this.span(which) >>> 32);
  }
  @inline pseudoLen(which: i32): u32 {
    return <u32>(this.span(which) & 0xffffffff);
  }

  /** Sets a pseudo-header (with a "/" in front when `slash`); false past the size limit. */
  setPseudo(which: i32, value: usize, len: u32, slash: bool = false): bool {
    this.split();
    const need = len + (slash ? 1 : 0);
    let b = this.pseudoBytes;
    if (b == null) {
      b = new ByteBuffer(PSEUDO_BYTES_LIMIT);
      this.pseudoBytes = b;
    }
    // A value no longer than the old one is overwritten in place; else appended, and the
    // buffer is compacted (live values only) when an append would pass the limit.
    const old = this.span(which);
    let off: u32;
    if (old >= 0 && need <= <u32>(old & 0xffffffff)) {
      off = <u32>(old >>> 32);
    } else {
      if (!b.reserve(need)) {
        this.setSpan(which, -1);
        if (!this.compact(need)) return false;
        b = changetype<ByteBuffer>(this.pseudoBytes);
      }
      off = b.len;
      b.len += need;
    }
    const p = b.ptr + <usize>off;
    if (slash) store<u8>(p, 0x2f);
    memory.copy(p + (slash ? 1 : 0), value, len);
    this.setSpan(which, ((<i64>off) << 32) | (<i64>need));
    return true;
  }

  /** Copies the live values into a fresh buffer with room for `extra` more bytes. */
  private compact(extra: u32): bool {
    const from = changetype<ByteBuffer>(this.pseudoBytes);
    const to = new ByteBuffer(PSEUDO_BYTES_LIMIT);
    let live: u32 = extra;
    for (let i = 0; i < Pseudo.COUNT; i++) if (this.hasPseudo(i)) live += this.pseudoLen(i);
    if (!to.reserve(live)) return false;
    for (let i = 0; i < Pseudo.COUNT; i++) {
      if (!this.hasPseudo(i)) continue;
      const n = this.pseudoLen(i);
      const off = to.len;
      to.pushBytes(this.pseudoPtr(i), n);
      this.setSpan(i, ((<i64>off) << 32) | (<i64>n));
    }
    from.dispose();
    this.pseudoBytes = to;
    return true;
  }

  /** Parses an absolute URI (scheme://authority/path?query) or an origin-form path. */
  setUri(uri: usize, len: u32): bool {
    let i: u32 = 0;
    // scheme: letters, digits, + - . before "://"
    while (i < len && isSchemeChar(load<u8>(uri + i))) i++;
    if (
      i > 0 &&
      i + 2 < len &&
      load<u8>(uri + i) == 0x3a &&
      load<u8>(uri + i + 1) == 0x2f &&
      load<u8>(uri + i + 2) == 0x2f
    ) {
      if (!this.setPseudo(Pseudo.SCHEME, uri, i)) return false;
      const authStart = i + 3;
      let j = authStart;
      while (j < len && load<u8>(uri + j) != 0x2f && load<u8>(uri + j) != 0x3f) j++;
      if (!this.setPseudo(Pseudo.AUTHORITY, uri + authStart, j - authStart)) return false;
      if (j == len) return this.setPseudo(Pseudo.PATH, changetype<usize>(SLASH), 1);
      // "?query" with no path: the path is "/" then the query.
      if (load<u8>(uri + j) == 0x3f) return this.setPseudo(Pseudo.PATH, uri + j, len - j, true);
      return this.setPseudo(Pseudo.PATH, uri + j, len - j);
    }
    return this.setPseudo(Pseudo.PATH, uri, len);
  }

  /**
   * The request head as a field list: pseudo-headers first, then the headers. A `host`
   * header stands in for a missing :authority (and is dropped, as HTTP/2 wants, §8.3.1).
   */
  toFields(out: ByteBuffer): bool {
    out.clear();
    const isConnect = this.pseudoIs(Pseudo.METHOD, V_CONNECT);
    const hasProtocol = this.hasPseudo(Pseudo.PROTOCOL);
    let hasAuthority = this.hasPseudo(Pseudo.AUTHORITY);
    let authority: usize = hasAuthority ? this.pseudoPtr(Pseudo.AUTHORITY) : 0;
    let authorityLen: u32 = hasAuthority ? this.pseudoLen(Pseudo.AUTHORITY) : 0;
    let hostFromHeader = false;
    if (!hasAuthority) {
      const at = this.headers.find(changetype<usize>(HOST), 4, 0);
      if (at >= 0) {
        const p = this.headers.list.ptr + <usize>at;
        authority = fieldValue(p);
        authorityLen = fieldValueLen(p);
        hasAuthority = true;
        hostFromHeader = true;
      }
    }
    if (!this.addPseudo(out, N_METHOD, Pseudo.METHOD, V_GET)) return false;
    // Classic CONNECT carries only :method and :authority (§8.5).
    if (!isConnect || hasProtocol) {
      if (!this.addPseudo(out, N_SCHEME, Pseudo.SCHEME, V_HTTPS)) return false;
    }
    if (hasAuthority && !addRaw(out, changetype<usize>(N_AUTHORITY), <u32>N_AUTHORITY.length, authority, authorityLen))
      return false;
    if (!isConnect || hasProtocol) {
      if (!this.addPseudo(out, N_PATH, Pseudo.PATH, SLASH)) return false;
    }
    if (hasProtocol && !this.addPseudo(out, N_PROTOCOL, Pseudo.PROTOCOL, SLASH)) return false;
    return appendRegular(out, this.headers, hostFromHeader);
  }

  /** Appends `name: value` with the pseudo-header's value, or `fallback` when unset. */
  private addPseudo(out: ByteBuffer, name: StaticArray<u8>, which: i32, fallback: StaticArray<u8>): bool {
    const np = changetype<usize>(name);
    const nl = <u32>name.length;
    return this.hasPseudo(which)
      ? addRaw(out, np, nl, this.pseudoPtr(which), this.pseudoLen(which))
      : addRaw(out, np, nl, changetype<usize>(fallback), <u32>fallback.length);
  }

  private pseudoIs(which: i32, lit: StaticArray<u8>): bool {
    if (!this.hasPseudo(which)) return false;
    const n = this.pseudoLen(which);
    return n == <u32>lit.length && memory.compare(this.pseudoPtr(which), changetype<usize>(lit), n) == 0;
  }

  /** Lets go of the headers' handle (when they have one). */
  releaseHeadersHandle(): void {
    const h = this.headerList;
    if (h != null) h.releaseHandle();
  }

  dispose(): void {
    const p = this.pseudoBytes;
    if (p != null) p.dispose();
    for (let i = 0; i < Pseudo.COUNT; i++) this.setSpan(i, -1);
    const a = this.arrived;
    if (a != null) a.dispose();
    this.arrived = null;
    releaseParts(this.headerList, this.body, this.ctx, this.received && !this.bodyTaken);
    this.body = null;
  }
}

/** Which request pseudo-header [name, name+len) is (a Pseudo index), or -1. */
function pseudoIndex(name: usize, len: u32): i32 {
  // The length and the letter after the colon tell them apart; the bytes confirm it.
  let which: i32 = -1;
  const c = load<u8>(name, 1);
  if (len == 7) which = c == 0x6d ? Pseudo.METHOD : c == 0x73 ? Pseudo.SCHEME : -1;
  else if (len == 5) which = Pseudo.PATH;
  else if (len == 10) which = Pseudo.AUTHORITY;
  else if (len == 9) which = Pseudo.PROTOCOL;
  if (which < 0) return -1;
  const n = PSEUDO_NAMES[which];
  for (let k: u32 = 1; k < len; k++) {
    if (<u32>load<u8>(name + k) != <u32>n.charCodeAt(<i32>k)) return -1;
  }
  return which;
}

/**
 * What a request and a response both let go of: their headers, the body they were to send,
 * and, for one received whose body reader was never taken (`unread`), what still arrives
 * on its stream (nobody reads it).
 */
function releaseParts(headers: Headers | null, body: Body | null, ctx: StreamCtx | null, unread: bool): void {
  if (headers != null) {
    headers.releaseHandle();
    headers.dispose();
  }
  if (body != null) body.dispose();
  if (ctx != null && unread) ctx.dropReceived();
}

export class Response extends Disposable {
  handle: u32 = 0;
  status: u32 = 200;
  headers: Headers = new Headers();
  /** Outgoing body read from the host (server), or null. */
  body: Body | null = null;
  /** Client side: the stream the response arrived on (its body is read from there). */
  ctx: StreamCtx | null = null;
  bodyTaken: bool = false;
  respondTaken: bool = false;

  /** The response head as a field list: :status, then the headers. */
  toFields(out: ByteBuffer): bool {
    return statusField(out, this.status) && appendRegular(out, this.headers, false);
  }

  /** Lets go of the headers' handle (when they have one). */
  releaseHeadersHandle(): void {
    this.headers.releaseHandle();
  }

  dispose(): void {
    releaseParts(this.headers, this.body, this.ctx, !this.bodyTaken);
    this.body = null;
  }
}

const N_METHOD: StaticArray<u8> = [0x3a, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64]; // ':method'
const N_SCHEME: StaticArray<u8> = [0x3a, 0x73, 0x63, 0x68, 0x65, 0x6d, 0x65]; // ':scheme'
const N_AUTHORITY: StaticArray<u8> = [0x3a, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x69, 0x74, 0x79]; // ':authority'
const N_PATH: StaticArray<u8> = [0x3a, 0x70, 0x61, 0x74, 0x68]; // ':path'
const N_PROTOCOL: StaticArray<u8> = [0x3a, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x63, 0x6f, 0x6c]; // ':protocol'
const N_STATUS: StaticArray<u8> = [0x3a, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73]; // ':status'
const V_GET: StaticArray<u8> = [0x47, 0x45, 0x54]; // 'GET'
const V_HTTPS: StaticArray<u8> = [0x68, 0x74, 0x74, 0x70, 0x73]; // 'https'
const V_CONNECT: StaticArray<u8> = [0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54]; // 'CONNECT'
const STATUS_DIGITS = new StaticArray<u8>(3);

/** Starts `out` afresh with `:status: <status>` (three digits). */
function statusField(out: ByteBuffer, status: u32): bool {
  out.clear();
  unchecked((STATUS_DIGITS[0] = <u8>(0x30 + ((status / 100) % 10))));
  unchecked((STATUS_DIGITS[1] = <u8>(0x30 + ((status / 10) % 10))));
  unchecked((STATUS_DIGITS[2] = <u8>(0x30 + (status % 10))));
  return addRaw(out, changetype<usize>(N_STATUS), <u32>N_STATUS.length, changetype<usize>(STATUS_DIGITS), 3);
}

/**
 * A response head straight from the host's flat field list (h2_respond_send_whole):
 * `:status`, then the fields with their names lowercased — no Response, no Headers.
 * The list must be well-formed (the caller checked it).
 */
export function responseHead(out: ByteBuffer, status: u32, fields: usize, len: u32): bool {
  if (!statusField(out, status) || !out.reserve(len)) return false;
  const start = out.ptr + out.len;
  memory.copy(start, fields, len);
  const end = start + <usize>len;
  for (let p = start; p < end; p += <usize>fieldSize(p)) lowercaseName(p);
  out.len += len;
  return true;
}

/** Lowercases the name of the field at `p` in place (HTTP/2 names are lowercase, §8.2.1). */
function lowercaseName(p: usize): void {
  const name = fieldName(p);
  const n = fieldNameLen(p);
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(name + i);
    if (c >= 0x41 && c <= 0x5a) store<u8>(name + i, c | 0x20);
  }
}

/** Appends one field from raw (ptr, len) name and value. */
function addRaw(out: ByteBuffer, name: usize, nameLen: u32, value: usize, valueLen: u32): bool {
  if (!out.reserve(FIELD_HEADER + nameLen + valueLen)) return false;
  const p = out.ptr + out.len;
  store<u32>(p, nameLen);
  store<u32>(p, valueLen, 4);
  store<u32>(p, 0, 8);
  memory.copy(p + FIELD_HEADER, name, nameLen);
  memory.copy(p + FIELD_HEADER + nameLen, value, valueLen);
  out.len += FIELD_HEADER + nameLen + valueLen;
  return true;
}

/** Appends the regular headers, skipping `host` when it became :authority. */
function appendRegular(out: ByteBuffer, headers: Headers, skipHost: bool): bool {
  const l = headers.list;
  if (!skipHost) {
    if (!out.reserve(l.len)) return false;
    out.pushBytes(l.ptr, l.len);
    return true;
  }
  let at: u32 = 0;
  while (at < l.len) {
    const p = l.ptr + at;
    const size = fieldSize(p);
    const isHost = fieldNameLen(p) == 4 && load<u32>(fieldName(p)) == 0x74736f68; // "host"
    if (!isHost) {
      if (!out.reserve(size)) return false;
      out.pushBytes(p, size);
    }
    at += size;
  }
  return true;
}

@inline function isSchemeChar(c: u8): bool {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c == 0x2b ||
    c == 0x2d ||
    c == 0x2e
  );
}

const SLASH: StaticArray<u8> = [0x2f];
const HOST: StaticArray<u8> = [0x68, 0x6f, 0x73, 0x74];

/** Releases an object's own handle (the library freed it). */
export function dropHandle(handle: u32, kind: HandleKind): void {
  if (handle != 0) handleRelease(handle, kind);
}
