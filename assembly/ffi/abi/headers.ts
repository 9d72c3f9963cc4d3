// The ABI: Headers (hyper_headers): a flat field list.
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { validRange } from '../memory';
import { H2E_INVALID_ARG, H2E_OK, H2E_LIMIT_EXCEEDED } from '../errors';
import { Headers } from '../http';
import { safepoint } from '../../util/gc';
import { validateFieldList, fieldName, fieldNameLen, fieldValue, fieldValueLen, nextField } from '../../hpack';
import { callHost, HostCall } from '../host';
import { get } from './common';

function headersAdd(headers: u32, name: usize, nameLen: u32, value: usize, valueLen: u32, replace: bool): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || nameLen == 0 || !validRange(name, nameLen) || !validRange(value, valueLen)) return H2E_INVALID_ARG;
  if (replace) h.remove(name, nameLen);
  return h.add(name, nameLen, value, valueLen, 0) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}

/** Replaces every field named `name` with one (copied; name lowercased). */
export function h2_headers_set(headers: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32 {
  return headersAdd(headers, name, nameLen, value, valueLen, true);
}

/** Adds a field (copied; name lowercased). */
export function h2_headers_add(headers: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32 {
  return headersAdd(headers, name, nameLen, value, valueLen, false);
}

/** Copies the index-th value named `name` into [buf, buf+cap); returns its length, 0xFFFFFFFF when absent. */
export function h2_headers_get(headers: u32, name: usize, nameLen: u32, index: u32, buf: usize, cap: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || !validRange(name, nameLen) || !validRange(buf, cap)) return 0xffffffff;
  const at = h.find(name, nameLen, index);
  if (at < 0) return 0xffffffff;
  const p = h.list.ptr + <usize>at;
  const vl = fieldValueLen(p);
  memory.copy(buf, fieldValue(p), min(cap, vl));
  return vl;
}

/** Removes every field named `name`; returns how many. */
export function h2_headers_remove(headers: u32, name: usize, nameLen: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || !validRange(name, nameLen)) return 0;
  return h.remove(name, nameLen);
}

/** The number of fields. */
export function h2_headers_count(headers: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  return h == null ? 0 : h.count();
}

/** Calls h2_host_headers_foreach(userdata, …) for each field, in order. */
export function h2_headers_foreach(headers: u32, userdata: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null) return H2E_INVALID_ARG;
  const l = h.list;
  const end = l.ptr + <usize>l.len;
  for (let p = l.ptr; p < end; p = nextField(p)) {
    if (
      callHost(HostCall.HEADERS_FOREACH, userdata, fieldName(p), fieldNameLen(p), fieldValue(p), fieldValueLen(p)) != 0
    )
      break;
  }
  return H2E_OK;
}

/** Replaces every field with a flat field list (copied; names lowercased). */
export function h2_headers_set_all(headers: u32, fields: usize, len: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  if (h == null || !validRange(fields, len) || validateFieldList(fields, len) < 0) return H2E_INVALID_ARG;
  return h.setAll(fields, len) ? H2E_OK : H2E_LIMIT_EXCEEDED;
}

/** The fields as a flat list, owned by the headers, valid until they change. */
export function h2_headers_fields(headers: u32): usize {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  return h == null ? 0 : h.list.ptr;
}

/** Its length. */
export function h2_headers_fields_len(headers: u32): u32 {
  const h = get<Headers>(headers, HandleKind.HEADERS);
  return h == null ? 0 : h.list.len;
}

/** New standalone headers (for trailers); the host owns them until passed on. */
export function h2_headers_new(): u32 {
  safepoint();
  const h = new Headers();
  return h.borrowHandle();
}

/** Frees standalone headers (or trailers from a task). */
export function h2_headers_free(headers: u32): u32 {
  const h = changetype<Headers | null>(handleRelease(headers, HandleKind.HEADERS));
  if (h == null) return H2E_INVALID_ARG;
  h.handle = 0;
  h.dispose();
  return H2E_OK;
}
