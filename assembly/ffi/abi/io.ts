// The ABI: IO, contexts and wakers (hyper_io, hyper_context, hyper_waker).
// Each export is declared in include/h2wasm.h, in the section of the same name; each is thin:
// resolve handles (a bad one is H2E_INVALID_ARG, or 0 where a handle is returned),
// bounds-check host ranges, delegate.
import { HandleKind, handleRelease } from '../handles';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';
import { Context, Io, Waker, newWaker } from '../io';
import { get, release, newHandle, setUserdata } from './common';

/** A new io; pass it to a handshake, which takes ownership. The host owns it until then. */
export function h2_io_new(): u32 {
  return newHandle<Io>(HandleKind.IO);
}

/** Sets the userdata passed to io_read / io_write. */
export function h2_io_set_userdata(io: u32, userdata: u32): u32 {
  return setUserdata<Io>(io, HandleKind.IO, userdata);
}

/** Frees an io that was never handed to a handshake. */
export function h2_io_free(io: u32): u32 {
  return release(io, HandleKind.IO) ? H2E_OK : H2E_INVALID_ARG;
}

/** Inside an io callback: a waker for this context. The host owns it: wake or free it. */
export function h2_context_waker(ctx: u32): u32 {
  const c = get<Context>(ctx, HandleKind.CONTEXT);
  return c == null ? 0 : newWaker(c);
}

/** Wakes (and frees) a waker: the core will call the io again on the next poll. */
export function h2_waker_wake(waker: u32): u32 {
  const w = changetype<Waker | null>(handleRelease(waker, HandleKind.WAKER));
  if (w == null) return H2E_INVALID_ARG;
  w.context.wake();
  return H2E_OK;
}

/** Frees a waker without waking it. */
export function h2_waker_free(waker: u32): u32 {
  return handleRelease(waker, HandleKind.WAKER) != null ? H2E_OK : H2E_INVALID_ARG;
}
