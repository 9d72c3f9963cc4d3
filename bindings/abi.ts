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
