// Test access to the connection engine (assembly/proto/connection.ts): engines in a
// table, a Handler that records every event into a byte log the tests read back, and
// thin functions over the engine's API. Streams are named by a harness index (our own
// streams may have no id yet), recorded in every event.
import { Config, Role } from '../../assembly/proto/config';
import { Connection, SHED_STALL_MS, SendResult } from '../../assembly/proto/connection';
import { Budget } from '../../assembly/proto/budget';
import { Handler } from '../../assembly/proto/events';
import { Stream } from '../../assembly/proto/stream';
import { ByteBuffer } from '../../assembly/util/bytes';

// Event kinds in the log.
const EV_REQUEST: u32 = 1;
const EV_HEAD: u32 = 2;
const EV_DATA: u32 = 3;
const EV_PUSH: u32 = 4;
const EV_RESET: u32 = 5;
const EV_CLOSED: u32 = 6;
const EV_OPENED: u32 = 7;
const EV_CAPACITY: u32 = 8;
const EV_REMOTE_SETTINGS: u32 = 9;
const EV_SETTINGS_ACK: u32 = 10;
const EV_PING_ACK: u32 = 11;
const EV_GOAWAY: u32 = 12;
const EV_CONN_ERROR: u32 = 13;

/**
 * Each event: u32 kind, u32 stream index, u32 stream id, u32 a, u32 b, u32 byteLen,
 * then the bytes (field list, DATA, debug data, message).
 */
class Recorder extends Handler {
  log: ByteBuffer = new ByteBuffer();
  streams: Array<Stream | null> = [null];
  /** What the engine answered the last engine_open or engine_push (SendResult). */
  lastResult: u32 = 0;

  indexOf(stream: Stream): u32 {
    if (stream.userdata == 0) {
      stream.userdata = <u32>this.streams.length;
      this.streams.push(stream);
    }
    return stream.userdata;
  }

  record(kind: u32, stream: Stream | null, a: u32, b: u32, bytes: usize, len: u32): void {
    const log = this.log;
    log.reserve(24 + len);
    const p = log.ptr + log.len;
    store<u32>(p, kind);
    store<u32>(p, stream == null ? 0 : this.indexOf(stream), 4);
    store<u32>(p, stream == null ? 0 : stream.id, 8);
    store<u32>(p, a, 12);
    store<u32>(p, b, 16);
    store<u32>(p, len, 20);
    log.len += 24;
    if (len > 0) log.pushBytes(bytes, len);
  }

  onRequest(stream: Stream, fields: usize, fieldsLen: u32, endStream: bool): void {
    this.record(EV_REQUEST, stream, endStream ? 1 : 0, 0, fields, fieldsLen);
  }
  onHead(stream: Stream, kind: u8, fields: usize, fieldsLen: u32, endStream: bool): void {
    this.record(EV_HEAD, stream, endStream ? 1 : 0, kind, fields, fieldsLen);
  }
  onData(stream: Stream, data: usize, len: u32, endStream: bool): void {
    this.record(EV_DATA, stream, endStream ? 1 : 0, 0, data, len);
  }
  onPush(parent: Stream, promised: Stream, fields: usize, fieldsLen: u32): void {
    this.record(EV_PUSH, parent, this.indexOf(promised), promised.id, fields, fieldsLen);
  }
  onReset(stream: Stream, code: u32, remote: bool): void {
    this.record(EV_RESET, stream, code, remote ? 1 : 0, 0, 0);
  }
  onClosed(stream: Stream): void {
    this.record(EV_CLOSED, stream, 0, 0, 0, 0);
  }
  onOpened(stream: Stream): void {
    this.record(EV_OPENED, stream, 0, 0, 0, 0);
  }
  onCapacity(stream: Stream, capacity: u32): void {
    this.record(EV_CAPACITY, stream, capacity, 0, 0, 0);
  }
  onRemoteSettings(): void {
    this.record(EV_REMOTE_SETTINGS, null, 0, 0, 0, 0);
  }
  onSettingsAck(): void {
    this.record(EV_SETTINGS_ACK, null, 0, 0, 0, 0);
  }
  onPingAck(data: u64, rtt: i64): void {
    this.record(EV_PING_ACK, null, <u32>data, <u32>rtt, 0, 0);
  }
  onGoaway(lastStreamId: u32, code: u32, debug: usize, debugLen: u32): void {
    this.record(EV_GOAWAY, null, lastStreamId, code, debug, debugLen);
  }
  onConnectionError(code: u32, message: string, remote: bool): void {
    const m = String.UTF8.encode(message);
    this.record(EV_CONN_ERROR, null, code, remote ? 1 : 0, changetype<usize>(m), <u32>m.byteLength);
  }
}

