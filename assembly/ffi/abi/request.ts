// The ABI: Requests (hyper_request), client and server side.
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, adopt } from '../handles';
import { validRange } from '../memory';
import { H2E_INVALID_ARG, H2E_OK, H2E_LIMIT_EXCEEDED } from '../errors';
import { Request, Pseudo } from '../messages';
import { SendStream } from '../body';
import { takeRespond, bodyReader } from '../conn-roles';
import { get, release, setSourceBody, newHandle } from './common';

/** A new request (GET, https, path "/" unless set); the host owns it until sent. */
export function h2_request_new(): u32 {
  return newHandle<Request>(HandleKind.REQUEST);
}

/** Frees a request. */
export function h2_request_free(req: u32): u32 {
  return release(req, HandleKind.REQUEST) ? H2E_OK : H2E_INVALID_ARG;
}

function setPseudo(req: u32, which: i32, ptr: usize, len: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  return r.setPseudo(which, ptr, len) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}

/** Sets :method (copied). */
export function h2_request_set_method(req: u32, ptr: usize, len: u32): u32 {
  return setPseudo(req, Pseudo.METHOD, ptr, len);
}

/** Sets the target from "scheme://authority/path?query" or an origin-form "/path" (copied). */
export function h2_request_set_uri(req: u32, ptr: usize, len: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  return r.setUri(ptr, len) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}

/** Sets :scheme, :authority and :path separately (copied). */
export function h2_request_set_uri_parts(
  req: u32,
  scheme: usize,
  schemeLen: u32,
  authority: usize,
  authorityLen: u32,
  path: usize,
  pathLen: u32,
): u32 {
  if (!validRange(scheme, schemeLen) || !validRange(authority, authorityLen) || !validRange(path, pathLen))
    return H2E_INVALID_ARG;
  let rc = setPseudo(req, Pseudo.SCHEME, scheme, schemeLen);
  if (rc == H2E_OK) rc = setPseudo(req, Pseudo.AUTHORITY, authority, authorityLen);
  if (rc == H2E_OK) rc = setPseudo(req, Pseudo.PATH, path, pathLen);
  return rc;
}

/** Sets :protocol (RFC 8441 extended CONNECT; the server must have enabled it). */
export function h2_request_set_protocol(req: u32, ptr: usize, len: u32): u32 {
  return setPseudo(req, Pseudo.PROTOCOL, ptr, len);
}

/** Copies a pseudo-header of a request (METHOD 0, SCHEME 1, AUTHORITY 2, PATH 3, PROTOCOL 4). */
export function h2_request_pseudo(req: u32, which: u32, buf: usize, cap: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || which >= <u32>Pseudo.COUNT || !validRange(buf, cap)) return 0xffffffff;
  if (!r.hasPseudo(<i32>which)) return 0xffffffff;
  const n = r.pseudoLen(<i32>which);
  memory.copy(buf, r.pseudoPtr(<i32>which), min(cap, n));
  return n;
}

/** The request's headers, borrowed (valid while the request is). Names are lowercased. */
export function h2_request_headers(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  return r == null ? 0 : r.headers.borrowHandle();
}

/** Gives the request a body read from a data source (the body is taken). */
export function h2_request_set_body(req: u32, body: u32): u32 {
  return setSourceBody(get<Request>(req, HandleKind.REQUEST), body);
}

/** Makes the body a send stream the host writes after sending (the h2 crate's SendStream).
 *  Returns it; the host owns it. 0 when the request already has a body. */
export function h2_request_send_stream(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null || r.streaming || r.body != null || r.ctx != null) return 0;
  const s = new SendStream();
  adopt(HandleKind.SEND_STREAM, s);
  r.streaming = true;
  r.streamingHandle = s.handle;
  return s.handle;
}

/** 1xx responses to this request go to h2_host_informational(userdata, response). */
export function h2_request_on_informational(req: u32, userdata: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  if (r == null) return H2E_INVALID_ARG;
  r.wantsInformational = true;
  r.informationalUserdata = userdata;
  return H2E_OK;
}

/** Server: the body reader of a received request (once; the host owns it). */
export function h2_request_body(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  return r == null ? 0 : bodyReader<Request>(r);
}

/** Server: the right to answer a received request (once; the host owns it). */
export function h2_request_respond(req: u32): u32 {
  const r = get<Request>(req, HandleKind.REQUEST);
  return r == null ? 0 : takeRespond(r);
}
