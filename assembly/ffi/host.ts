// The functions the module imports from its host, all under `h2_host`. Each is declared
// in include/h2wasm.h with its contract. Return values from the host are never trusted:
// every count is checked against what was asked before it is used.

/** Read up to `len` bytes into [buf, buf+len): a count, 0 for EOF, H2_IO_PENDING (after
 *  taking a waker from `ctx`) or H2_IO_ERROR. */
@external("h2_host", "io_read")
export declare function hostIoRead(userdata: u32, ctx: u32, buf: usize, len: u32): u32;

/** Write up to `len` bytes from [buf, buf+len): a count (> 0), H2_IO_PENDING or H2_IO_ERROR. */
@external("h2_host", "io_write")
export declare function hostIoWrite(userdata: u32, ctx: u32, buf: usize, len: u32): u32;

/** A request body's data source: write up to `len` bytes into [buf, buf+len) and return
 *  the count; 0 for the end; H2_IO_PENDING (with a waker) or H2_IO_ERROR; or
 *  H2_DATA_NO_COPY | n: n bytes are ready and the host will write them itself through
 *  send_data when their frame is due. */
@external("h2_host", "body_read")
export declare function hostBodyRead(userdata: u32, ctx: u32, buf: usize, len: u32): u32;

/** Zero-copy DATA: write the frame prefix [prefix, prefix+prefixLen) (9-byte header, and
 *  the Pad Length byte when padded), then `dataLen` bytes of the source's own data, then
 *  `padLen` zero bytes, to the transport, in that order. 0 when done, H2_IO_PENDING when
 *  it would block (asked again later with the same frame), H2_IO_ERROR to fail the stream. */
@external("h2_host", "send_data")
export declare function hostSendData(userdata: u32, ctx: u32, prefix: usize, prefixLen: u32, dataLen: u32, padLen: u32): u32;

/** h2_headers_foreach: called per field; return 0 to go on, 1 to stop (hyper's HYPER_ITER_*). */
@external("h2_host", "headers_foreach")
export declare function hostHeadersForeach(userdata: u32, name: usize, nameLen: u32, value: usize, valueLen: u32): u32;

/** A 1xx informational response arrived for a request that asked (h2_request_on_informational);
 *  `response` is borrowed for the duration of the call. */
@external("h2_host", "informational")
export declare function hostInformational(userdata: u32, response: u32): void;

export const H2_IO_PENDING: u32 = 0xffffffff;
export const H2_IO_ERROR: u32 = 0xfffffffe;
/** Flag in body_read's answer: the host sends these bytes itself (zero-copy). */
export const H2_DATA_NO_COPY: u32 = 0x80000000;