const configs: Array<Config | null> = [];
const engines: Array<Connection | null> = [];
const recorders: Array<Recorder | null> = [];

export function engine_alloc(n: u32): usize {
  return heap.alloc(n);
}

export function engine_config_new(role: u8): i32 {
  configs.push(new Config(role == 1 ? Role.CLIENT : Role.SERVER));
  return configs.length - 1;
}

const budgets: Budget[] = [];

/** A budget of its own (`memory` bytes, the finer limits derived) for engines made from configs given it. */
export function engine_budget_new(memory: u64): i32 {
  const b = new Budget();
  b.setMemory(memory);
  budgets.push(b);
  return budgets.length - 1;
}
export function engine_config_budget(cfg: i32, budget: i32): void {
  changetype<Config>(configs[cfg]).budget = budgets[budget];
}
/** 0 used, 1 send bytes, 2 recv bytes, 3 streams, 4 connections, 5 shed; 10.. the limits (memory, send, recv, streams, connections). */
export function engine_budget_get(budget: i32, what: u32): u64 {
  const b = budgets[budget];
  switch (what) {
    case 0:
      return b.used;
    case 1:
      return b.sendBytes;
    case 2:
      return b.recvBytes;
    case 3:
      return b.streams;
    case 4:
      return b.connections;
    case 5:
      return b.shedCount;
    case 10:
      return b.memory;
    case 11:
      return b.maxSendBytes;
    case 12:
      return b.maxRecvBytes;
    case 13:
      return b.maxStreams;
    case 14:
      return b.maxConnections;
    default:
      return 0;
  }
}
export function engine_budget_set(budget: i32, what: u32, value: u64): void {
  const b = budgets[budget];
  if (what == 11) b.maxSendBytes = value;
  else if (what == 12) b.maxRecvBytes = value;
  else if (what == 13) b.maxStreams = value;
  else if (what == 14) b.maxConnections = value;
}

/** Sets one knob of a config before an engine is made from it (keys listed in engine.ts). */
export function engine_config_set(cfg: i32, key: u32, value: i64): void {
  const c = changetype<Config>(configs[cfg]);
  switch (key) {
    case 1:
      c.local.headerTableSize = <u32>value;
      break;
    case 2:
      c.local.enablePush = value != 0;
      break;
    case 3:
      c.local.maxConcurrentStreams = <u32>value;
      break;
    case 4:
      c.local.initialWindowSize = <u32>value;
      break;
    case 5:
      c.local.maxFrameSize = <u32>value;
      break;
    case 6:
      c.local.maxHeaderListSize = <u32>value;
      break;
    case 8:
      c.local.enableConnectProtocol = value != 0;
      break;
    case 100:
      c.connectionWindow = <u32>value;
      break;
    case 101:
      c.autoRelease = value != 0;
      break;
    case 102:
      c.maxStreamSendBuffer = <u32>value;
      break;
    case 103:
      c.maxConnectionSendBuffer = <u32>value;
      break;
    case 104:
      c.maxContinuations = <u32>value;
      break;
    case 105:
      c.maxQueuedControlFrames = <u32>value;
      break;
    case 106:
      c.maxClosedStreams = <u32>value;
      break;
    case 107:
      c.maxResetsPerSecond = <u32>value;
      break;
    case 108:
      c.maxPendingStreams = <u32>value;
      break;
    case 109:
      c.outputHighWater = <u32>value;
      break;
    case 110:
      c.keepaliveInterval = value;
      break;
    case 111:
      c.keepaliveTimeout = value;
      break;
    case 112:
      c.settingsTimeout = value;
      break;
    case 113:
      c.idleTimeout = value;
      break;
    case 114:
      c.gracefulTimeout = value;
      break;
    case 115:
      c.maxGlitchesPerSecond = <u32>value;
      break;
    case 116:
      c.closeLinger = value;
      break;
    case 117:
      c.capacityHighWater = <u32>value;
      break;
    case 118:
      c.handshakeTimeout = value;
      break;
    case 119:
      c.headerTimeout = value;
      break;
    case 120:
      c.sendStallTimeout = value;
      break;
    case 121:
      c.writeStallTimeout = value;
      break;
    case 122:
      c.recvIdleTimeout = value;
      break;
    default:
      break;
  }
}

