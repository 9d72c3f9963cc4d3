// One HTTP/2 session per origin, shared by every request to it (fetch, the gRPC
// transport), replaced once it closed, failed its handshake, or refused a request as
// going away. No `node:` import.
import type { ClientSession } from './client.js';

export class SessionPool<O> {
  private readonly pool = new Map<string, ClientSession>();

  /** `open` makes a new session to an origin (with the options of the request that needs it). */
  constructor(private readonly open: (origin: string, options: O) => ClientSession) {}

  /** The pooled sessions by origin (read-only use: tests, diagnostics). */
  get sessions(): ReadonlyMap<string, ClientSession> {
    return this.pool;
  }

  /**
   * The pooled session to `origin` while it takes requests, else a new one. `stale`: a
   * session that refused a request as not processed (GOAWAY, REFUSED_STREAM): while it is
   * still the pooled one it is closed gracefully (what it has in flight finishes) and
   * replaced; a request that raced it to a replacement gets that replacement.
   */
  get(origin: string, options: O, stale?: ClientSession): ClientSession {
    const have = this.pool.get(origin);
    if (have && have.isOpen && have !== stale) return have;
    if (have && have === stale) have.close().catch(() => {});
    const s = this.open(origin, options);
    this.pool.set(origin, s);
    const forget = () => {
      if (this.pool.get(origin) === s) this.pool.delete(origin);
    };
    s.closed.then(forget);
    s.ready.catch(forget);
    return s;
  }

  /** Closes every pooled session gracefully and forgets them. */
  async close(): Promise<void> {
    const all = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(all.map((s) => s.close().catch(() => {})));
  }
}
