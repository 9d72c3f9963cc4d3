/*
 * h2wasm.h — the contract of h2wasm.wasm: every export and import of the module, with
 * wasm32 types and the ownership rule of each function. A test holds this file against
 * the compiled module in both directions (names, parameter and result types).
 *
 * How to read it
 * - The module's linear memory is exported as `memory`. A `h2_ptr` is an offset into it.
 *   Bytes cross as (h2_ptr, length) pairs; the callee copies them unless a function
 *   says otherwise. Every pair is bounds-checked: an out-of-range one is H2E_INVALID_ARG.
 * - Objects are handles: u32 values with a generation. A zero, stale, freed or wrong-kind
 *   handle is H2E_INVALID_ARG (or 0 where a handle is returned), never a trap. Freeing
 *   twice is harmless.
 * - One ownership rule: a call that takes ownership takes it whether it succeeds or not.
 * - Imports (h2_host.*) must return, never throw or trap through the module; inside one,
 *   call only what its contract names (h2_context_waker, h2_waker_*, h2_alloc/h2_free…).
 *   The module collects its garbage at the entry of h2_executor_poll/_push and the *_new
 *   constructors, and never while one of its imports is running.
 * - Through wasm2c, an export `h2_x` becomes a function taking the instance first
 *   (wasm2c 1.0.32, Debian's: `Z_h2wasmZ_h2_x(Z_h2wasm_instance_t*, ...)`; newer wasm2c:
 *   `w2c_h2wasm_h2_x(w2c_h2wasm*, ...)`), and an import `h2_host.y` a function you
 *   provide. examples/c/h2wasm_host.h maps both back to the names declared here.
 */
#ifndef H2WASM_H
#define H2WASM_H

#include <stdint.h>

/** Marks a function the module exports under its own name. */
#define H2_EXPORT
/** Marks a function the module imports as `h2_host.<name without h2_host_>`. */
#define H2_IMPORT

/** An offset into the module's linear memory. */
typedef uint32_t h2_ptr;

/* ---- Result codes (0..6 have hyper_code's values) ---------------------------------- */
typedef uint32_t h2_code;
#define H2E_OK                  0 /* all is well */
#define H2E_ERROR               1 /* general error, details in the error object */
#define H2E_INVALID_ARG         2 /* a zero/stale/wrong-kind handle, an out-of-range pointer, a bad value */
#define H2E_UNEXPECTED_EOF      3 /* the IO transport returned EOF when not expected */
#define H2E_ABORTED_BY_CALLBACK 4 /* a host callback asked to abort */
#define H2E_FEATURE_NOT_ENABLED 5 /* an optional feature was not enabled */
#define H2E_INVALID_PEER_MESSAGE 6 /* the peer sent something malformed (e.g. an HPACK COMPRESSION_ERROR) */
#define H2E_OUT_OF_MEMORY       7 /* linear memory could not grow to hold what was asked */
#define H2E_LIMIT_EXCEEDED      8 /* a configured limit would be exceeded */

/* ---- Memory ------------------------------------------------------------------------ */

/** Allocates `len` bytes of linear memory for the host to write into; 0 when memory
 *  cannot grow (or len > 1 GiB). The host owns the buffer until it passes it to h2_free. */
H2_EXPORT h2_ptr h2_alloc(uint32_t len);

/** Frees a buffer from h2_alloc. Anything else (0, a foreign or already freed pointer)
 *  is H2E_INVALID_ARG and changes nothing. */
H2_EXPORT h2_code h2_free(h2_ptr ptr);

/** The number of live handles of every kind: a leak check for hosts and tests. */
H2_EXPORT uint32_t h2_handle_count(void);

/** Bytes of linear memory in use (after a full GC). A diagnostic that walks the heap:
 *  for leak checks and memory figures, not for hot paths. */
H2_EXPORT uint32_t h2_heap_used(void);

/** The ABI version, major << 16 | minor. */
H2_EXPORT uint32_t h2_version(void);

/* ---- Field lists --------------------------------------------------------------------
 * A header list crosses the boundary in one flat buffer: for each field,
 *   uint32_t name_len, uint32_t value_len, uint32_t flags   (little-endian)
 * then the name octets, then the value octets, no padding. Flags: */
#define H2_FIELD_NEVER_INDEX 1u /* sensitive: HPACK never-indexed literal (on decode: arrived so) */
#define H2_FIELD_NO_INDEX    2u /* HPACK literal without indexing */

/* ---- Standalone HPACK (RFC 7541), like nghttp2_hd_* ------------------------------------
 * An encoder and a decoder usable without a connection. Handles are owned by the host
 * and freed with the matching _free. Results (_result / _result_len) are owned by the
 * codec and valid until its next call. */

typedef uint32_t h2_hpack_encoder;
typedef uint32_t h2_hpack_decoder;

/** New encoder, 4096-octet dynamic table (also its cap). 0 when the handle table is full. */
H2_EXPORT h2_hpack_encoder h2_hpack_encoder_new(void);

/** Frees an encoder and its result buffer. H2E_INVALID_ARG for a bad handle (double free is harmless). */
H2_EXPORT h2_code h2_hpack_encoder_free(h2_hpack_encoder encoder);

/** Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table becomes min(n, 4096) and the
 *  next block opens with the size update(s) RFC 7541 §4.2 requires. */
H2_EXPORT h2_code h2_hpack_encoder_set_max_table_size(h2_hpack_encoder encoder, uint32_t n);

/** Encodes one header block from the field list [fields, fields+len) (only read; the host
 *  keeps it). Sensitive fields (H2_FIELD_NEVER_INDEX, authorization, short cookies) are
 *  never indexed; Huffman is used only where shorter. H2E_INVALID_ARG for a bad handle,
 *  range or truncated list (encoder unchanged); H2E_OUT_OF_MEMORY leaves it unusable. */
H2_EXPORT h2_code h2_hpack_encode(h2_hpack_encoder encoder, h2_ptr fields, uint32_t len);

/** The last encoded block (owned by the encoder, valid until its next call). */
H2_EXPORT h2_ptr h2_hpack_encoder_result(h2_hpack_encoder encoder);
/** Its length; 0 after a failure or for a bad handle. */
H2_EXPORT uint32_t h2_hpack_encoder_result_len(h2_hpack_encoder encoder);

/** The encoder's dynamic table size in RFC 7541 units (sum of name + value + 32); 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_encoder_table_size(h2_hpack_encoder encoder);
/** Entries in the encoder's dynamic table; 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_encoder_table_len(h2_hpack_encoder encoder);

/** New decoder: SETTINGS_HEADER_TABLE_SIZE 4096, header list limit 65536. 0 when the handle table is full. */
H2_EXPORT h2_hpack_decoder h2_hpack_decoder_new(void);

