// The host's transport (hyper's hyper_io), its contexts and wakers. Reads and writes go
// through the h2_host.io_read / io_write imports with hyper's semantics: a count, 0 for
// EOF (reads), H2_IO_PENDING after the host took a waker from the context, H2_IO_ERROR.
// A pending direction is not asked again until its waker is woken: no busy polling.
import { HandleKind, handleNew, handleRelease } from './handles';
import { ConnLike } from './conn-driver-base';

export class Io {
  handle: u32 = 0;
  userdata: u32 = 0;
}

/** One per connection direction; the host gets wakers from it inside io callbacks. */
export class Context {
  handle: u32 = 0;
  /** Set by a woken waker; cleared when the driver asks again. */
  woken: bool = true;
  /** A callback returned PENDING: wait for a wake before asking again. */
  pending: bool = false;
  /** The connection a wake drives again. */
  owner: ConnLike | null = null;

  constructor() {
    this.handle = handleNew(HandleKind.CONTEXT, this);
  }

  /** Gives the context's handle back when its connection goes away. */
  release(): void {
    if (this.handle != 0) handleRelease(this.handle, HandleKind.CONTEXT);
    this.handle = 0;
  }

  /** The direction may be asked again (its waker was woken, or it never waited). */
  @inline get ready(): bool {
    return !this.pending || this.woken;
  }

  /** Called before each host callback. */
  @inline arm(): void {
    this.woken = false;
    this.pending = false;
  }

  wake(): void {
    this.woken = true;
    const o = this.owner;
    if (o != null) o.touched();
  }
}

/** hyper_waker: wakes its context once (h2_waker_wake frees it). */
export class Waker {
  constructor(public context: Context) {}
}

export function newWaker(ctx: Context): u32 {
  return handleNew(HandleKind.WAKER, new Waker(ctx));
}
