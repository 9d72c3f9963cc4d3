// Result codes of the ABI. 0..6 keep hyper's `hyper_code` values so a hyper C client
// ports by renaming; the rest follow on.
export const H2E_OK: u32 = 0;
export const H2E_ERROR: u32 = 1;
export const H2E_INVALID_ARG: u32 = 2;
export const H2E_UNEXPECTED_EOF: u32 = 3;
export const H2E_ABORTED_BY_CALLBACK: u32 = 4;
export const H2E_FEATURE_NOT_ENABLED: u32 = 5;
export const H2E_INVALID_PEER_MESSAGE: u32 = 6;
/** Linear memory could not grow to hold what was asked. */
export const H2E_OUT_OF_MEMORY: u32 = 7;
/** A configured limit (buffer cap, header list size, …) would be exceeded. */
export const H2E_LIMIT_EXCEEDED: u32 = 8;
/** The stream or connection was closed or reset (the error's reason says how). */
export const H2E_CLOSED: u32 = 9;

import { HandleKind, handleNew } from './handles';
import { SendResult } from '../proto/connection';

/**
 * The ABI's code for an engine result (proto's SendResult): every export that reports one
 * maps it here. LIMIT (a buffer cap, the budget, a head larger than the peer accepts) is
 * H2E_LIMIT_EXCEEDED wherever it comes from; INVALID (malformed, RFC 9113 §8) is
 * H2E_INVALID_ARG; a stream or connection that cannot take it (BAD_STATE, CLOSED,
 * IDS_EXHAUSTED) is H2E_CLOSED.
 */
export function codeOfResult(result: u32): u32 {
  switch (result) {
    case SendResult.OK:
      return H2E_OK;
    case SendResult.LIMIT:
      return H2E_LIMIT_EXCEEDED;
    case SendResult.INVALID:
      return H2E_INVALID_ARG;
    default:
      return H2E_CLOSED;
  }
}

/** What a failed task carries: an H2E code, the RFC 9113 error code, and a message. */
export class ErrorObject {
  constructor(
    public code: u32,
    public reason: u32,
    public message: string,
    public retryable: bool = false,
  ) {}
}

/** Registers an error and returns its handle (the host owns it: h2_error_free). */
export function newError(code: u32, reason: u32, message: string, retryable: bool = false): u32 {
  return handleNew(HandleKind.ERROR, new ErrorObject(code, reason, message, retryable));
}