/** Frees a decoder and its result buffer. H2E_INVALID_ARG for a bad handle (double free is harmless). */
H2_EXPORT h2_code h2_hpack_decoder_free(h2_hpack_decoder decoder);

/** Sets our SETTINGS_HEADER_TABLE_SIZE (once the peer acknowledged it): the largest size
 *  update the peer may send. Lowering it requires the next block to open with an update. */
H2_EXPORT h2_code h2_hpack_decoder_set_max_table_size(h2_hpack_decoder decoder, uint32_t n);

/** Sets the header list limit, counted as RFC 9113 does (name + value + 32 per field). */
H2_EXPORT h2_code h2_hpack_decoder_set_max_header_list_size(h2_hpack_decoder decoder, uint32_t n);

/** Decodes one whole header block [block, block+len) (only read). H2E_OK: the fields are
 *  in _result as a field list. H2E_INVALID_PEER_MESSAGE: malformed (COMPRESSION_ERROR)
 *  and H2E_OUT_OF_MEMORY: the decoder is unusable afterwards (later calls: H2E_ERROR).
 *  H2E_LIMIT_EXCEEDED: the list is over the limit; the block was consumed so the decoder
 *  stays in step, but no fields are returned. h2_hpack_decoder_error_print says why. */
H2_EXPORT h2_code h2_hpack_decode(h2_hpack_decoder decoder, h2_ptr block, uint32_t len);

/** The last decoded field list (owned by the decoder, valid until its next call). */
H2_EXPORT h2_ptr h2_hpack_decoder_result(h2_hpack_decoder decoder);
/** Its length; 0 after a failure or for a bad handle. */
H2_EXPORT uint32_t h2_hpack_decoder_result_len(h2_hpack_decoder decoder);

/** Copies the last failure's message (ASCII, no NUL) into [buf, buf+cap), truncated;
 *  returns the octets written. Like hyper_error_print. */
H2_EXPORT uint32_t h2_hpack_decoder_error_print(h2_hpack_decoder decoder, h2_ptr buf, uint32_t cap);

/** The decoder's dynamic table size in RFC 7541 units; 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_decoder_table_size(h2_hpack_decoder decoder);
/** Entries in the decoder's dynamic table; 0 for a bad handle. */
H2_EXPORT uint32_t h2_hpack_decoder_table_len(h2_hpack_decoder decoder);

/** Writes dynamic table entry `index` (1 = newest) as a one-field list into [buf, buf+cap);
 *  returns the octets it needs (written only when <= cap), 0 for a bad index or handle. */
H2_EXPORT uint32_t h2_hpack_decoder_table_entry(h2_hpack_decoder decoder, uint32_t index, h2_ptr buf, uint32_t cap);

/* ======================================================================================
 * The connection ABI (hyper's C API shape: io, executor, tasks, client; plus the server,
 * send streams, trailers, 1xx, resets, settings, ping, GOAWAY, graceful shutdown, time).
 * ====================================================================================== */

#define H2_IO_PENDING  0xFFFFFFFFu /* io callbacks: not ready; the host took a waker */
#define H2_IO_ERROR    0xFFFFFFFEu /* io callbacks: the transport failed */
#define H2_DATA_NO_COPY 0x80000000u /* body_read: "n bytes ready, I write them myself" (see send_data) */
#define H2_DATA_PAUSE   0xFFFFFFFDu /* send_data: written; h2_executor_poll returns after this frame */
#define H2_DATA_FAIL_CONNECTION 0xFFFFFFFCu /* send_data: the connection fails (GOAWAY INTERNAL_ERROR) */
#define H2E_CLOSED      9          /* the stream or connection is closed or was reset */

/* Task types (0..4 are hyper's). */
#define H2_TASK_EMPTY      0 /* finished, nothing to take (end of body, no more requests, clean close) */
#define H2_TASK_ERROR      1 /* value: an h2_error */
#define H2_TASK_CLIENTCONN 2 /* value: an h2_clientconn */
#define H2_TASK_RESPONSE   3 /* value: an h2_response */
#define H2_TASK_BUF        4 /* value: an h2_buf */
#define H2_TASK_SERVERCONN 5 /* value: an h2_serverconn */
#define H2_TASK_REQUEST    6 /* value: an h2_request that arrived (server) */
#define H2_TASK_TRAILERS   7 /* value: an h2_headers */
#define H2_TASK_CAPACITY   8 /* value: bytes of send capacity assigned (a number) */
#define H2_TASK_RESET      9 /* value: the peer's RFC 9113 error code (a number) */
#define H2_TASK_PING      10 /* value: the round-trip time in ms (a number) */

/* Keys of h2_clientconn_options_set / h2_serverconn_options_set (defaults in README). */
#define H2_OPT_HEADER_TABLE_SIZE          1   /* SETTINGS_HEADER_TABLE_SIZE we announce */
#define H2_OPT_ENABLE_PUSH                2   /* client: accept server push (0/1) */
#define H2_OPT_MAX_CONCURRENT_STREAMS     3   /* streams the peer may open at once */
#define H2_OPT_INITIAL_WINDOW_SIZE        4   /* our stream receive window */
#define H2_OPT_MAX_FRAME_SIZE             5   /* largest frame we accept (16384..16777215) */
#define H2_OPT_MAX_HEADER_LIST_SIZE       6   /* largest header list we accept */
#define H2_OPT_ENABLE_CONNECT_PROTOCOL    8   /* server: RFC 8441 extended CONNECT */
#define H2_OPT_CONNECTION_WINDOW        100   /* our connection receive window */
#define H2_OPT_MANUAL_RELEASE           101   /* 1: received bytes count until h2_body_release */
#define H2_OPT_MAX_STREAM_SEND_BUFFER   102   /* bytes buffered per stream before send_data is refused */
#define H2_OPT_MAX_CONNECTION_SEND_BUFFER 103 /* the same across all streams */
#define H2_OPT_MAX_CONTINUATIONS        104   /* CONTINUATION frames per field block */
#define H2_OPT_MAX_QUEUED_CONTROL_FRAMES 105  /* unsent SETTINGS/PING ACKs and peer-provoked RST_STREAMs before ENHANCE_YOUR_CALM */
#define H2_OPT_MAX_CLOSED_STREAMS       106   /* closed streams remembered */
#define H2_OPT_MAX_RESETS_PER_SECOND    107   /* peer resets / refused streams / peer-caused stream errors per second */
#define H2_OPT_MAX_PENDING_STREAMS      108   /* our requests queued behind MAX_CONCURRENT_STREAMS */
#define H2_OPT_OUTPUT_HIGH_WATER        109   /* output bytes buffered before DATA waits for the host */
#define H2_OPT_KEEPALIVE_INTERVAL_MS    110   /* silence (nothing received) before a keepalive PING (0 = off, the default) */
#define H2_OPT_KEEPALIVE_TIMEOUT_MS     111   /* how long a PING may go unanswered */
#define H2_OPT_SETTINGS_TIMEOUT_MS      112   /* how long our SETTINGS may go unacknowledged */
#define H2_OPT_IDLE_TIMEOUT_MS          113   /* GOAWAY after this long since the last stream closed (0 = never); server default 300000, client 0 */
#define H2_OPT_GRACEFUL_TIMEOUT_MS      114   /* most a graceful shutdown waits (0 = forever) */
#define H2_OPT_MAX_GLITCHES_PER_SECOND  115   /* empty DATA / PRIORITY / tiny WINDOW_UPDATE / empty CONTINUATION frames per second */
#define H2_OPT_CLOSE_LINGER_MS          116   /* once closed, how long the last bytes (GOAWAY) may wait for a peer that takes none (0 = forever) */
#define H2_OPT_CAPACITY_HIGH_WATER      117   /* send capacity is assigned while the connection holds less than this unwritten (>= 16384) */
#define H2_OPT_HANDSHAKE_TIMEOUT_MS     118   /* the peer's preface and first SETTINGS must arrive within this (10000; 0 = forever) */
#define H2_OPT_HEADER_TIMEOUT_MS        119   /* a header block waiting for CONTINUATION longer than this ends the connection (10000) */
#define H2_OPT_SEND_STALL_TIMEOUT_MS    120   /* a stream with data whose window the peer keeps shut is reset after this (server 30000, client 0) */
#define H2_OPT_WRITE_STALL_TIMEOUT_MS   121   /* the transport takes none of our bytes this long: GOAWAY, closed (30000) */
#define H2_OPT_RECV_IDLE_TIMEOUT_MS     122   /* every open stream waits on the peer and nothing arrives this long: GOAWAY (server 60000, client 0) */

