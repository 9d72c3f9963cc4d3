// The ABI: Responses (hyper_response) and answering a request (the h2 crate's SendResponse).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind } from '../handles';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Request, Response } from '../messages';
import { bodyReader, Respond, respondWhole, sendResponse, push, sentCode, sentHandle } from '../conn-roles';
import { ResetTask } from '../body';
import { validRange } from '../memory';
import { validateFieldList } from '../../hpack';
import { get, release, setSourceBody, takeMessage, newHandle, taskHandle } from './common';

/** A new response (status 200); the host owns it until sent. */
export function h2_response_new(): u32 {
  return newHandle<Response>(HandleKind.RESPONSE);
}

/** Frees a response. */
export function h2_response_free(resp: u32): u32 {
  return release(resp, HandleKind.RESPONSE) ? H2E_OK : H2E_INVALID_ARG;
}

/** The status code. */
export function h2_response_status(resp: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  return r == null ? 0 : r.status;
}

/** Sets the status code (100..999). */
export function h2_response_set_status(resp: u32, status: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  if (r == null || status < 100 || status > 999) return H2E_INVALID_ARG;
  r.status = status;
  return H2E_OK;
}

/** hyper's HYPER_HTTP_VERSION_2 (20): every h2wasm response is HTTP/2. */
export function h2_response_version(resp: u32): u32 {
  return get<Response>(resp, HandleKind.RESPONSE) == null ? 0 : 20;
}

/** The response's headers, borrowed. */
export function h2_response_headers(resp: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  return r == null ? 0 : r.headers.borrowHandle();
}

/** Client: the body reader of a received response (once; the host owns it). */
export function h2_response_body(resp: u32): u32 {
  const r = get<Response>(resp, HandleKind.RESPONSE);
  return r == null ? 0 : bodyReader<Response>(r);
}

/** Server: gives a response a body read from a data source (taken). */
export function h2_response_set_body(resp: u32, body: u32): u32 {
  return setSourceBody(get<Response>(resp, HandleKind.RESPONSE), body);
}

/**
 * Sends what `msgHandle` holds on `respond`, taking it: a Response as the final or an
 * informational response, a Request as a push promise. h2_last_result gets the code.
 */
function respondWith<M>(respond: u32, msgHandle: u32, kind: HandleKind, endStream: bool, informational: bool): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  const msg = takeMessage<M>(msgHandle, kind, r);
  lastResult = H2E_INVALID_ARG;
  if (msg == null) return 0;
  const outcome =
    msg instanceof Request
      ? push(r!, changetype<Request>(msg))
      : sendResponse(r!, changetype<Response>(msg), endStream, informational);
  msg.dispose();
  lastResult = sentCode(outcome);
  return sentHandle(outcome);
}

/** Sends the final response (consumed). Returns a send stream for the body, or 0 (see h2_last_result). */
export function h2_respond_send_response(respond: u32, resp: u32, endStream: u32): u32 {
  return respondWith<Response>(respond, resp, HandleKind.RESPONSE, endStream != 0, false);
}

/**
 * The whole final response in one call: `:status` `status`, the headers as a flat field
 * list [fields, fields+fieldsLen) (names lowercased), the body [body, body+bodyLen)
 * (copied) and END_STREAM. No response, headers, body or send stream handle is made.
 * No body in answer to HEAD or with 204/304. H2E_LIMIT_EXCEEDED (nothing sent) when the
 * body fits neither the windows nor the send buffers now: answer through
 * h2_respond_send_response then.
 */
export function h2_respond_send_whole(
  respond: u32,
  status: u32,
  fields: usize,
  fieldsLen: u32,
  body: usize,
  bodyLen: u32,
): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  if (
    r == null ||
    status < 100 ||
    status > 999 ||
    !validRange(fields, fieldsLen) ||
    !validRange(body, bodyLen) ||
    validateFieldList(fields, fieldsLen) < 0
  )
    return H2E_INVALID_ARG;
  return respondWhole(r, status, fields, fieldsLen, body, bodyLen);
}

/** Sends a 1xx informational response (taken); any number before the final one. */
export function h2_respond_send_informational(respond: u32, resp: u32): u32 {
  respondWith<Response>(respond, resp, HandleKind.RESPONSE, false, true);
  return lastResult;
}

/** Server push (§8.4): promises `req` (taken); returns the pushed stream's respond handle,
 *  or 0 (h2_last_result: see "A send that fails" below; H2E_CLOSED also when the peer
 *  disabled push). */
export function h2_respond_push(respond: u32, req: u32): u32 {
  return respondWith<Request>(respond, req, HandleKind.REQUEST, false, false);
}

/** Resets the stream with `reason` (RFC 9113 code). */
export function h2_respond_reset(respond: u32, reason: u32): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  if (r == null) return H2E_INVALID_ARG;
  const s = r.ctx.stream;
  if (s == null) return H2E_OK;
  r.responded = true;
  r.ctx.conn.engine.resetStream(s, reason);
  return H2E_OK;
}

/** The stream id. */
export function h2_respond_stream_id(respond: u32): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  return r == null ? 0 : r.ctx.id;
}

/** H2_TASK_RESET with the code once the stream is reset; EMPTY when it closes normally. */
export function h2_respond_poll_reset(respond: u32): u32 {
  const r = get<Respond>(respond, HandleKind.RESPOND);
  return r == null ? 0 : taskHandle(new ResetTask(r.ctx));
}

/** Frees the respond handle; a stream never answered is reset (CANCEL). */
export function h2_respond_free(respond: u32): u32 {
  return release(respond, HandleKind.RESPOND) ? H2E_OK : H2E_INVALID_ARG;
}

/** The H2E code behind the last call that answered a 0 handle (send_response, push). */
let lastResult: u32 = H2E_OK;

/** The H2E code behind the last call that returned a 0 handle (send_response, push).
 *
 *  A send that fails (a request, a response, a push, DATA, trailers) reports the same code
 *  for the same cause on every path: H2E_LIMIT_EXCEEDED for a limit (a send buffer, the
 *  instance's budget, a head larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE),
 *  H2E_INVALID_ARG for a malformed message (RFC 9113 §8), H2E_CLOSED when the stream or
 *  connection cannot take it (closed, reset, going away, stream ids exhausted). */
export function h2_last_result(): u32 {
  return lastResult;
}
