// TypeScript side of the engine harness: engines as objects, their event logs decoded,
// and a pump that moves bytes between two engines in memory (optionally in random-size
// chunks), so tests read as conversations.
import { loadModule, type Exports } from '../support/wasm.js';
import { fieldList, readFieldList } from '../support/frames.js';

export const EV = {
  REQUEST: 1,
  HEAD: 2,
  DATA: 3,
  PUSH: 4,
  RESET: 5,
  CLOSED: 6,
  OPENED: 7,
  CAPACITY: 8,
  REMOTE_SETTINGS: 9,
  SETTINGS_ACK: 10,
  PING_ACK: 11,
  GOAWAY: 12,
  CONN_ERROR: 13,
} as const;
export const HEAD_KIND = { REQUEST: 0, RESPONSE: 1, INFORMATIONAL: 2, TRAILERS: 3 } as const;
export const STATE = {
  IDLE: 0,
  RESERVED_LOCAL: 1,
  RESERVED_REMOTE: 2,
  OPEN: 3,
  HALF_CLOSED_LOCAL: 4,
  HALF_CLOSED_REMOTE: 5,
  CLOSED: 6,
} as const;
export const PHASE = { OPEN: 0, DRAINING_PING: 1, DRAINING: 2, CLOSED: 3 } as const;
export const RESULT = { OK: 0, BAD_STATE: 1, LIMIT: 2, CLOSED: 3, IDS_EXHAUSTED: 4, INVALID: 5 } as const;

/** Config keys of engine_config_set: SETTINGS ids as themselves, limits from 100. */
export const CFG = {
  headerTableSize: 1,
  enablePush: 2,
  maxConcurrentStreams: 3,
  initialWindowSize: 4,
  maxFrameSize: 5,
  maxHeaderListSize: 6,
  enableConnectProtocol: 8,
  connectionWindow: 100,
  autoRelease: 101,
  maxStreamSendBuffer: 102,
  maxConnectionSendBuffer: 103,
  maxContinuations: 104,
  maxQueuedControlFrames: 105,
  maxClosedStreams: 106,
  maxResetsPerSecond: 107,
  maxPendingStreams: 108,
  outputHighWater: 109,
  keepaliveInterval: 110,
  keepaliveTimeout: 111,
  settingsTimeout: 112,
  idleTimeout: 113,
  gracefulTimeout: 114,
  maxGlitchesPerSecond: 115,
  closeLinger: 116,
  capacityHighWater: 117,
  handshakeTimeout: 118,
  headerTimeout: 119,
  sendStallTimeout: 120,
  writeStallTimeout: 121,
  recvIdleTimeout: 122,
} as const;
export type ConfigOptions = Partial<Record<keyof typeof CFG, number | boolean>>;

export interface Event {
  kind: number;
  stream: number; // harness index
  id: number; // wire stream id at the time
  a: number;
  b: number;
  bytes: Uint8Array;
  fields?: [string, string][];
}

function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let shared: Exports | undefined;
/** One module instance per test file keeps engine creation cheap; pass fresh=true to isolate. */
export function harness(fresh = false): Exports {
  if (fresh || !shared) shared = loadModule('test/proto');
  return shared;
}

/** A memory budget of its own for the engines given it (proto/budget.ts). */
export class TestBudget {
  readonly b: number;
  constructor(
    readonly ex: Exports,
    memory: number,
  ) {
    this.b = ex.engine_budget_new(BigInt(memory));
  }
  private get(what: number): number {
    return Number(this.ex.engine_budget_get(this.b, what));
  }
  get used(): number {
    return this.get(0);
  }
  get sendBytes(): number {
    return this.get(1);
  }
  get recvBytes(): number {
    return this.get(2);
  }
  get streams(): number {
    return this.get(3);
  }
  get connections(): number {
    return this.get(4);
  }
  get shed(): number {
    return this.get(5);
  }
  get maxSendBytes(): number {
    return this.get(11);
  }
  set maxRecvBytes(v: number) {
    this.ex.engine_budget_set(this.b, 12, BigInt(v));
  }
  set maxStreams(v: number) {
    this.ex.engine_budget_set(this.b, 13, BigInt(v));
  }
  set maxConnections(v: number) {
    this.ex.engine_budget_set(this.b, 14, BigInt(v));
  }
}

export class Engine {
  readonly e: number;
  readonly events: Event[] = [];