typedef uint32_t h2_io;
typedef uint32_t h2_context;
typedef uint32_t h2_waker;
typedef uint32_t h2_executor;
typedef uint32_t h2_task;
typedef uint32_t h2_error;
typedef uint32_t h2_clientconn_options;
typedef uint32_t h2_clientconn;
typedef uint32_t h2_serverconn_options;
typedef uint32_t h2_serverconn;
typedef uint32_t h2_request;
typedef uint32_t h2_response;
typedef uint32_t h2_respond;
typedef uint32_t h2_headers;
typedef uint32_t h2_body;
typedef uint32_t h2_buf;
typedef uint32_t h2_send_stream;

/* ---- Imports: what the host provides (module "h2_host") ------------------------------- */

/** Read up to `len` bytes into [buf, buf+len). Return the count; 0 at EOF; H2_IO_PENDING
 *  after taking a waker with h2_context_waker(ctx) (wake it when readable); H2_IO_ERROR. */
H2_IMPORT uint32_t h2_host_io_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len);

/** Write up to `len` bytes from [buf, buf+len). Return the count (> 0); H2_IO_PENDING
 *  after taking a waker (wake it when writable); H2_IO_ERROR. The bytes are only read. */
H2_IMPORT uint32_t h2_host_io_write(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len);

/** A body's data source (h2_body_new + h2_body_set_userdata): write up to `len` bytes into
 *  [buf, buf+len) and return the count; 0 at the end; H2_IO_PENDING (with a waker) or
 *  H2_IO_ERROR (the stream is reset with INTERNAL_ERROR); or H2_DATA_NO_COPY | n (n < 2^31):
 *  n bytes are ready but stay in the host's memory, written through send_data. */
H2_IMPORT uint32_t h2_host_body_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len);

/** Zero-copy DATA (nghttp2's NO_COPY + send_data_callback). After body_read answered
 *  H2_DATA_NO_COPY | n, the core calls this when a frame is due, with everything written
 *  before it already passed to io_write: write the frame prefix [prefix, prefix+prefix_len)
 *  (9-byte header, and the Pad Length byte when padded), then data_len bytes of the
 *  source's own data, then pad_len zero bytes, to the transport. The five answers of
 *  nghttp2's send_data_callback: 0 when written; H2_IO_PENDING (after taking a waker from
 *  ctx) when nothing was written: the same frame, byte for byte, is offered again later
 *  (its flow control is already counted); H2_DATA_PAUSE when written, and
 *  h2_executor_poll should return now (it does, after this frame; the connection goes on
 *  at the next poll, which h2_executor_next_deadline makes due at once); H2_IO_ERROR to
 *  fail the stream (RST_STREAM INTERNAL_ERROR); H2_DATA_FAIL_CONNECTION to fail the
 *  connection (GOAWAY INTERNAL_ERROR). Any other answer fails the stream. data_len may be
 *  less than n: the rest comes in later frames. */
H2_IMPORT uint32_t h2_host_send_data(uint32_t userdata, h2_context ctx, h2_ptr prefix, uint32_t prefix_len, uint32_t data_len, uint32_t pad_len);

/** h2_headers_foreach's callback, once per field (name and value are only valid during the
 *  call). Return 0 to continue, 1 to stop (hyper's HYPER_ITER_CONTINUE / _BREAK). */
H2_IMPORT uint32_t h2_host_headers_foreach(uint32_t userdata, h2_ptr name, uint32_t name_len, h2_ptr value, uint32_t value_len);

/** A 1xx response arrived for a request with h2_request_on_informational; `response` is
 *  borrowed for the call (read status and headers; do not free). */
H2_IMPORT void h2_host_informational(uint32_t userdata, h2_response response);

/* ---- IO, contexts, wakers -------------------------------------------------------------- */

/** A new io; pass it to a handshake, which takes ownership. The host owns it until then. */
H2_EXPORT h2_io h2_io_new(void);
/** Sets the userdata passed to io_read / io_write. */
H2_EXPORT h2_code h2_io_set_userdata(h2_io io, uint32_t userdata);
/** Frees an io that was never handed to a handshake. */
H2_EXPORT h2_code h2_io_free(h2_io io);
/** Inside an io callback: a waker for this context. The host owns it: wake or free it. */
H2_EXPORT h2_waker h2_context_waker(h2_context ctx);
/** Wakes (and frees) a waker: the core will call the io again on the next poll. */
H2_EXPORT h2_code h2_waker_wake(h2_waker waker);
/** Frees a waker without waking it. */
H2_EXPORT h2_code h2_waker_free(h2_waker waker);

