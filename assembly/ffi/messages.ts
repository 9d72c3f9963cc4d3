// Requests and responses as the ABI hands them around (hyper_request, hyper_response),
// and how they become the field lists the engine sends.
import { ByteBuffer } from "../util/bytes";
import { FIELD_HEADER } from "../hpack";
import { Headers } from "./http";
import { Disposable } from "./task";
import { HandleKind, handleRelease } from "./handles";
import { StreamCtx } from "./stream-ctx";
import { Body } from "./body";

/** Which pseudo-header a request accessor reads or writes. */
export namespace Pseudo {
  export const METHOD: i32 = 0;
  export const SCHEME: i32 = 1;
  export const AUTHORITY: i32 = 2;
  export const PATH: i32 = 3;
  export const PROTOCOL: i32 = 4;
  export const COUNT: i32 = 5;
}

const PSEUDO_NAMES: StaticArray<string> = [":method", ":scheme", ":authority", ":path", ":protocol"];

export class Request extends Disposable {
  handle: u32 = 0;
  /** Pseudo-header values, by Pseudo index; null when unset. */
  pseudo: StaticArray<ByteBuffer | null> = new StaticArray<ByteBuffer | null>(Pseudo.COUNT);
  headers: Headers = new Headers();
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

  setPseudo(which: i32, value: usize, len: u32): bool {
    let b = this.pseudo[which];
    if (b == null) {
      b = new ByteBuffer(1 << 20);
      this.pseudo[which] = b;
    }
    b.clear();
    if (!b.reserve(len)) return false;
    b.pushBytes(value, len);
    return true;
  }

  /** Parses an absolute URI (scheme://authority/path?query) or an origin-form path. */
  setUri(uri: usize, len: u32): bool {
    let i: u32 = 0;
    // scheme: letters, digits, + - . before "://"
    while (i < len && isSchemeChar(load<u8>(uri + i))) i++;
    if (i > 0 && i + 2 < len && load<u8>(uri + i) == 0x3a && load<u8>(uri + i + 1) == 0x2f && load<u8>(uri + i + 2) == 0x2f) {
      if (!this.setPseudo(Pseudo.SCHEME, uri, i)) return false;
      const authStart = i + 3;
      let j = authStart;
      while (j < len && load<u8>(uri + j) != 0x2f && load<u8>(uri + j) != 0x3f) j++;
      if (!this.setPseudo(Pseudo.AUTHORITY, uri + authStart, j - authStart)) return false;
      if (j == len) return this.setPseudo(Pseudo.PATH, changetype<usize>(SLASH), 1);
      if (load<u8>(uri + j) == 0x3f) {
        // "?query" with no path: the path is "/" then the query.
        const b = new ByteBuffer(1 << 20);
        if (!b.reserve(len - j + 1)) return false;
        b.pushByte(0x2f);
        b.pushBytes(uri + j, len - j);
        this.pseudo[Pseudo.PATH] = b;
        return true;
      }
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
    const isConnect = eqPseudo(this.pseudo[Pseudo.METHOD], V_CONNECT);
    const hasProtocol = this.pseudo[Pseudo.PROTOCOL] != null;
    let authority = this.pseudo[Pseudo.AUTHORITY];
    let hostFromHeader = false;
    if (authority == null) {
      const at = this.headers.find(changetype<usize>(HOST), 4, 0);
      if (at >= 0) {
        const p = this.headers.list.ptr + <usize>at;
        const b = new ByteBuffer(1 << 20);
        const vl = load<u32>(p, 4);
        if (!b.reserve(vl)) return false;
        b.pushBytes(p + FIELD_HEADER + 4, vl);
        authority = b;
        hostFromHeader = true;
      }
    }
    if (!addField(out, N_METHOD, this.pseudo[Pseudo.METHOD], V_GET)) return false;
    // Classic CONNECT carries only :method and :authority (§8.5).
    if (!isConnect || hasProtocol) {
      if (!addField(out, N_SCHEME, this.pseudo[Pseudo.SCHEME], V_HTTPS)) return false;
    }
    if (authority != null && !addField(out, N_AUTHORITY, authority, SLASH)) return false;
    if (!isConnect || hasProtocol) {
      if (!addField(out, N_PATH, this.pseudo[Pseudo.PATH], SLASH)) return false;
    }
    if (hasProtocol && !addField(out, N_PROTOCOL, this.pseudo[Pseudo.PROTOCOL], SLASH)) return false;
    return appendRegular(out, this.headers, hostFromHeader);
  }

  dispose(): void {
    for (let i = 0; i < Pseudo.COUNT; i++) {
      const b = this.pseudo[i];
      if (b != null) b.dispose();
      this.pseudo[i] = null;
    }
    this.headers.releaseHandle();
    this.headers.dispose();
    const body = this.body;
    if (body != null) body.dispose();
    this.body = null;
  }

  static pseudoName(which: i32): string {
    return PSEUDO_NAMES[which];
  }
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
    out.clear();
    const s = this.status;
    unchecked(STATUS_DIGITS[0] = <u8>(0x30 + (s / 100) % 10));
    unchecked(STATUS_DIGITS[1] = <u8>(0x30 + (s / 10) % 10));
    unchecked(STATUS_DIGITS[2] = <u8>(0x30 + s % 10));
    return addRaw(out, changetype<usize>(N_STATUS), <u32>N_STATUS.length, changetype<usize>(STATUS_DIGITS), 3) &&
      appendRegular(out, this.headers, false);
  }

