// The connection's counts, as the h2 crate's proto/streams/counts.rs: its active streams
// by initiator (§5.1.2), the bytes it holds to send and has received and not released,
// the control replies the peer made it queue, and the questions the connection asks of
// them. The limits stay where they are set (the Config, the SETTINGS of either side):
// each question takes the one that applies, so there is no copy to keep in step.
import { Stream } from './stream';

export class Counts {
  /** Active (open or half-closed) streams by initiator, for MAX_CONCURRENT_STREAMS. */
  activeLocal: u32 = 0;
  activeRemote: u32 = 0;
  /** Bytes buffered for sending across all streams (capped by maxConnectionSendBuffer). */
  buffered: u32 = 0;
  /** Send capacity assigned to streams and not yet used, across all streams. */
  assigned: u32 = 0;
  /** Received bytes the application has not released yet (manual flow control), all streams. */
  unreleased: u64 = 0;
  /** Control frames the peer made us queue (SETTINGS and PING ACKs, RST_STREAMs for its
   *  errors and refused streams) and the host has not written yet. */
  controlReplies: u32 = 0;

  /** A stream left idle/reserved for open or half-closed: it now counts toward its side's limit, once. */
  activate(stream: Stream): void {
    if (stream.active) return;
    stream.active = true;
    if (stream.local) this.activeLocal++;
    else this.activeRemote++;
  }

  /** A stream closed: the slot it held, if any, is free. */
  deactivate(stream: Stream): void {
    if (!stream.active) return;
    stream.active = false;
    if (stream.local) this.activeLocal--;
    else this.activeRemote--;
  }

  /** Whether another stream of ours may open now: under the peer's MAX_CONCURRENT_STREAMS. */
  @inline mayOpenLocal(peerMax: u32): bool {
    return this.activeLocal < peerMax;
  }

  /** Whether a new stream of the peer's is accepted: under our MAX_CONCURRENT_STREAMS both
   *  as acknowledged and as configured. */
  @inline acceptsRemote(acked: u32, configured: u32): bool {
    const n = this.activeRemote;
    return n < acked && n < configured;
  }

  /** Whether `len` more bytes may be buffered to send under maxConnectionSendBuffer
   *  (capacity assigned is not counted: buffering is what uses it up). */
  @inline mayBuffer(len: u32, max: u32): bool {
    return <u64>this.buffered + <u64>len <= <u64>max;
  }

  /** Bytes taken on to send and not framed yet: buffered, or assigned as capacity. */
  @inline get unframed(): u64 {
    return <u64>this.buffered + <u64>this.assigned;
  }

  /** What may still be assigned as capacity under maxConnectionSendBuffer; negative when
   *  a stream buffered past it into capacity assigned to others. */
  @inline bufferRoom(max: u32): i64 {
    return <i64>max - <i64>this.unframed;
  }

  /** `n` received bytes wait for the application to release them. */
  @inline addUnreleased(n: u32): void {
    this.unreleased += n;
  }

  /** The application released `n` bytes; never below zero, whatever a host claims. */
  @inline release(n: u32): void {
    this.unreleased -= min<u64>(<u64>n, this.unreleased);
  }

  /** Counts one control reply queued; false once more wait than maxQueuedControlFrames:
   *  the peer is not reading them (CVE-2019-9512/9514/9515). */
  @inline queueControlReply(max: u32): bool {
    this.controlReplies++;
    return this.controlReplies <= max;
  }

  /** The host wrote the whole output: no control reply waits any more. */
  @inline controlRepliesWritten(): void {
    this.controlReplies = 0;
  }
}
