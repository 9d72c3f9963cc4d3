// Everything a host can tune on a connection: the SETTINGS we announce and the limits we
// enforce. Each limit has a default here, a setter in the ABI, and a test.
import { DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE } from '../frame/constants';
import { Settings, UNLIMITED } from './settings';
import { Budget, instanceBudget } from './budget';

export namespace Role {
  export const CLIENT: u8 = 1;
  export const SERVER: u8 = 2;
}

/** The server's default idle timeout (see Config.idleTimeout). */
export const SERVER_IDLE_TIMEOUT_MS: i64 = 300_000;

export class Config {
  /** The SETTINGS we send (§6.5.2). Defaults follow nghttp2/h2 where the RFC leaves it open. */
  local: Settings = new Settings();
  /** The budget this connection shares with the instance's others (budget.ts). */
  budget: Budget = instanceBudget;

  /** Connection-level receive window we keep open (WINDOW_UPDATE on stream 0 at start). */
  connectionWindow: u32 = 1 << 20;
  /** Release received bytes automatically (WINDOW_UPDATE once half consumed); false = manual. */
  autoRelease: bool = true;

  /** Most bytes one stream may have buffered for sending before send_data is refused. */
  maxStreamSendBuffer: u32 = 1 << 20;
  /** Most bytes all streams together may have buffered for sending. */
  maxConnectionSendBuffer: u32 = 16 << 20;
  /**
   * Send capacity (reserveCapacity) is assigned only while the connection holds less than
   * this unwritten — output, buffered DATA and capacity assigned but unused: what streams
   * pull follows what the transport takes, so a peer that reads nothing holds at most this.
   */
  capacityHighWater: u32 = 256 << 10;
  /** Most CONTINUATION frames one field block may span (CVE-2024-27316). */
  maxContinuations: u32 = 64;
  /**
   * Most control frames the peer made us queue and has not read — SETTINGS and PING ACKs,
   * RST_STREAMs for its errors and refused streams — before it is cut off (CVE-2019-9512/9514/9515).
   */
  maxQueuedControlFrames: u32 = 1000;
  /** Most closed streams remembered to tell late frames from protocol errors. */
  maxClosedStreams: u32 = 1000;
  /**
   * Streams the peer may reset, have refused, or make us reset for its errors (stream
   * errors it provokes) per second (a burst of as many) before ENHANCE_YOUR_CALM
   * (CVE-2023-44487, CVE-2019-9514).
   */
  maxResetsPerSecond: u32 = 1000;
  /**
   * Frames per second (a burst of as many) that cost work but carry nothing (empty DATA without END_STREAM,
   * PRIORITY, tiny WINDOW_UPDATE with nothing to send, empty CONTINUATION / unfinished empty
   * HEADERS) before ENHANCE_YOUR_CALM (CVE-2019-9518, CVE-2019-9513; nghttp2's "glitches").
   */
  maxGlitchesPerSecond: u32 = 1000;
  /** Our own streams waiting for a MAX_CONCURRENT_STREAMS slot before open is refused. */
  maxPendingStreams: u32 = 10000;
  /** Bytes of output buffered before the scheduler stops producing DATA (the rest waits for the host to write). */
  outputHighWater: u32 = 64 << 10;

  /** Keepalive PING interval in ms (0 = off) and how long its ACK may take. */
  keepaliveInterval: i64 = 0;
  keepaliveTimeout: i64 = 20000;
  /** How long the peer may take to ACK our SETTINGS (0 = forever). */
  settingsTimeout: i64 = 10000;
  /**
   * Close (GOAWAY NO_ERROR) after this long with no open stream (0 = never). A server
   * closes after 5 minutes: longer than the upstream pools of nginx (60 s) and haproxy and
   * than fetch()'s 90 s, so a proxy or client closes first and never races our GOAWAY; a
   * client keeps its connection (its owner decides, as with Go's ClientConn and node).
   */
  idleTimeout: i64 = 0;
  /** Most time a graceful shutdown waits for in-flight streams (0 = forever). */
  gracefulTimeout: i64 = 0;

  // The slow family (nginx's client_header_timeout / send_timeout, Go's ReadHeaderTimeout):
  /** The peer's preface and first SETTINGS must arrive within this (0 = forever). */
  handshakeTimeout: i64 = 10000;
  /** A header block left waiting for its CONTINUATION longer than this is cut off: the
   *  connection can carry nothing else meanwhile (0 = forever). */
  headerTimeout: i64 = 10000;
  /** A stream with data for the peer whose window (or the connection's) the peer keeps
   *  shut this long is reset (CANCEL); the connection's window shut that long ends the
   *  connection. Server 30000, client 0 (off): a client waits for its server. */
  sendStallTimeout: i64 = 0;
  /** The transport takes none of our bytes this long: GOAWAY, and the connection closed. */
  writeStallTimeout: i64 = 30000;
  /** Every open stream waits on the peer (it has not ended its side) and no frame for any
   *  arrives this long: GOAWAY. Server 60000, client 0 (off). */
  recvIdleTimeout: i64 = 0;
  /**
   * Once closed, how long our last bytes (the GOAWAY) may wait for a peer that takes none
   * of them before they are dropped and the transport closed (0 = forever).
   */
  closeLinger: i64 = 5000;

  constructor(public role: u8) {
    this.local.initialWindowSize = DEFAULT_INITIAL_WINDOW_SIZE;
    this.local.maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
    this.local.maxConcurrentStreams = role == Role.SERVER ? 100 : UNLIMITED;
    if (role == Role.SERVER) {
      this.idleTimeout = SERVER_IDLE_TIMEOUT_MS;
      this.sendStallTimeout = 30000;
      this.recvIdleTimeout = 60000;
    }
    this.local.maxHeaderListSize = 64 << 10;
    // A client refuses push unless asked (as h2 and Go do); a server never receives push.
    this.local.enablePush = false;
  }
}