/* ---- The instance's memory budget -----------------------------------------------------
 *
 * Every connection of a module instance shares one linear memory (4 GiB at most), so the
 * instance keeps one budget across all of them (Envoy's overload manager as the model).
 * It accounts bytes held to send (buffered, assigned as capacity, framed and unwritten),
 * bytes received and not yet taken by the host, and a fixed cost per connection (32 KiB)
 * and per open stream (2 KiB), and acts as it fills: past SEND_BYTES, send capacity is no
 * longer assigned and send_data answers H2E_LIMIT_EXCEEDED (wait for capacity); past
 * RECV_BYTES (received, not yet released by the host) and from 7/8
 * of MEMORY (or past STREAMS) new streams are refused with REFUSED_STREAM, which the peer
 * may retry; from 15/16 (or past CONNECTIONS) a new connection gets GOAWAY
 * ENHANCE_YOUR_CALM before it holds anything; and when something was refused and the
 * budget is full, the connection holding the most that made no progress for a second
 * (its transport took nothing) is closed with ENHANCE_YOUR_CALM, one per turn.
 */
#define H2_BUDGET_MEMORY           1  /* the whole budget in bytes (default 268435456, 1 MiB..4 GiB); setting it derives 2..5 */
#define H2_BUDGET_SEND_BYTES       2  /* bytes held to send, all connections (MEMORY / 2) */
#define H2_BUDGET_RECV_BYTES       3  /* bytes received and not yet taken (MEMORY / 4) */
#define H2_BUDGET_STREAMS          4  /* open streams (MEMORY / 4096) */
#define H2_BUDGET_CONNECTIONS      5  /* connections (MEMORY / 65536) */
#define H2_BUDGET_USED           101  /* get only: bytes accounted, fixed costs included */
#define H2_BUDGET_SEND_BYTES_USED 102 /* get only */
#define H2_BUDGET_RECV_BYTES_USED 103 /* get only */
#define H2_BUDGET_STREAMS_OPEN   104  /* get only */
#define H2_BUDGET_CONNECTIONS_OPEN 105 /* get only */
#define H2_BUDGET_CONNECTIONS_SHED 106 /* get only: connections closed for holding the most without progress */

/** Sets one of the budget's limits (keys 1..5). H2E_INVALID_ARG for another key or a
 *  MEMORY outside 1 MiB..4 GiB. Applies at once to every connection of the instance. */
H2_EXPORT h2_code h2_budget_set(uint32_t key, uint64_t value);
/** A limit (keys 1..5) or what is in use (keys 101..106); 0 for an unknown key. */
H2_EXPORT uint64_t h2_budget_get(uint32_t key);

/* ---- Executor and tasks ----------------------------------------------------------------
 *
 * Time. The core never reads a clock; the host tells it the time. The contract:
 *  - Tell the time (h2_executor_set_time) whenever one of your own events fires — a socket
 *    ready, your timer, a call of your application's — before the calls that event leads
 *    to (a handshake, a send, a PING, h2_executor_poll). Times are ms on one monotonic
 *    clock, 0 .. 2^53-1; a time earlier than the last one told counts as the last one.
 *  - The time told is current until h2_executor_poll returns 0 (your turn is over). A call
 *    made after that and before the next set_time (you accepted a connection before telling
 *    the time, after sleeping for hours) is not stamped with the old time: what it starts
 *    counts from the next set_time. No deadline is ever computed from a time older than the
 *    connection, SETTINGS, PING or stream it governs.
 *  - After each turn, arm one timer at h2_executor_next_deadline (clear it on -1). Until
 *    the time is told again, the deadline of something stamped late is an early estimate:
 *    your timer may fire before anything is due; tell the time, poll, and re-arm.
 *  - A timer that fires late, a clock that jumps forward (a suspended machine) or a long
 *    sleep with nothing due are all fine: deadlines that passed fire at the next set_time.
 */

/** A new executor; the host owns it. */
H2_EXPORT h2_executor h2_executor_new(void);
/** Pushes a task; the executor runs it, the host keeps the handle (free it after poll returns it). */
H2_EXPORT h2_code h2_executor_push(h2_executor exec, h2_task task);
/** Drives the executor's connections that have something to do (a waker woken, a call
 *  made on them, a deadline passed) and returns one finished task, or 0 when none is ready
 *  (then wait for a waker or the next deadline). Only tasks the host pushed return. Idle
 *  connections cost a turn nothing: set_time, poll and next_deadline do not visit them. */
H2_EXPORT h2_task h2_executor_poll(h2_executor exec);
/** Tells the executor the time (ms on one monotonic clock, 0 .. 2^53-1) and acts on every
 *  deadline that passed (see "Time" above). H2E_INVALID_ARG for a bad handle or a time
 *  out of that range. */
H2_EXPORT h2_code h2_executor_set_time(h2_executor exec, int64_t now_ms);
/** The next time (ms) something is due (keepalive, SETTINGS and PING timeouts, idle
 *  timeout, graceful-shutdown wait, close linger), or -1 for none. Acts on nothing. */
H2_EXPORT int64_t h2_executor_next_deadline(h2_executor exec);
/** Frees the executor. Its connections are aborted (CANCEL) and tasks waiting on them
 *  finish with an error, wherever they were pushed. */
H2_EXPORT h2_code h2_executor_free(h2_executor exec);
/** The type of a finished task (H2_TASK_*); H2_TASK_EMPTY while unfinished or for a bad handle. */
H2_EXPORT uint32_t h2_task_type(h2_task task);
/** Takes the value of a finished task: a handle the host then owns, or a number
 *  (CAPACITY, RESET, PING). Later calls return 0 for handle values. */
H2_EXPORT uint32_t h2_task_value(h2_task task);
/** Sets the task's userdata, to tell tasks apart when they come back. */
H2_EXPORT h2_code h2_task_set_userdata(h2_task task, uint32_t userdata);
/** The task's userdata. */
H2_EXPORT uint32_t h2_task_userdata(h2_task task);
/** Frees a task (and a value not taken). Freeing an unfinished task cancels it. */
H2_EXPORT h2_code h2_task_free(h2_task task);

/* ---- Errors ------------------------------------------------------------------------------ */

/** The H2E_* code of an error. */
H2_EXPORT h2_code h2_error_code(h2_error err);
/** The RFC 9113 error code behind it (REFUSED_STREAM, CANCEL, …; 0 when none). */
H2_EXPORT uint32_t h2_error_reason(h2_error err);
/** 1 when the request was not processed and is safe to retry (GOAWAY, REFUSED_STREAM). */
H2_EXPORT uint32_t h2_error_is_retryable(h2_error err);
/** Copies the message into [buf, buf+cap) (truncated, no NUL); returns the bytes written. */
H2_EXPORT uint32_t h2_error_print(h2_error err, h2_ptr buf, uint32_t cap);
/** Frees an error. */
H2_EXPORT h2_code h2_error_free(h2_error err);

/* ---- Client ------------------------------------------------------------------------------ */

