// Constants of the raw ABI, mirrored from include/h2wasm.h.
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
