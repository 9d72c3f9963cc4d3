// The ABI: Send streams (the h2 crate's SendStream).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { validRange } from '../memory';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Headers } from '../http';
import { SendStream, CapacityTask, ResetTask } from '../body';
import { get, release, taskHandle } from './common';

/** Asks for `n` bytes of send capacity: the most to have assigned at once (not additive:
 *  it replaces the earlier request; lowering it, or 0, gives capacity back). Capacity is
 *  assigned in the order streams asked, within their window, the connection's window,
 *  the send-buffer caps and H2_OPT_CAPACITY_HIGH_WATER (the connection's unwritten bytes),
 *  and is held for this stream: no other stream is assigned the same room. */
export function h2_send_stream_reserve_capacity(stream: u32, n: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? H2E_INVALID_ARG : s.reserveCapacity(n);
}

/** Capacity assigned and not yet used (send_data uses it up); 0 once the stream cannot
 *  send. A stream that ends gives its capacity back. */
export function h2_send_stream_capacity(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : s.capacity();
}

/** H2_TASK_CAPACITY once capacity is assigned; H2_TASK_EMPTY when the stream cannot send. */
export function h2_send_stream_poll_capacity(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : taskHandle(new CapacityTask(s));
}

/** Queues [ptr, ptr+len) (copied), END_STREAM after it when end_of_stream. H2E_LIMIT_EXCEEDED
 *  (nothing queued) past the send-buffer caps: wait for capacity. */
export function h2_send_stream_send_data(stream: u32, ptr: usize, len: u32, endStream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  if (s == null || !validRange(ptr, len)) return H2E_INVALID_ARG;
  return s.sendData(ptr, len, endStream != 0);
}

/** Sends trailers (END_STREAM); the headers handle is consumed. */
export function h2_send_stream_send_trailers(stream: u32, headers: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  const h = changetype<Headers | null>(handleRelease(headers, HandleKind.HEADERS));
  if (h == null) return H2E_INVALID_ARG;
  h.handle = 0;
  const rc = s == null ? H2E_INVALID_ARG : s.sendTrailers(h);
  h.dispose();
  return rc;
}

/** Resets the stream with `reason` (RFC 9113 code). */
export function h2_send_stream_send_reset(stream: u32, reason: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? H2E_INVALID_ARG : s.sendReset(reason);
}

/** H2_TASK_RESET with the peer's code when it resets the stream; EMPTY when it closes normally. */
export function h2_send_stream_poll_reset(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : taskHandle(new ResetTask(s.ctx));
}

/** The stream id (0 while queued behind MAX_CONCURRENT_STREAMS). */
export function h2_send_stream_stream_id(stream: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  return s == null ? 0 : s.streamId();
}

/** Pads every following DATA frame of the stream with `pad` bytes (0..255); 0xFFFFFFFF turns padding off. */
export function h2_send_stream_set_padding(stream: u32, pad: u32): u32 {
  const s = get<SendStream>(stream, HandleKind.SEND_STREAM);
  if (s == null || (pad > 255 && pad != 0xffffffff)) return H2E_INVALID_ARG;
  return s.setPadding(pad == 0xffffffff ? -1 : <i32>pad);
}

/** Frees a send stream; one that could still send is reset (CANCEL). */
export function h2_send_stream_free(stream: u32): u32 {
  return release(stream, HandleKind.SEND_STREAM) ? H2E_OK : H2E_INVALID_ARG;
}