  /** `clock`: created at `now`, the host's present time (`current`) or a stale one;
   *  without it the engine's clock starts at its first tick. `budget`: a TestBudget's
   *  index, shared with the other engines given it (else the instance's). */
  constructor(
    readonly ex: Exports,
    role: 'client' | 'server',
    options: ConfigOptions = {},
    clock?: { now: number; current: boolean },
    budget?: TestBudget,
  ) {
    const cfg = ex.engine_config_new(role === 'client' ? 1 : 2);
    if (budget) ex.engine_config_budget(cfg, budget.b);
    for (const [k, v] of Object.entries(options)) {
      ex.engine_config_set(cfg, CFG[k as keyof typeof CFG], BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : v));
    }
    this.e = clock ? ex.engine_new_at(cfg, BigInt(clock.now), clock.current) : ex.engine_new(cfg);
  }

  /** Copies `bytes` into wasm memory for the duration of `use(ptr, len)`. */
  private with<T>(bytes: Uint8Array, use: (ptr: number, len: number) => T): T {
    const p = this.ex.engine_alloc(Math.max(bytes.length, 1)) >>> 0;
    new Uint8Array(this.ex.memory.buffer, p, bytes.length).set(bytes);
    try {
      return use(p, bytes.length);
    } finally {
      this.ex.engine_free_bytes(p);
      this.drainLog();
    }
  }

  /** Feeds bytes as if from the transport. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.with(bytes, (p, n) => this.ex.engine_receive(this.e, p, n));
  }

  /** Takes everything the engine wants written (running the DATA scheduler first). */
  takeOutput(max = Infinity): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total < max) {
      this.ex.engine_produce(this.e);
      const len = Math.min(this.ex.engine_output_len(this.e) >>> 0, max - total);
      if (len === 0) break;
      parts.push(new Uint8Array(this.ex.memory.buffer, this.ex.engine_output_ptr(this.e) >>> 0, len).slice());
      this.ex.engine_consume(this.e, len);
      total += len;
    }
    this.drainLog();
    return parts.length === 1 ? parts[0] : concatBytes(parts, total);
  }

  drainLog(): Event[] {
    const ex = this.ex;
    const len = ex.engine_log_len(this.e) >>> 0;
    if (len === 0) return [];
    const bytes = new Uint8Array(ex.memory.buffer, ex.engine_log_ptr(this.e) >>> 0, len).slice();
    ex.engine_log_clear(this.e);
    const dv = new DataView(bytes.buffer);
    const fresh: Event[] = [];
    for (let at = 0; at < len;) {
      const n = dv.getUint32(at + 20, true);
      const ev: Event = {
        kind: dv.getUint32(at, true),
        stream: dv.getUint32(at + 4, true),
        id: dv.getUint32(at + 8, true),
        a: dv.getUint32(at + 12, true),
        b: dv.getUint32(at + 16, true),
        bytes: bytes.slice(at + 24, at + 24 + n),
      };
      if (ev.kind === EV.REQUEST || ev.kind === EV.HEAD || ev.kind === EV.PUSH) ev.fields = readFieldList(ev.bytes);
      fresh.push(ev);
      at += 24 + n;
    }
    this.events.push(...fresh);
    return fresh;
  }

  of(kind: number, stream?: number): Event[] {
    return this.events.filter((e) => e.kind === kind && (stream === undefined || e.stream === stream));
  }

  /** Body bytes received on a stream, concatenated. */
  body(stream: number): Uint8Array {
    const parts = this.of(EV.DATA, stream).map((e) => e.bytes);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  open(fields: [string, string][], endStream = false): number {
    return this.with(fieldList(fields), (p, n) => this.ex.engine_open(this.e, p, n, endStream) >>> 0);
  }
  respond(stream: number, fields: [string, string][], endStream = false, informational = false): number {
    return this.with(fieldList(fields), (p, n) =>
      this.ex.engine_respond(this.e, stream, p, n, endStream, informational),
    );
  }
  push(stream: number, fields: [string, string][]): number {
    return this.with(fieldList(fields), (p, n) => this.ex.engine_push(this.e, stream, p, n) >>> 0);
  }
  sendData(stream: number, data: Uint8Array | string, endStream = false): number {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.with(b, (p, n) => this.ex.engine_send_data(this.e, stream, p, n, endStream));
  }
  sendTrailers(stream: number, fields: [string, string][]): number {
    return this.with(fieldList(fields), (p, n) => this.ex.engine_send_trailers(this.e, stream, p, n));
  }
  reset(stream: number, code: number): void {
    this.ex.engine_reset(this.e, stream, code);
    this.drainLog();
  }
  reserve(stream: number, n: number): void {
    this.ex.engine_reserve(this.e, stream, n);
  }
  capacity(stream: number): number {
    return this.ex.engine_capacity(this.e, stream) >>> 0;
  }
  release(stream: number, n: number): number {
    const r = this.ex.engine_release(this.e, stream, n);
    this.drainLog();
    return r;
  }
  setNextLocalId(id: number): void {
    this.ex.engine_set_next_local_id(this.e, id);
  }
  releaseClosed(n: number): void {
    this.ex.engine_release_closed(this.e, n);
    this.drainLog();
  }
  ping(): bigint {
    return this.ex.engine_ping(this.e);
  }
  goaway(code: number): void {
    this.ex.engine_goaway(this.e, code);
    this.drainLog();
  }
  shutdown(): void {
    this.ex.engine_shutdown(this.e);
    this.drainLog();
  }
  abort(code: number): void {
    this.ex.engine_abort(this.e, code);
    this.drainLog();
  }
  tick(now: number): void {
    this.ex.engine_tick(this.e, BigInt(now));
    this.drainLog();
  }
  nextDeadline(): number {
    return Number(this.ex.engine_next_deadline(this.e));
  }
  /** The host's turn ended: the time told last is stale until the next tick. */
  timeLapsed(): void {
    this.ex.engine_time_lapsed(this.e);
  }
  /** The host could not take the output (it answered PENDING). */
  writeBlocked(): void {
    this.ex.engine_write_blocked(this.e);
  }
  eof(): void {
    this.ex.engine_receive_eof(this.e);
    this.drainLog();
  }

  streamId(stream: number): number {
    return this.ex.engine_stream_id(this.e, stream) >>> 0;
  }
  streamState(stream: number): number {
    return this.ex.engine_stream_state(this.e, stream);
  }
  streamByWireId(id: number): number {
    return this.ex.engine_stream_by_id(this.e, id) >>> 0;
  }
  streamSendWindow(stream: number): number {
    return Number(this.ex.engine_stream_send_window(this.e, stream));
  }
  streamRecvWindow(stream: number): number {
    return Number(this.ex.engine_stream_recv_window(this.e, stream));
  }
  buffered(stream: number): number {
    return this.ex.engine_stream_buffered(this.e, stream) >>> 0;
  }
  get phase(): number {
    return this.ex.engine_phase(this.e);
  }
  get isDone(): boolean {
    return !!this.ex.engine_is_done(this.e);
  }
  get errorCode(): number {
    return this.ex.engine_error_code(this.e) >>> 0;
  }
  get liveStreams(): number {
    return this.ex.engine_live_streams(this.e);
  }
  get activeLocal(): number {
    return this.ex.engine_active_local(this.e) >>> 0;
  }
  get activeRemote(): number {
    return this.ex.engine_active_remote(this.e) >>> 0;
  }
  get pending(): number {
    return this.ex.engine_pending(this.e) >>> 0;
  }
  get bufferedTotal(): number {
    return this.ex.engine_buffered_total(this.e) >>> 0;
  }
  get sendWindow(): number {
    return Number(this.ex.engine_send_window(this.e));
  }
  get recvWindow(): number {
    return Number(this.ex.engine_recv_window(this.e));
  }
  get lastResult(): number {
    return this.ex.engine_last_result(this.e);
  }
  remoteSetting(id: number): number {
    return this.ex.engine_remote_setting(this.e, id) >>> 0;
  }
  localSetting(id: number): number {
    return this.ex.engine_local_setting(this.e, id) >>> 0;
  }
  free(): void {
    this.ex.engine_free(this.e);
  }
}