/** New client options (defaults in the README); the host owns them until the handshake. */
H2_EXPORT h2_clientconn_options h2_clientconn_options_new(void);
/** Binds the executor the connection will run on (required). */
H2_EXPORT h2_code h2_clientconn_options_exec(h2_clientconn_options opts, h2_executor exec);
/** Sets one H2_OPT_* value; H2E_INVALID_ARG for an unknown key or a value the RFC forbids. */
H2_EXPORT h2_code h2_clientconn_options_set(h2_clientconn_options opts, uint32_t key, uint64_t value);
/** Frees options never handed to a handshake. */
H2_EXPORT h2_code h2_clientconn_options_free(h2_clientconn_options opts);
/** Starts a client connection: sends the preface and SETTINGS. Takes the io and the
 *  options (whatever happens). The task yields H2_TASK_CLIENTCONN once the server's
 *  SETTINGS arrived, or an error. 0 for bad handles. */
H2_EXPORT h2_task h2_clientconn_handshake(h2_io io, h2_clientconn_options opts);
/** Sends a request (taken, whatever happens). The stream opens now, or waits for a
 *  MAX_CONCURRENT_STREAMS slot. The task yields H2_TASK_RESPONSE, or an error (its
 *  reason says REFUSED_STREAM and h2_error_is_retryable when it is safe to retry). */
H2_EXPORT h2_task h2_clientconn_send(h2_clientconn conn, h2_request req);
/** 1 when a request sent now would open at once (no GOAWAY, a concurrency slot free). */
H2_EXPORT uint32_t h2_clientconn_is_ready(h2_clientconn conn);
/** The server's SETTINGS_MAX_CONCURRENT_STREAMS (0xFFFFFFFF when unlimited). */
H2_EXPORT uint32_t h2_clientconn_max_concurrent_streams(h2_clientconn conn);
/** Sends a PING; the task yields H2_TASK_PING with the round-trip time. */
H2_EXPORT h2_task h2_clientconn_ping(h2_clientconn conn);
/** Announces a new value of one of our SETTINGS after the handshake (nghttp2's
 *  nghttp2_submit_settings): `key` is an H2_OPT_* key that is a SETTINGS identifier (1..6,
 *  8). The server is bound by it once it acknowledges (h2_clientconn_local_setting then
 *  reads it); our own header-list limit applies at once. A smaller INITIAL_WINDOW_SIZE
 *  shrinks open streams' windows too (§6.9.2). H2E_INVALID_ARG for another key or a value
 *  the RFC forbids; H2E_CLOSED once the connection is closing; H2E_LIMIT_EXCEEDED while
 *  four SETTINGS frames await their acknowledgement. */
H2_EXPORT h2_code h2_clientconn_submit_setting(h2_clientconn conn, uint32_t key, uint64_t value);
/** Our value of SETTINGS `key` as the server acknowledged it, which binds it now
 *  (MAX_CONCURRENT_STREAMS: the most streams the server may open, h2's
 *  max_concurrent_recv_streams). 0 for a key that is not a SETTINGS identifier. */
H2_EXPORT uint32_t h2_clientconn_local_setting(h2_clientconn conn, uint32_t key);
/** The server's value of SETTINGS `key`, the RFC's initial value until its SETTINGS arrive
 *  (MAX_CONCURRENT_STREAMS: the most streams we may open, h2's max_concurrent_send_streams;
 *  0xFFFFFFFF when unlimited). 0 for a key that is not a SETTINGS identifier. */
H2_EXPORT uint32_t h2_clientconn_remote_setting(h2_clientconn conn, uint32_t key);
/** Moves the connection's receive window target, 1..2^31-1 (h2's set_target_window_size,
 *  H2_OPT_CONNECTION_WINDOW after the handshake): raised, the window opens by the
 *  difference at once (WINDOW_UPDATE on stream 0); lowered, WINDOW_UPDATEs are held back
 *  until the window is under it (a window already granted cannot shrink). */
H2_EXPORT h2_code h2_clientconn_set_target_window_size(h2_clientconn conn, uint32_t size);
/** Abrupt shutdown with GOAWAY debug data (nghttp2's submit_goaway opaque data): GOAWAY
 *  with `reason` (RFC 9113 code) and [debug, debug+len) as its debug data, UTF-8 text of at
 *  most 1 KiB (other bytes are replaced by U+FFFD); every stream is reset. H2E_INVALID_ARG
 *  for a longer text or a range outside memory. */
H2_EXPORT h2_code h2_clientconn_abrupt_shutdown_with_debug(h2_clientconn conn, uint32_t reason, h2_ptr debug, uint32_t len);
/** Server push received (after H2_OPT_ENABLE_PUSH = 1): H2_TASK_REQUEST with the next
 *  promised request (the host owns it; read it like any request), H2_TASK_EMPTY once no
 *  more can come. Its response: h2_request_pushed_response. */
H2_EXPORT h2_task h2_clientconn_poll_push(h2_clientconn conn);
/** The response of a pushed request: a task yielding H2_TASK_RESPONSE (its body as usual).
 *  Once per request; 0 for a request that was not pushed. */
H2_EXPORT h2_task h2_request_pushed_response(h2_request req);
/** A task that finishes when the connection closes: EMPTY when cleanly, ERROR otherwise. */
H2_EXPORT h2_task h2_clientconn_poll_close(h2_clientconn conn);
/** GOAWAY: no new requests; in-flight ones finish, then the connection closes. */
H2_EXPORT h2_code h2_clientconn_graceful_shutdown(h2_clientconn conn);
/** Frees the connection (GOAWAY CANCEL if still open); its streams fail. */
H2_EXPORT h2_code h2_clientconn_free(h2_clientconn conn);

/* ---- Server (the h2 crate's server::Builder, handshake, accept, SendResponse) ------------ */

/** New server options; the host owns them until the handshake. */
H2_EXPORT h2_serverconn_options h2_serverconn_options_new(void);
/** Binds the executor the connection will run on (required). */
H2_EXPORT h2_code h2_serverconn_options_exec(h2_serverconn_options opts, h2_executor exec);
/** Sets one H2_OPT_* value. */
H2_EXPORT h2_code h2_serverconn_options_set(h2_serverconn_options opts, uint32_t key, uint64_t value);
/** Frees options never handed to a handshake. */
H2_EXPORT h2_code h2_serverconn_options_free(h2_serverconn_options opts);
/** Starts a server connection on an accepted transport (io and options taken). The task
 *  yields H2_TASK_SERVERCONN once the client preface and SETTINGS arrived. */