export function engine_new(cfg: i32): i32 {
  return engine_new_at(cfg, 0, false);
}

/** An engine created at `now` (the last time the host told), current or stale. */
export function engine_new_at(cfg: i32, now: i64, current: bool): i32 {
  const r = new Recorder();
  recorders.push(r);
  engines.push(new Connection(changetype<Config>(configs[cfg]), r, now, current));
  configs[cfg] = null; // the engine holds it now
  return engines.length - 1;
}

function eng(e: i32): Connection {
  return changetype<Connection>(engines[e]);
}

function rec(e: i32): Recorder {
  return changetype<Recorder>(recorders[e]);
}

function stream(e: i32, index: u32): Stream | null {
  const r = rec(e);
  return index < <u32>r.streams.length ? r.streams[index] : null;
}

export function engine_free(e: i32): void {
  eng(e).dispose();
  engines[e] = null;
  rec(e).log.dispose();
  recorders[e] = null;
}

export function engine_receive(e: i32, ptr: usize, len: u32): u32 {
  return eng(e).receive(ptr, len);
}
export function engine_receive_eof(e: i32): void {
  eng(e).receiveEof();
}
export function engine_produce(e: i32): void {
  eng(e).produce();
}
export function engine_output_ptr(e: i32): usize {
  return eng(e).outputPtr;
}
export function engine_output_len(e: i32): u32 {
  return eng(e).outputLen;
}
export function engine_consume(e: i32, n: u32): void {
  eng(e).consumeOutput(n);
}
export function engine_log_ptr(e: i32): usize {
  return rec(e).log.ptr;
}
export function engine_log_len(e: i32): u32 {
  return rec(e).log.len;
}
export function engine_log_clear(e: i32): void {
  rec(e).log.clear();
}
export function engine_phase(e: i32): u8 {
  return eng(e).phase;
}
export function engine_is_done(e: i32): bool {
  return eng(e).isDone;
}
export function engine_error_code(e: i32): u32 {
  return eng(e).errorCode;
}
/** Tells engine `e` the time, as a host does: the instance's budget acts on it too (ffi/executor.ts). */
export function engine_tick(e: i32, now: i64): void {
  const engine = eng(e);
  engine.budget.shedIfPressed(now, SHED_STALL_MS);
  engine.tick(now);
}
export function engine_next_deadline(e: i32): i64 {
  return eng(e).nextDeadline();
}
export function engine_time_lapsed(e: i32): void {
  eng(e).timeLapsed();
}
export function engine_write_blocked(e: i32): void {
  eng(e).writeBlocked();
}
export function engine_ping(e: i32): u64 {
  return eng(e).ping();
}
export function engine_goaway(e: i32, code: u32): void {
  eng(e).goaway(code, 'test');
}
export function engine_shutdown(e: i32): void {
  eng(e).gracefulShutdown();
}
export function engine_abort(e: i32, code: u32): void {
  eng(e).abort(code, 'aborted by test');
}
export function engine_live_streams(e: i32): i32 {
  return eng(e).store.size;
}
export function engine_active_local(e: i32): u32 {
  return eng(e).counts.activeLocal;
}
export function engine_active_remote(e: i32): u32 {
  return eng(e).counts.activeRemote;
}
export function engine_pending(e: i32): u32 {
  return eng(e).pendingCount;
}
export function engine_buffered_total(e: i32): u32 {
  return eng(e).counts.buffered;
}
export function engine_send_window(e: i32): i64 {
  return eng(e).sendWindow.window;
}
export function engine_recv_window(e: i32): i64 {
  return eng(e).recvWindow.window;
}
export function engine_remote_setting(e: i32, id: u16): u32 {
  return eng(e).remote.get(id);
}
export function engine_local_setting(e: i32, id: u16): u32 {
  return eng(e).localAcked.get(id);
}

