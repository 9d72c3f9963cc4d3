// One memory budget for every connection of a module instance (Envoy's overload manager
// as the model). Every limit elsewhere is per stream or per connection, while all the
// connections of a process share one linear memory of at most 4 GiB: without this, enough
// sockets, each within its own limits, exhaust it. The budget accounts what connections
// hold — bytes to send (buffered, assigned, framed and unwritten), bytes received and not
// yet taken, and a fixed cost per connection and per stream — and acts as it fills:
//   - send capacity and send_data stop past maxSendBytes (handlers wait);
//   - past maxRecvBytes (received, not yet taken by the hosts) new streams are refused (the
//     windows we granted bound the rest);
//   - new streams are refused (REFUSED_STREAM, retryable) from STREAMS_REFUSED_AT;
//   - new connections get GOAWAY ENHANCE_YOUR_CALM from CONNECTIONS_REFUSED_AT, before
//     they allocate their buffers;
//   - at the limit, the connection holding the most while making no progress is closed.

/** What a connection costs before it holds a byte (engine, HPACK tables, driver; measured ~26 KiB). */
export const CONNECTION_COST: u64 = 32 << 10;
/** What a stream costs before it holds a byte (measured ~0.6 KiB in wasm, more in a host). */
export const STREAM_COST: u64 = 2 << 10;
/** The default budget: see README "Options and limits" for why. */
export const DEFAULT_MEMORY_BUDGET: u64 = 256 << 20;

/** A share of the budget, in 1/16ths, past which an action starts. */
const STREAMS_REFUSED_AT: u64 = 14; // 87.5 %
const CONNECTIONS_REFUSED_AT: u64 = 15; // 93.75 %

/** A connection, as the budget sees it (proto/connection.ts extends it). */
export abstract class BudgetMember {
  /** Linked into the budget's member list. */
  prevMember: BudgetMember | null = null;
  nextMember: BudgetMember | null = null;
  /** Bytes this member holds to send and received-not-taken, as last accounted. */
  heldSend: u64 = 0;
  heldRecv: u64 = 0;
  @inline get held(): u64 {
    return this.heldSend + this.heldRecv;
  }
  /** Closed and on its way out (what it holds goes with it): never shed. */
  leaving: bool = false;
  /** When its transport last took bytes or its host last took received ones (host time). */
  abstract progressAt(): i64;
  /** Closes it for holding too much without progress. */
  abstract shed(): void;
}

export class Budget {
  memory: u64 = DEFAULT_MEMORY_BUDGET;
  maxSendBytes: u64 = DEFAULT_MEMORY_BUDGET / 2;
  maxRecvBytes: u64 = DEFAULT_MEMORY_BUDGET / 4;
  maxStreams: u64 = DEFAULT_MEMORY_BUDGET / STREAM_COST / 2;
  maxConnections: u64 = DEFAULT_MEMORY_BUDGET / CONNECTION_COST / 2;

  sendBytes: u64 = 0;
  recvBytes: u64 = 0;
  streams: u64 = 0;
  connections: u64 = 0;
  /** Connections closed for holding too much without progress. */
  shedCount: u64 = 0;
  /** Something was refused for want of budget since the last shed check. */
  private pressed: bool = false;

  private first: BudgetMember | null = null;

  /** Sets the whole budget and derives the finer limits from it (each settable after). */
  setMemory(bytes: u64): void {
    this.memory = bytes;
    this.maxSendBytes = bytes / 2;
    this.maxRecvBytes = bytes / 4;
    this.maxStreams = bytes / STREAM_COST / 2;
    this.maxConnections = bytes / CONNECTION_COST / 2;
  }

  /** Everything accounted, fixed costs included. */
  @inline get used(): u64 {
    return this.sendBytes + this.recvBytes + this.streams * STREAM_COST + this.connections * CONNECTION_COST;
  }

  /** Bytes that may still be taken on to send. */
  sendRoom(): u64 {
    const limit = min(this.maxSendBytes, this.sendBytes + (this.memory > this.used ? this.memory - this.used : 0));
    return limit > this.sendBytes ? limit - this.sendBytes : 0;
  }

  /** `m` now holds `send` bytes to send and `recv` received and not taken by its host. */
  account(m: BudgetMember, send: u64, recv: u64): void {
    this.sendBytes = this.sendBytes + send - m.heldSend;
    this.recvBytes = this.recvBytes + recv - m.heldRecv;
    m.heldSend = send;
    m.heldRecv = recv;
  }

  /** A new stream may open. */
  streamAllowed(): bool {
    if (
      this.streams < this.maxStreams &&
      this.recvBytes <= this.maxRecvBytes &&
      this.used < (this.memory / 16) * STREAMS_REFUSED_AT
    )
      return true;
    this.pressed = true;
    return false;
  }

  /** A new connection may start. */
  connectionAllowed(): bool {
    if (this.connections < this.maxConnections && this.used < (this.memory / 16) * CONNECTIONS_REFUSED_AT) return true;
    this.pressed = true;
    return false;
  }

  /** Notes that something was refused for want of budget: shedding looks at it. */
  press(): void {
    this.pressed = true;
  }

  join(m: BudgetMember): void {
    m.prevMember = null;
    m.nextMember = this.first;
    if (this.first != null) changetype<BudgetMember>(this.first).prevMember = m;
    this.first = m;
    this.connections++;
  }

  leave(m: BudgetMember): void {
    const prev = m.prevMember;
    const next = m.nextMember;
    if (prev != null) prev.nextMember = next;
    else if (this.first === m) this.first = next;
    else return; // not a member
    if (next != null) next.prevMember = prev;
    m.prevMember = null;
    m.nextMember = null;
    this.connections--;
  }

  /**
   * When something was refused for want of budget, closes the member holding the most
   * that made no progress for `stallMs` by `now` (none, when every holder is moving bytes).
   * One per call: the host's next turn looks again. Members share their hosts' clock.
   */
  shedIfPressed(now: i64, stallMs: i64): void {
    if (!this.pressed) return;
    this.pressed = false;
    let worst: BudgetMember | null = null;
    let m = this.first;
    while (m != null) {
      if (!m.leaving && m.held > 0 && now - m.progressAt() >= stallMs && (worst == null || m.held > worst.held))
        worst = m;
      m = m.nextMember;
    }
    if (worst != null) {
      this.shedCount++;
      worst.shed();
    }
  }
}

/** The budget of this module instance: every connection in it shares it. */
export const instanceBudget: Budget = new Budget();