H2_EXPORT h2_task h2_serverconn_handshake(h2_io io, h2_serverconn_options opts);
/** The next request: H2_TASK_REQUEST, or H2_TASK_EMPTY once no more will come (GOAWAY, close). */
H2_EXPORT h2_task h2_serverconn_accept(h2_serverconn conn);
/** Requests in bulk (nghttp2's on_header callbacks, one call per turn): a task that yields
 *  H2_TASK_REQUEST with no value once requests wait to be taken by
 *  h2_serverconn_take_requests, H2_TASK_EMPTY once no more will come (GOAWAY, close). It
 *  takes nothing: push another after taking. */
H2_EXPORT h2_task h2_serverconn_poll_requests(h2_serverconn conn);
/** Takes the waiting requests that fit [buf, buf+cap), in arrival order, each as:
 *    uint32_t respond;     its h2_respond (the host owns it)
 *    uint32_t body;        its h2_body (the host owns it), 0 when nothing more will arrive
 *                          on the stream (it ended with its head)
 *    uint32_t stream_id;
 *    uint32_t head_len;    then head_len bytes: the head as a flat field list (see "Field
 *                          lists"), pseudo-headers first, as it arrived (validated)
 *  little-endian, back to back (no padding). No h2_request, no task per request. Returns the
 *  bytes written: 0 when none waits, when the next does not fit (16 bytes more than
 *  H2_OPT_MAX_HEADER_LIST_SIZE, 64 KiB by default, always take one), or when no handle is
 *  left for its respond and body. A request not taken stays queued: when poll_requests
 *  answered REQUEST and this answers 0, take it with h2_serverconn_accept (it hands over
 *  any head, and fails when no handle is left) rather than polling again. */
H2_EXPORT uint32_t h2_serverconn_take_requests(h2_serverconn conn, h2_ptr buf, uint32_t cap);
/** Sends a PING; the task yields H2_TASK_PING with the round-trip time. */
H2_EXPORT h2_task h2_serverconn_ping(h2_serverconn conn);
/** Announces a new value of one of our SETTINGS after the handshake (nghttp2's
 *  nghttp2_submit_settings): `key` is an H2_OPT_* key that is a SETTINGS identifier (1..6,
 *  8). The client is bound by it once it acknowledges (h2_serverconn_local_setting then
 *  reads it); our own header-list limit applies at once. A smaller INITIAL_WINDOW_SIZE
 *  shrinks open streams' windows too (§6.9.2). H2E_INVALID_ARG for another key or a value
 *  the RFC forbids; H2E_CLOSED once the connection is closing; H2E_LIMIT_EXCEEDED while
 *  four SETTINGS frames await their acknowledgement. */
H2_EXPORT h2_code h2_serverconn_submit_setting(h2_serverconn conn, uint32_t key, uint64_t value);
/** Our value of SETTINGS `key` as the client acknowledged it, which binds it now
 *  (MAX_CONCURRENT_STREAMS: the most streams the client may open, h2's
 *  max_concurrent_recv_streams). 0 for a key that is not a SETTINGS identifier. */
H2_EXPORT uint32_t h2_serverconn_local_setting(h2_serverconn conn, uint32_t key);
/** The client's value of SETTINGS `key`, the RFC's initial value until its SETTINGS arrive
 *  (MAX_CONCURRENT_STREAMS: the most streams we may open, h2's max_concurrent_send_streams;
 *  0xFFFFFFFF when unlimited). 0 for a key that is not a SETTINGS identifier. */
H2_EXPORT uint32_t h2_serverconn_remote_setting(h2_serverconn conn, uint32_t key);
/** Moves the connection's receive window target, 1..2^31-1 (h2's set_target_window_size,
 *  H2_OPT_CONNECTION_WINDOW after the handshake): raised, the window opens by the
 *  difference at once (WINDOW_UPDATE on stream 0); lowered, WINDOW_UPDATEs are held back
 *  until the window is under it (a window already granted cannot shrink). */
H2_EXPORT h2_code h2_serverconn_set_target_window_size(h2_serverconn conn, uint32_t size);
/** Abrupt shutdown with GOAWAY debug data (nghttp2's submit_goaway opaque data): GOAWAY
 *  with `reason` (RFC 9113 code) and [debug, debug+len) as its debug data, UTF-8 text of at
 *  most 1 KiB (other bytes are replaced by U+FFFD); every stream is reset. H2E_INVALID_ARG
 *  for a longer text or a range outside memory. */
H2_EXPORT h2_code h2_serverconn_abrupt_shutdown_with_debug(h2_serverconn conn, uint32_t reason, h2_ptr debug, uint32_t len);
/** Graceful shutdown: GOAWAY 2^31-1, one PING round trip, GOAWAY with the last stream;
 *  in-flight streams finish, then the connection closes. */
H2_EXPORT h2_code h2_serverconn_graceful_shutdown(h2_serverconn conn);
/** Abrupt shutdown: GOAWAY with `reason` (RFC 9113 code), every stream reset. */
H2_EXPORT h2_code h2_serverconn_abrupt_shutdown(h2_serverconn conn, uint32_t reason);
/** A task that finishes when the connection closes: EMPTY when cleanly, ERROR otherwise.
 *  Close the transport then. */
H2_EXPORT h2_task h2_serverconn_poll_close(h2_serverconn conn);
/** Frees the connection (GOAWAY CANCEL if still open). */
H2_EXPORT h2_code h2_serverconn_free(h2_serverconn conn);

/* ---- Requests ------------------------------------------------------------------------------ */

/** A new request (GET, https, path "/" unless set); the host owns it until sent. */
H2_EXPORT h2_request h2_request_new(void);
/** Frees a request. */
H2_EXPORT h2_code h2_request_free(h2_request req);
/** Sets :method (copied). */
H2_EXPORT h2_code h2_request_set_method(h2_request req, h2_ptr method, uint32_t len);
/** Sets the target from "scheme://authority/path?query" or an origin-form "/path" (copied). */
H2_EXPORT h2_code h2_request_set_uri(h2_request req, h2_ptr uri, uint32_t len);
/** Sets :scheme, :authority and :path separately (copied). */
H2_EXPORT h2_code h2_request_set_uri_parts(h2_request req, h2_ptr scheme, uint32_t scheme_len, h2_ptr authority, uint32_t authority_len, h2_ptr path, uint32_t path_len);
/** Sets :protocol (RFC 8441 extended CONNECT; the server must have enabled it). */
H2_EXPORT h2_code h2_request_set_protocol(h2_request req, h2_ptr protocol, uint32_t len);
/* Which pseudo-header h2_request_pseudo copies. */
#define H2_PSEUDO_METHOD    0 /* :method */
#define H2_PSEUDO_SCHEME    1 /* :scheme */
#define H2_PSEUDO_AUTHORITY 2 /* :authority */
#define H2_PSEUDO_PATH      3 /* :path */
#define H2_PSEUDO_PROTOCOL  4 /* :protocol */
/** Copies a pseudo-header (`which`: H2_PSEUDO_*) into [buf, buf+cap); returns its full
 *  length, 0xFFFFFFFF when absent. */