/** Opens a stream (client); returns its harness index, or 0 with the result in engine_last_result. */
export function engine_open(e: i32, fields: usize, len: u32, endStream: bool): u32 {
  const s = eng(e).newLocalStream();
  const r = rec(e);
  r.lastResult = eng(e).openStream(s, fields, len, endStream);
  return r.lastResult == SendResult.OK ? r.indexOf(s) : 0;
}
/** Moves our next stream id (tests of id exhaustion near 2^31-1). */
export function engine_set_next_local_id(e: i32, id: u32): void {
  eng(e).nextLocalId = id;
}
export function engine_last_result(e: i32): u32 {
  return rec(e).lastResult;
}
export function engine_stream_id(e: i32, s: u32): u32 {
  const st = stream(e, s);
  return st == null ? 0 : st.id;
}
export function engine_stream_state(e: i32, s: u32): i32 {
  const st = stream(e, s);
  return st == null ? -1 : <i32>st.state;
}
export function engine_stream_send_window(e: i32, s: u32): i64 {
  const st = stream(e, s);
  return st == null ? 0 : st.sendWindow.window;
}
export function engine_stream_recv_window(e: i32, s: u32): i64 {
  const st = stream(e, s);
  return st == null ? 0 : st.recvWindow.window;
}
export function engine_stream_buffered(e: i32, s: u32): u32 {
  const st = stream(e, s);
  return st == null ? 0 : st.buffered;
}
/** Index of the stream with wire id `id` (a peer-opened stream seen in a REQUEST event), or 0. */
export function engine_stream_by_id(e: i32, id: u32): u32 {
  const st = eng(e).store.get(id);
  return st == null ? 0 : rec(e).indexOf(st);
}

export function engine_respond(e: i32, s: u32, fields: usize, len: u32, endStream: bool, informational: bool): u32 {
  const st = stream(e, s);
  return st == null ? 99 : eng(e).sendResponse(st, fields, len, endStream, informational);
}
export function engine_push(e: i32, s: u32, fields: usize, len: u32): u32 {
  const st = stream(e, s);
  if (st == null) return 0;
  const p = eng(e).newLocalStream();
  const r = rec(e);
  r.lastResult = eng(e).pushPromise(st, p, fields, len);
  return r.lastResult == SendResult.OK ? r.indexOf(p) : 0;
}
export function engine_send_data(e: i32, s: u32, ptr: usize, len: u32, endStream: bool): u32 {
  const st = stream(e, s);
  return st == null ? 99 : eng(e).sendData(st, ptr, len, endStream);
}
export function engine_send_trailers(e: i32, s: u32, fields: usize, len: u32): u32 {
  const st = stream(e, s);
  return st == null ? 99 : eng(e).sendTrailers(st, fields, len);
}
export function engine_reset(e: i32, s: u32, code: u32): void {
  const st = stream(e, s);
  if (st != null) eng(e).resetStream(st, code);
}
export function engine_reserve(e: i32, s: u32, n: u32): void {
  const st = stream(e, s);
  if (st != null) eng(e).reserveCapacity(st, n);
}
export function engine_capacity(e: i32, s: u32): u32 {
  const st = stream(e, s);
  return st == null ? 0 : eng(e).capacity(st);
}
export function engine_release(e: i32, s: u32, n: u32): u32 {
  const st = stream(e, s);
  return st == null ? 99 : eng(e).releaseCapacity(st, n);
}
export function engine_release_closed(e: i32, n: u32): void {
  eng(e).releaseClosed(n);
}

/** Bytes of linear memory in use by the allocator's view: pages × 64 KiB. */
export function engine_memory_bytes(): u32 {
  return (<u32>memory.size()) << 16;
}
export function engine_collect(): void {
  __collect();
}
export function engine_free_bytes(p: usize): void {
  heap.free(p);
}
import { heapUsedBytes } from '../../assembly/util/heap';
/** Heap in use after a full collection (the harness runs the incremental runtime, whose
 *  shadow stack makes a collection safe here). */
export function engine_heap_used(): u32 {
  __collect();
  return heapUsedBytes();
}
import { decodeHuffman, huffmanMaxDecodedLength } from '../../assembly/hpack/huffman';
/** Builds the Huffman decoder's lazily made tables: the octet table comes once the module
 *  has decoded 32 KiB of Huffman input (assembly/hpack/huffman.ts). 35,000 zero octets
 *  (56,000 '0's, code 00000) take it past; the second decode builds the table. */
export function engine_build_huffman_tables(): void {
  const len: u32 = 35000;
  const src = heap.alloc(len);
  memory.fill(src, 0, len);
  const dst = heap.alloc(huffmanMaxDecodedLength(len));
  decodeHuffman(src, len, dst);
  decodeHuffman(src, len, dst);
  heap.free(dst);
  heap.free(src);
}