/**
 * Moves bytes both ways until neither engine has anything to say. `chunk` (optional)
 * returns the size of each piece handed over, to exercise arbitrary splits. Bounded.
 */
export function pump(a: Engine, b: Engine, chunk?: () => number, maxRounds = 100000): void {
  for (let round = 0; round < maxRounds; round++) {
    const ab = a.takeOutput();
    const ba = b.takeOutput();
    if (ab.length === 0 && ba.length === 0) return;
    feed(b, ab, chunk);
    feed(a, ba, chunk);
  }
  throw new Error('pump: engines did not go quiet');
}

function feed(to: Engine, bytes: Uint8Array, chunk?: () => number): void {
  if (!chunk) return to.receive(bytes);
  for (let at = 0; at < bytes.length;) {
    const n = Math.max(1, Math.min(chunk(), bytes.length - at));
    to.receive(bytes.subarray(at, at + n));
    at += n;
  }
}

/** A connected client/server pair with the handshake done. */
export function connectedPair(ex: Exports, clientOptions: ConfigOptions = {}, serverOptions: ConfigOptions = {}) {
  const client = new Engine(ex, 'client', clientOptions);
  const server = new Engine(ex, 'server', serverOptions);
  pump(client, server);
  return { client, server };
}

export const GET: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];
export const POST: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/upload'],
];
export const OK: [string, string][] = [[':status', '200']];
