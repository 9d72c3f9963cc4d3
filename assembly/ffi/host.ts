// The functions the module imports from its host, all under `h2_host`. Each is declared
// in include/h2wasm.h with its contract. Return values from the host are never trusted:
// every count is checked against what was asked before it is used. Each call is
// bracketed by enterHost/leaveHost: no garbage collection while the host runs, because
// the wasm frames below it may hold objects nothing else references (util/gc.ts).
import { enterHost, leaveHost } from '../util/gc';

/** Read up to `len` bytes into [buf, buf+len): a count, 0 for EOF, H2_IO_PENDING (after
 *  taking a waker from `ctx`) or H2_IO_ERROR. */
@external("h2_host", "io_read")
declare function rawIoRead(userdata: u32, ctx: u32, buf: usize, len: u32): u32;
export function hostIoRead(userdata: u32, ctx: u32, buf: usize, len: u32): u32 {
  enterHost();
  const r = rawIoRead(userdata, ctx, buf, len);
  leaveHost();
  return r;
}

/** Write up to `len` bytes from [buf, buf+len): a count (> 0), H2_IO_PENDING or H2_IO_ERROR. */
@external("h2_host", "io_write")
declare function rawIoWrite(userdata: u32, ctx: u32, buf: usize, len: u32): u32;
export function hostIoWrite(userdata: u32, ctx: u32, buf: usize, len: u32): u32 {
  enterHost();
  const r = rawIoWrite(userdata, ctx, buf, len);
  leaveHost();
  return r;
}

/** A request body's data source: write up to `len` bytes into [buf, buf+len) and return
 *  the count; 0 for the end; H2_IO_PENDING (with a waker) or H2_IO_ERROR; or
 *  H2_DATA_NO_COPY | n: n bytes are ready and the host will write them itself through
 *  send_data when their frame is due. */
@external("h2_host", "body_read")
declare function rawBodyRead(userdata: u32, ctx: u32, buf: usize, len: u32): u32;
export function hostBodyRead(userdata: u32, ctx: u32, buf: usize, len: u32): u32 {
  enterHost();
  const r = rawBodyRead(userdata, ctx, buf, len);
  leaveHost();
  return r;
}

/** Zero-copy DATA: write the frame prefix [prefix, prefix+prefixLen) (9-byte header, and
 *  the Pad Length byte when padded), then `dataLen` bytes of the source's own data, then
 *  `padLen` zero bytes, to the transport, in that order. 0 when done, H2_IO_PENDING when
 *  it would block (asked again later with the same frame), H2_IO_ERROR to fail the stream. */
@external("h2_host", "send_data")
declare function rawSendData(userdata: u32, ctx: u32, prefix: usize, prefixLen: u32, dataLen: u32, padLen: u32): u32;
export function hostSendData(userdata: u32, ctx: u32, prefix: usize, prefixLen: u32, dataLen: u32, padLen: u32): u32 {
  enterHost();
  const r = rawSendData(userdata, ctx, prefix, prefixLen, dataLen, padLen);
  leaveHost();
  return r;
}

/** h2_headers_foreach: called per field; return 0 to go on, 1 to stop (hyper's HYPER_ITER_*). */
@external("h2_host", "headers_foreach")
declare function rawHeadersForeach(userdata: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32;
export function hostHeadersForeach(userdata: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32 {
  enterHost();
  const r = rawHeadersForeach(userdata, name, nameLen, value, valueLen);
  leaveHost();
  return r;
}

/** A 1xx informational response arrived for a request that asked (h2_request_on_informational);
 *  `response` is borrowed for the duration of the call. */
@external("h2_host", "informational")
declare function rawInformational(userdata: u32, response: u32): void;
export function hostInformational(userdata: u32, response: u32): void {
  enterHost();
  rawInformational(userdata, response);
  leaveHost();
}

export const H2_IO_PENDING: u32 = 0xffffffff;
export const H2_IO_ERROR: u32 = 0xfffffffe;
/** Flag in body_read's answer: the host sends these bytes itself (zero-copy). */
export const H2_DATA_NO_COPY: u32 = 0x80000000;
