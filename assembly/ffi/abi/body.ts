// The ABI: Bodies (hyper_body) and bufs (hyper_buf).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleNew, handleRelease } from '../handles';
import { validRange } from '../memory';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Buf, Headers } from '../http';
import { Body, BodyDataTask, TrailersTask, bodyRead, bodyRelease } from '../body';
import { ByteBuffer } from '../../util/bytes';
import { safepoint } from '../../util/gc';
import { get, release, taskHandle, newHandle, setUserdata } from './common';

/** A new data-source body, read through h2_host_body_read(userdata, …); the host owns it until set. */
export function h2_body_new(): u32 {
  return newHandle<Body>(HandleKind.BODY);
}

/** Sets the userdata passed to body_read. */
export function h2_body_set_userdata(body: u32, userdata: u32): u32 {
  return setUserdata<Body>(body, HandleKind.BODY, userdata);
}

/** A data source's DATA frames, copied or zero-copy, padded with `pad` zero bytes each (0..255; 0xFFFFFFFF: none). */
export function h2_body_set_padding(body: u32, pad: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  if (b == null || (pad > 255 && pad != 0xffffffff)) return H2E_INVALID_ARG;
  b.padding = pad == 0xffffffff ? -1 : <i32>pad;
  return H2E_OK;
}

/** Trailers sent after a data source's last byte instead of END_STREAM on DATA (the headers are taken). */
export function h2_body_set_trailers(body: u32, trailers: u32): u32 {
  const h = changetype<Headers | null>(handleRelease(trailers, HandleKind.HEADERS));
  const b = get<Body>(body, HandleKind.BODY);
  if (h == null) return H2E_INVALID_ARG;
  h.handle = 0;
  if (b == null) {
    h.dispose();
    return H2E_INVALID_ARG;
  }
  const old = b.trailers;
  if (old != null) old.dispose();
  b.trailers = h;
  return H2E_OK;
}

/** The next received chunk: H2_TASK_BUF (everything buffered, as one buf), H2_TASK_EMPTY
 *  at the end, or an error. Unless release is manual, the bytes go back to the window. */
export function h2_body_data(body: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null ? 0 : taskHandle(new BodyDataTask(b));
}

/** Everything the body has buffered, copied to [dst, dst+cap) when it all fits: its length;
 *  0 when nothing is buffered, it does not fit, or the handle or range is bad (h2_body_data
 *  then tells which). A synchronous h2_body_data for what is already in: no task, no buf.
 *  Unless release is manual, the bytes go back to the window. */
export function h2_body_read(body: u32, dst: usize, cap: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null || !validRange(dst, cap) ? 0 : bodyRead(b, dst, cap);
}

/** After the end: H2_TASK_TRAILERS with the trailers, or H2_TASK_EMPTY when there are none. */
export function h2_body_trailers(body: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null ? 0 : taskHandle(new TrailersTask(b));
}

/** 1 when the received body is over with nothing left to read: no bytes buffered, no
 *  trailers (h2_body_data and h2_body_trailers would both finish EMPTY at once). A
 *  request with END_STREAM on its head is one; hosts skip both tasks for it. 0 otherwise. */
export function h2_body_is_end(body: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  if (b == null) return 0;
  const ctx = b.ctx;
  return ctx != null && ctx.recvEnded && ctx.recvLen == 0 && ctx.trailers == null ? 1 : 0;
}

/** Manual flow control (H2_OPT_MANUAL_RELEASE): the host is done with `n` received bytes. */
export function h2_body_release(body: u32, n: u32): u32 {
  const b = get<Body>(body, HandleKind.BODY);
  return b == null ? H2E_INVALID_ARG : bodyRelease(b, n);
}

/** Frees a body; an unfinished received body resets its stream (CANCEL). */
export function h2_body_free(body: u32): u32 {
  return release(body, HandleKind.BODY) ? H2E_OK : H2E_INVALID_ARG;
}

/** A buf holding a copy of [ptr, ptr+len); the host owns it. */
export function h2_buf_copy(ptr: usize, len: u32): u32 {
  safepoint();
  if (!validRange(ptr, len)) return 0;
  const bytes = new ByteBuffer();
  if (!bytes.reserve(len)) return 0;
  bytes.pushBytes(ptr, len);
  const h = handleNew(HandleKind.BUF, new Buf(bytes));
  if (h == 0) bytes.dispose(); // the handle table is full: the copy would be lost
  return h;
}

/** The buf's bytes (owned by the buf). */
export function h2_buf_bytes(buf: u32): usize {
  const b = get<Buf>(buf, HandleKind.BUF);
  return b == null ? 0 : b.bytes.ptr;
}

/** The buf's length. */
export function h2_buf_len(buf: u32): u32 {
  const b = get<Buf>(buf, HandleKind.BUF);
  return b == null ? 0 : b.bytes.len;
}

/** Frees a buf. */
export function h2_buf_free(buf: u32): u32 {
  return release(buf, HandleKind.BUF) ? H2E_OK : H2E_INVALID_ARG;
}