  dispose(): void {
    this.headers.releaseHandle();
    this.headers.dispose();
    const body = this.body;
    if (body != null) body.dispose();
    this.body = null;
  }
}

/** ASCII bytes of a literal, made once (no allocation per message). */
function ascii(text: string): StaticArray<u8> {
  const out = new StaticArray<u8>(text.length);
  for (let i = 0; i < text.length; i++) unchecked(out[i] = <u8>text.charCodeAt(i));
  return out;
}

const N_METHOD = ascii(":method");
const N_SCHEME = ascii(":scheme");
const N_AUTHORITY = ascii(":authority");
const N_PATH = ascii(":path");
const N_PROTOCOL = ascii(":protocol");
const N_STATUS = ascii(":status");
const V_GET = ascii("GET");
const V_HTTPS = ascii("https");
const V_CONNECT = ascii("CONNECT");
const STATUS_DIGITS = new StaticArray<u8>(3);

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

/** Appends `name: value` with the value from `v`, or `fallback` when `v` is null. */
function addField(out: ByteBuffer, name: StaticArray<u8>, v: ByteBuffer | null, fallback: StaticArray<u8>): bool {
  const np = changetype<usize>(name);
  const nl = <u32>name.length;
  return v != null ? addRaw(out, np, nl, v.ptr, v.len) : addRaw(out, np, nl, changetype<usize>(fallback), <u32>fallback.length);
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
    const size = FIELD_HEADER + load<u32>(p) + load<u32>(p, 4);
    const isHost = load<u32>(p) == 4 && load<u32>(p + FIELD_HEADER) == 0x74736f68; // "host"
    if (!isHost) {
      if (!out.reserve(size)) return false;
      out.pushBytes(p, size);
    }
    at += size;
  }
  return true;
}

function eqPseudo(b: ByteBuffer | null, lit: StaticArray<u8>): bool {
  if (b == null) return false;
  return b.len == <u32>lit.length && memory.compare(b.ptr, changetype<usize>(lit), b.len) == 0;
}

@inline function isSchemeChar(c: u8): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2b || c == 0x2d || c == 0x2e;
}

const SLASH: StaticArray<u8> = [0x2f];
const HOST: StaticArray<u8> = [0x68, 0x6f, 0x73, 0x74];

/** Releases an object's own handle (the library freed it). */
export function dropHandle(handle: u32, kind: HandleKind): void {
  if (handle != 0) handleRelease(handle, kind);
}
