// The ABI: Errors (hyper_error).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { validRange } from '../memory';
import { ErrorObject, H2E_INVALID_ARG, H2E_OK } from '../errors';
import { get } from './common';

/** The H2E_* code of an error. */
export function h2_error_code(err: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  return e == null ? H2E_INVALID_ARG : e.code;
}

/** The RFC 9113 error code behind it (REFUSED_STREAM, CANCEL, …; 0 when none). */
export function h2_error_reason(err: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  return e == null ? 0 : e.reason;
}

/** 1 when the request was not processed and is safe to retry (GOAWAY, REFUSED_STREAM). */
export function h2_error_is_retryable(err: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  return e != null && e.retryable ? 1 : 0;
}

/** Copies the message into [buf, buf+cap) (truncated, no NUL); returns the bytes written. */
export function h2_error_print(err: u32, buf: usize, cap: u32): u32 {
  const e = get<ErrorObject>(err, HandleKind.ERROR);
  if (e == null || !validRange(buf, cap)) return 0;
  const bytes = String.UTF8.encode(e.message);
  const n = min<u32>(cap, <u32>bytes.byteLength);
  memory.copy(buf, changetype<usize>(bytes), n);
  return n;
}

/** Frees an error. */
export function h2_error_free(err: u32): u32 {
  return handleRelease(err, HandleKind.ERROR) != null ? H2E_OK : H2E_INVALID_ARG;
}