H2_EXPORT uint32_t h2_request_pseudo(h2_request req, uint32_t which, h2_ptr buf, uint32_t cap);
/** The request's headers, borrowed (valid while the request is). Names are lowercased. */
H2_EXPORT h2_headers h2_request_headers(h2_request req);
/** Gives the request a body read from a data source (the body is taken). */
H2_EXPORT h2_code h2_request_set_body(h2_request req, h2_body body);
/** Makes the body a send stream the host writes after sending (the h2 crate's SendStream).
 *  Returns it; the host owns it. 0 when the request already has a body. */
H2_EXPORT h2_send_stream h2_request_send_stream(h2_request req);
/** 1xx responses to this request go to h2_host_informational(userdata, response). */
H2_EXPORT h2_code h2_request_on_informational(h2_request req, uint32_t userdata);
/** Server: the body reader of a received request (once; the host owns it). */
H2_EXPORT h2_body h2_request_body(h2_request req);
/** Server: the right to answer a received request (once; the host owns it). */
H2_EXPORT h2_respond h2_request_respond(h2_request req);

/* ---- Responses and responding --------------------------------------------------------------- */

/** A new response (status 200); the host owns it until sent. */
H2_EXPORT h2_response h2_response_new(void);
/** Frees a response. */
H2_EXPORT h2_code h2_response_free(h2_response resp);
/** The status code. */
H2_EXPORT uint32_t h2_response_status(h2_response resp);
/** Sets the status code (100..999). */
H2_EXPORT h2_code h2_response_set_status(h2_response resp, uint32_t status);
/** 20, hyper's HYPER_HTTP_VERSION_2. */
H2_EXPORT uint32_t h2_response_version(h2_response resp);
/** The response's headers, borrowed. */
H2_EXPORT h2_headers h2_response_headers(h2_response resp);
/** Client: the body reader of a received response (once; the host owns it). */
H2_EXPORT h2_body h2_response_body(h2_response resp);
/** Server: gives a response a body read from a data source (taken). */
H2_EXPORT h2_code h2_response_set_body(h2_response resp, h2_body body);
/** Sends the final response (taken). Returns a send stream for the body (the host owns
 *  it), or 0 when END_STREAM went with it, the body is a data source, or it failed
 *  (h2_last_result tells which: H2E_OK, or see "A send that fails" below). */
H2_EXPORT h2_send_stream h2_respond_send_response(h2_respond respond, h2_response resp, uint32_t end_of_stream);
/** The whole final response in one call (nghttp2_submit_response with the body in hand):
 *  `:status` `status`, the headers as a flat field list [fields, fields+fields_len) (see
 *  "Field lists"; names lowercased), the body [body, body+body_len) (copied; may be empty)
 *  and END_STREAM. No response, headers, body or send stream handle is made. A body the
 *  windows take in one frame is framed right after the head. No body goes in answer to
 *  HEAD or with 204 or 304 (the head ends the stream). H2E_LIMIT_EXCEEDED with nothing sent
 *  when the body fits neither the windows nor the send buffers now: answer through
 *  h2_respond_send_response then. H2E_CLOSED when memory runs out after the head went (the
 *  stream is reset). The respond handle still has to be freed. */
H2_EXPORT h2_code h2_respond_send_whole(h2_respond respond, uint32_t status, h2_ptr fields, uint32_t fields_len, h2_ptr body, uint32_t body_len);
/** Sends a 1xx informational response (taken); any number before the final one. */
H2_EXPORT h2_code h2_respond_send_informational(h2_respond respond, h2_response resp);
/** Server push (§8.4): promises `req` (taken); returns the pushed stream's respond handle,
 *  or 0 (h2_last_result: see "A send that fails" below; H2E_CLOSED also when the peer
 *  disabled push). */
H2_EXPORT h2_respond h2_respond_push(h2_respond respond, h2_request req);
/** Resets the stream with `reason` (RFC 9113 code). */
H2_EXPORT h2_code h2_respond_reset(h2_respond respond, uint32_t reason);
/** The stream id. */
H2_EXPORT uint32_t h2_respond_stream_id(h2_respond respond);
/** H2_TASK_RESET with the RFC 9113 code once the stream is reset (the client cancelled, or
 *  it was refused); H2_TASK_EMPTY when it closes normally. The h2 crate's
 *  SendResponse::poll_reset: a server learns that nobody waits for the answer any more. */
H2_EXPORT h2_task h2_respond_poll_reset(h2_respond respond);
/** Frees the respond handle; a stream never answered is reset (CANCEL). */
H2_EXPORT h2_code h2_respond_free(h2_respond respond);
/** The H2E code behind the last call that returned a 0 handle (send_response, push).
 *
 *  A send that fails (a request, a response, a push, DATA, trailers) reports the same code
 *  for the same cause on every path: H2E_LIMIT_EXCEEDED for a limit (a send buffer, the
 *  instance's budget, a head larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE),
 *  H2E_INVALID_ARG for a malformed message (RFC 9113 §8), H2E_CLOSED when the stream or
 *  connection cannot take it (closed, reset, going away, stream ids exhausted). */
H2_EXPORT h2_code h2_last_result(void);

/* ---- Headers ------------------------------------------------------------------------------- */

/** Replaces every field named `name` with one (copied; name lowercased). */
H2_EXPORT h2_code h2_headers_set(h2_headers headers, h2_ptr name, uint32_t name_len, h2_ptr value, uint32_t value_len);
/** Adds a field (copied; name lowercased). */
H2_EXPORT h2_code h2_headers_add(h2_headers headers, h2_ptr name, uint32_t name_len, h2_ptr value, uint32_t value_len);
/** Copies the index-th value named `name` into [buf, buf+cap); returns its full length,
 *  0xFFFFFFFF when absent. */
H2_EXPORT uint32_t h2_headers_get(h2_headers headers, h2_ptr name, uint32_t name_len, uint32_t index, h2_ptr buf, uint32_t cap);
/** Removes every field named `name`; returns how many. */
H2_EXPORT uint32_t h2_headers_remove(h2_headers headers, h2_ptr name, uint32_t name_len);
/** The number of fields. */
H2_EXPORT uint32_t h2_headers_count(h2_headers headers);
/** Calls h2_host_headers_foreach(userdata, …) for each field, in order. */
H2_EXPORT h2_code h2_headers_foreach(h2_headers headers, uint32_t userdata);
/** Replaces the contents with a flat field list (copied; names lowercased). */
H2_EXPORT h2_code h2_headers_set_all(h2_headers headers, h2_ptr fields, uint32_t len);
/** The fields as a flat field list, owned by the headers, valid until they change. */
H2_EXPORT h2_ptr h2_headers_fields(h2_headers headers);
/** Its length. */
H2_EXPORT uint32_t h2_headers_fields_len(h2_headers headers);
/** New standalone headers (for trailers); the host owns them until passed on. */
H2_EXPORT h2_headers h2_headers_new(void);
/** Frees standalone headers (or trailers from a task). */
H2_EXPORT h2_code h2_headers_free(h2_headers headers);

