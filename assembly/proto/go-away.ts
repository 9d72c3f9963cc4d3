// A connection's GOAWAY state in both directions (RFC 9113 §6.8; the h2 crate's
// go_away.rs): what we said (no stream the peer opens above our last id is processed) and
// what the peer said (we open nothing more; its last id only ever decreases).
import { MAX_STREAM_ID } from '../frame';

export class GoAway {
  /** We sent a GOAWAY. */
  sent: bool = false;
  /** The last-stream-id of the GOAWAY we sent: 2^31-1 until a final one names a stream. */
  lastId: u32 = MAX_STREAM_ID;
  /** The peer sent a GOAWAY. */
  received: bool = false;
  /** The lowest last-stream-id the peer's GOAWAYs gave. */
  peerLastId: u32 = MAX_STREAM_ID;

  /** A GOAWAY we send naming `last`, the highest peer stream we processed; an earlier
   *  GOAWAY's lower last id stands (§6.8: it must not increase). */
  send(last: u32): void {
    this.sent = true;
    this.lastId = min(this.lastId, last);
  }

  /** The first GOAWAY of a graceful shutdown (2^31-1): the peer should stop opening streams. */
  announce(): void {
    this.sent = true;
  }

  /** The peer's GOAWAY naming `last`: a later one may lower it, never raise it. */
  receive(last: u32): void {
    this.received = true;
    this.peerLastId = min(this.peerLastId, last);
  }

  /** Whether frames for the peer's stream `id` are ignored: it is above our GOAWAY's last id. */
  ignores(id: u32): bool {
    return this.sent && id > this.lastId;
  }

  /** Whether either side said GOAWAY (a close after it is a clean one). */
  get either(): bool {
    return this.sent || this.received;
  }
}
