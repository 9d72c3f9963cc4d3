// The numbers of the raw ABI for every TypeScript host (the bindings, the test hosts), as
// include/h2wasm.h defines them. The header is the one source: test/ffi/abi-numbers.test.ts
// fails when this table, the module's own (assembly/ffi/) or the Go and Rust examples'
// differ from it.

/** Result codes (H2E_*). */
export const H2E = {
  OK: 0,
  ERROR: 1,
  INVALID_ARG: 2,
  UNEXPECTED_EOF: 3,
  ABORTED_BY_CALLBACK: 4,
  FEATURE_NOT_ENABLED: 5,
  INVALID_PEER_MESSAGE: 6,
  OUT_OF_MEMORY: 7,
  LIMIT_EXCEEDED: 8,
  CLOSED: 9,
} as const;

/** The keys of h2_budget_set / h2_budget_get (H2_BUDGET_*). */
export const H2_BUDGET = {
  MEMORY: 1,
  SEND_BYTES: 2,
  RECV_BYTES: 3,
  STREAMS: 4,
  CONNECTIONS: 5,
  USED: 101,
  SEND_BYTES_USED: 102,
  RECV_BYTES_USED: 103,
  STREAMS_OPEN: 104,
  CONNECTIONS_OPEN: 105,
  CONNECTIONS_SHED: 106,
} as const;

/** What a finished task holds (H2_TASK_*). */
export const TASK = {
  EMPTY: 0,
  ERROR: 1,
  CLIENTCONN: 2,
  RESPONSE: 3,
  BUF: 4,
  SERVERCONN: 5,
  REQUEST: 6,
  TRAILERS: 7,
  CAPACITY: 8,
  RESET: 9,
  PING: 10,
} as const;

/** io_read / io_write / body_read / send_data answers (H2_IO_*, H2_DATA_*). */
export const H2_IO = { PENDING: 0xffffffff, ERROR: 0xfffffffe } as const;
export const H2_DATA = { NO_COPY: 0x80000000, PAUSE: 0xfffffffd, FAIL_CONNECTION: 0xfffffffc } as const;
export const H2_DATA_NO_COPY = H2_DATA.NO_COPY;

/** Which pseudo-header h2_request_pseudo copies (H2_PSEUDO_*). */
export const H2_PSEUDO = { METHOD: 0, SCHEME: 1, AUTHORITY: 2, PATH: 3, PROTOCOL: 4 } as const;

/** Field flags of the flat field list (H2_FIELD_*). */
export const H2_FIELD = { NEVER_INDEX: 1, NO_INDEX: 2 } as const;

/** Connection options (H2_OPT_*), for h2_clientconn_options_set / h2_serverconn_options_set. */
export const H2_OPT = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
  ENABLE_CONNECT_PROTOCOL: 8,
  CONNECTION_WINDOW: 100,
  MANUAL_RELEASE: 101,
  MAX_STREAM_SEND_BUFFER: 102,
  MAX_CONNECTION_SEND_BUFFER: 103,
  MAX_CONTINUATIONS: 104,
  MAX_QUEUED_CONTROL_FRAMES: 105,
  MAX_CLOSED_STREAMS: 106,
  MAX_RESETS_PER_SECOND: 107,
  MAX_PENDING_STREAMS: 108,
  OUTPUT_HIGH_WATER: 109,
  KEEPALIVE_INTERVAL_MS: 110,
  KEEPALIVE_TIMEOUT_MS: 111,
  SETTINGS_TIMEOUT_MS: 112,
  IDLE_TIMEOUT_MS: 113,
  GRACEFUL_TIMEOUT_MS: 114,
  MAX_GLITCHES_PER_SECOND: 115,
  CLOSE_LINGER_MS: 116,
  CAPACITY_HIGH_WATER: 117,
  HANDSHAKE_TIMEOUT_MS: 118,
  HEADER_TIMEOUT_MS: 119,
  SEND_STALL_TIMEOUT_MS: 120,
  WRITE_STALL_TIMEOUT_MS: 121,
  RECV_IDLE_TIMEOUT_MS: 122,
} as const;