/* ---- Bodies and bufs ------------------------------------------------------------------------ */

/** A new data-source body, read through h2_host_body_read(userdata, …); the host owns it until set. */
H2_EXPORT h2_body h2_body_new(void);
/** Sets the userdata passed to body_read. */
H2_EXPORT h2_code h2_body_set_userdata(h2_body body, uint32_t userdata);
/** Pads a data source's DATA frames, copied or zero-copy (send_data's pad_len), with `pad`
 *  zero bytes each (0..255; padding counts against flow control); 0xFFFFFFFF: none. */
H2_EXPORT h2_code h2_body_set_padding(h2_body body, uint32_t pad);
/** Trailers sent after a data source's last byte, instead of END_STREAM on its last DATA
 *  (nghttp2's NGHTTP2_DATA_FLAG_NO_END_STREAM + nghttp2_submit_trailer). The headers are
 *  taken; trailers the core refuses then (pseudo-headers, over the peer's header-list
 *  limit) reset the stream with INTERNAL_ERROR. */
H2_EXPORT h2_code h2_body_set_trailers(h2_body body, h2_headers trailers);
/** The next received chunk: H2_TASK_BUF (everything buffered, as one buf), H2_TASK_EMPTY
 *  at the end, or an error. Unless release is manual, the bytes go back to the window. */
H2_EXPORT h2_task h2_body_data(h2_body body);
/** Everything the body has buffered, copied to [dst, dst+cap) when it all fits: its length;
 *  0 when nothing is buffered, it does not fit, or the handle or range is bad (h2_body_data
 *  then tells which). A synchronous h2_body_data for what is already in: no task, no buf
 *  (a small response's body, read when its head is). Unless release is manual (then
 *  h2_body_release), the bytes go back to the window. */
H2_EXPORT uint32_t h2_body_read(h2_body body, h2_ptr dst, uint32_t cap);
/** After the end: H2_TASK_TRAILERS with the trailers, or H2_TASK_EMPTY when there are none. */
H2_EXPORT h2_task h2_body_trailers(h2_body body);
/** 1 when the received body is over with nothing left to read: no bytes buffered, no
 *  trailers (h2_body_data and h2_body_trailers would both finish EMPTY at once). A
 *  request with END_STREAM on its head is one; hosts skip both tasks for it. 0 otherwise. */
H2_EXPORT uint32_t h2_body_is_end(h2_body body);
/** Manual flow control (H2_OPT_MANUAL_RELEASE): the host is done with `n` received bytes. */
H2_EXPORT h2_code h2_body_release(h2_body body, uint32_t n);
/** Frees a body; an unfinished received body resets its stream (CANCEL). */
H2_EXPORT h2_code h2_body_free(h2_body body);
/** A buf holding a copy of [ptr, ptr+len); the host owns it. */
H2_EXPORT h2_buf h2_buf_copy(h2_ptr ptr, uint32_t len);
/** The buf's bytes (owned by the buf). */
H2_EXPORT h2_ptr h2_buf_bytes(h2_buf buf);
/** The buf's length. */
H2_EXPORT uint32_t h2_buf_len(h2_buf buf);
/** Frees a buf. */
H2_EXPORT h2_code h2_buf_free(h2_buf buf);

/* ---- Send streams (the h2 crate's SendStream) ------------------------------------------------ */

/** Asks for `n` bytes of send capacity: the most to have assigned at once (not additive:
 *  it replaces the earlier request; lowering it, or 0, gives capacity back). Capacity is
 *  assigned in the order streams asked, within their window, the connection's window,
 *  the send-buffer caps and H2_OPT_CAPACITY_HIGH_WATER (the connection's unwritten bytes),
 *  and is held for this stream: no other stream is assigned the same room. */
H2_EXPORT h2_code h2_send_stream_reserve_capacity(h2_send_stream stream, uint32_t n);
/** Capacity assigned and not yet used (send_data uses it up); 0 once the stream cannot
 *  send. A stream that ends gives its capacity back. */
H2_EXPORT uint32_t h2_send_stream_capacity(h2_send_stream stream);
/** H2_TASK_CAPACITY with the capacity once more was assigned since this last answered (as
 *  the h2 crate's poll_capacity: capacity left over from before does not make it ready, so
 *  read h2_send_stream_capacity first); H2_TASK_EMPTY when the stream cannot send. */
H2_EXPORT h2_task h2_send_stream_poll_capacity(h2_send_stream stream);
/** Queues [ptr, ptr+len) (copied), END_STREAM after it when end_of_stream. H2E_LIMIT_EXCEEDED
 *  (nothing queued) past the send-buffer caps: wait for capacity. A deliberate difference
 *  from the h2 crate, whose send_data buffers without bound: data queued beyond the
 *  capacity is bounded by H2_OPT_MAX_STREAM_SEND_BUFFER and _CONNECTION_SEND_BUFFER. Data
 *  waiting goes out before capacity another stream holds and has not used. */
H2_EXPORT h2_code h2_send_stream_send_data(h2_send_stream stream, h2_ptr data, uint32_t len, uint32_t end_of_stream);
/** Sends trailers after the queued data and ends the stream; the headers are taken. */
H2_EXPORT h2_code h2_send_stream_send_trailers(h2_send_stream stream, h2_headers trailers);
/** Resets the stream with `reason` (RFC 9113 code). */
H2_EXPORT h2_code h2_send_stream_send_reset(h2_send_stream stream, uint32_t reason);
/** H2_TASK_RESET with the peer's code when it resets the stream; EMPTY when it closes normally. */
H2_EXPORT h2_task h2_send_stream_poll_reset(h2_send_stream stream);
/** The stream id (0 while queued behind MAX_CONCURRENT_STREAMS). */
H2_EXPORT uint32_t h2_send_stream_stream_id(h2_send_stream stream);
/** Pads the stream's following DATA frames with `pad` zero bytes each (0..255; padding
 *  counts against flow control); 0xFFFFFFFF turns padding off. */
H2_EXPORT h2_code h2_send_stream_set_padding(h2_send_stream stream, uint32_t pad);
/** Frees a send stream; one that could still send is reset (CANCEL). */
H2_EXPORT h2_code h2_send_stream_free(h2_send_stream stream);

#endif /* H2WASM_H */
