// The functions the module imports from its host, all under `h2_host`. Each is declared
// in include/h2wasm.h with its contract. Return values from the host are never trusted:
// every count is checked against what was asked before it is used. Every call goes
// through callHost, which holds garbage collection off while the host runs: the wasm
// frames below it may hold objects nothing else references (util/gc.ts).
import { enterHost, leaveHost } from '../util/gc';

/** Read up to `len` bytes into [buf, buf+len): a count, 0 for EOF, H2_IO_PENDING (after
 *  taking a waker from `ctx`) or H2_IO_ERROR. */
@external("h2_host", "io_read")
declare function rawIoRead(userdata: u32, ctx: usize, buf: usize, len: usize): u32;

/** Write up to `len` bytes from [buf, buf+len): a count (> 0), H2_IO_PENDING or H2_IO_ERROR. */
@external("h2_host", "io_write")
declare function rawIoWrite(userdata: u32, ctx: usize, buf: usize, len: usize): u32;

/** A request body's data source: write up to `len` bytes into [buf, buf+len) and return
 *  the count; 0 for the end; H2_IO_PENDING (with a waker) or H2_IO_ERROR; or
 *  H2_DATA_NO_COPY | n: n bytes are ready and the host will write them itself through
 *  send_data when their frame is due. */
@external("h2_host", "body_read")
declare function rawBodyRead(userdata: u32, ctx: usize, buf: usize, len: usize): u32;

/** Zero-copy DATA: write the frame prefix [prefix, prefix+prefixLen) (9-byte header, and
 *  the Pad Length byte when padded), then `dataLen` bytes of the source's own data, then
 *  `padLen` zero bytes, to the transport, in that order. 0 when done, H2_IO_PENDING when
 *  it would block (asked again later with the same frame), H2_IO_ERROR to fail the stream. */
@external("h2_host", "send_data")
declare function rawSendData(
  userdata: u32,
  ctx: usize,
  prefix: usize,
  prefixLen: usize,
  dataLen: usize,
  padLen: usize,
): u32;

/** h2_headers_foreach: called per field; return 0 to go on, 1 to stop (hyper's HYPER_ITER_*). */
@external("h2_host", "headers_foreach")
declare function rawHeadersForeach(userdata: u32, name: usize, nameLen: usize, value: usize, valueLen: usize): u32;

/** A 1xx informational response arrived for a request that asked (h2_request_on_informational);
 *  `response` is borrowed for the duration of the call. */
@external("h2_host", "informational")
declare function rawInformational(userdata: u32, response: usize): void;

/** The host's functions, for callHost. */
export const enum HostCall {
  IO_READ,
  IO_WRITE,
  BODY_READ,
  SEND_DATA,
  HEADERS_FOREACH,
  INFORMATIONAL,
}

/**
 * Calls the host's function `call` with `userdata` and, in order, as many of `a`…`e` as
 * it takes (see each declaration above), and returns its answer (0 for INFORMATIONAL).
 * Each argument is one wasm32 word, pointer or count; the header gives its C type.
 */
export function callHost(
  call: HostCall,
  userdata: u32,
  a: usize,
  b: usize = 0,
  c: usize = 0,
  d: usize = 0,
  e: usize = 0,
): u32 {
  enterHost();
  let r: u32 = 0;
  if (call == HostCall.IO_READ) r = rawIoRead(userdata, a, b, c);
  else if (call == HostCall.IO_WRITE) r = rawIoWrite(userdata, a, b, c);
  else if (call == HostCall.BODY_READ) r = rawBodyRead(userdata, a, b, c);
  else if (call == HostCall.SEND_DATA) r = rawSendData(userdata, a, b, c, d, e);
  else if (call == HostCall.HEADERS_FOREACH) r = rawHeadersForeach(userdata, a, b, c, d);
  else rawInformational(userdata, a);
  leaveHost();
  return r;
}

export const H2_IO_PENDING: u32 = 0xffffffff;
export const H2_IO_ERROR: u32 = 0xfffffffe;
/** Flag in body_read's answer: the host sends these bytes itself (zero-copy). */
export const H2_DATA_NO_COPY: u32 = 0x80000000;
/** send_data's answer: written; the executor's poll returns after this frame. */
export const H2_DATA_PAUSE: u32 = 0xfffffffd;
/** send_data's answer: the connection fails (GOAWAY INTERNAL_ERROR). */
export const H2_DATA_FAIL_CONNECTION: u32 = 0xfffffffc;
