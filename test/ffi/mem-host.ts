// An in-memory duplex for the raw ABI: connections of one or more instances of
// build/h2wasm.wasm wired to each other through the io imports, with no sockets. Each
// end keeps an inbox of byte chunks; io_write appends to the peer's inbox and wakes the
// peer's read waker (hyper's semantics: a count, 0 at EOF, PENDING after taking a waker).
// Deterministic and fast: what the memory tests and the safety test's fixtures run on.
// Userdata the host does not know answers H2_IO_ERROR; so does a body source a test did
// not register in `sources`, and zero-copy send_data unless a test set `sendData`.
import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

// The ABI's numbers, from the one TypeScript table (checked against the header).
import { H2_IO, TASK, H2E } from '../../bindings/abi.js';
export { TASK, H2E };

export const PENDING = H2_IO.PENDING;
export const IO_ERROR = H2_IO.ERROR;

export type Ex = Record<string, any> & { memory: WebAssembly.Memory };

export const WASM_PATH = join(ROOT, 'build', 'h2wasm.wasm');
let cachedModule: WebAssembly.Module | null = null;
export function releaseModule(): WebAssembly.Module {
  cachedModule ??= new WebAssembly.Module(readFileSync(WASM_PATH));
  return cachedModule;
}

/** One end of a duplex, as its instance's io callbacks see it. */
interface End {
  host: MemHost;
  inbox: Uint8Array[];
  eof: boolean;
  readWaker: number;
  peer: End | null;
  closed: boolean;
}

let nextUserdata = 1;

export class MemHost {
  readonly ex: Ex;
  readonly ends = new Map<number, End>();
  /** Bytes moved through io_write by this instance; the driver stops when it stands still. */
  activity = 0;
  /** The last context an io callback got, and how many callbacks ran. */
  lastCtx = 0;
  calls = 0;
  foreach: [string, string][] = [];
  /** Called at the start of every io callback (a test may call exports from inside). */
  hook: ((op: 'read' | 'write', userdata: number) => void) | null = null;
  /** A test's data sources by body userdata: body_read's answer, given (buf, len). */
  readonly sources = new Map<number, (buf: number, len: number) => number>();
  /** Backpressure: io_write takes at most this many bytes between the driver's rounds, then
   *  answers PENDING (taking a waker, woken at the next round), as a socket whose buffer
   *  filled up does; 0: no limit. */
  writeBudget = 0;
  budgetLeft = 0;
  /** Every chunk this instance wrote to a transport, when a test asks (set it to []). */
  written: Uint8Array[] | null = null;
  /** The zero-copy send_data import, when a test gives one (it writes with `writeTo`). */
  sendData: ((userdata: number, ctx: number, prefix: Uint8Array, dataLen: number, padLen: number) => number) | null =
    null;
  /** What the informational import was called with: [userdata, response head as fields]. */
  readonly informational: [number, number, [string, string][]][] = [];

  constructor() {
    const host = {
      io_read: (userdata: number, ctx: number, buf: number, len: number): number => {
        this.calls++;
        this.lastCtx = ctx;
        this.hook?.('read', userdata);
        const e = this.ends.get(userdata);
        if (!e || e.closed) return IO_ERROR;
        if (e.inbox.length === 0) {
          if (e.eof) return 0;
          if (e.readWaker) this.ex.h2_waker_free(e.readWaker);
          e.readWaker = this.ex.h2_context_waker(ctx);
          return PENDING;
        }
        const mem = new Uint8Array(this.ex.memory.buffer, buf >>> 0, len >>> 0);
        let n = 0;
        while (n < len && e.inbox.length > 0) {
          const c = e.inbox[0];
          const take = Math.min(c.length, len - n);
          mem.set(c.subarray(0, take), n);
          n += take;
          if (take === c.length) e.inbox.shift();
          else e.inbox[0] = c.subarray(take);
        }
        return n;
      },
      io_write: (userdata: number, ctx: number, buf: number, len: number): number => {
        this.calls++;
        this.lastCtx = ctx;
        this.hook?.('write', userdata);
        const e = this.ends.get(userdata);
        if (!e || e.closed || !e.peer || e.peer.closed) return IO_ERROR;
        if (this.writeBudget > 0) {
          if (this.budgetLeft === 0) {
            deferredWriteWakes.push([this, this.ex.h2_context_waker(ctx)]);
            return PENDING;
          }
          len = Math.min(len >>> 0, this.budgetLeft);
          this.budgetLeft -= len;
        }
        const chunk = new Uint8Array(this.ex.memory.buffer, buf >>> 0, len >>> 0).slice();
        e.peer.inbox.push(chunk);
        this.written?.push(chunk);
        this.activity += len;
        wakeRead(e.peer);
        return len;
      },
      body_read: (userdata: number, _ctx: number, buf: number, len: number): number => {
        const source = this.sources.get(userdata);
        return source ? source(buf >>> 0, len >>> 0) : IO_ERROR;
      },
      send_data: (userdata: number, ctx: number, prefix: number, prefixLen: number, dataLen: number, padLen: number) =>
        this.sendData ? this.sendData(userdata, ctx, this.bytes(prefix, prefixLen), dataLen, padLen) : IO_ERROR,
      headers_foreach: (_u: number, name: number, nameLen: number, value: number, valueLen: number) => {
        const dec = new TextDecoder();
        this.foreach.push([dec.decode(this.bytes(name, nameLen)), dec.decode(this.bytes(value, valueLen))]);
        return 0;
      },
      informational: (userdata: number, response: number) => {
        const status = this.ex.h2_response_status(response);
        this.informational.push([userdata, status, this.headers(this.ex.h2_response_headers(response))]);
      },
    };
    const instance = new WebAssembly.Instance(releaseModule(), { h2_host: host });
    this.ex = instance.exports as Ex;
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer, ptr >>> 0, len >>> 0).slice();
  }

  /** Runs `fn(ptr, len)` with `data` copied into linear memory. */
  with<T>(data: Uint8Array | string, fn: (ptr: number, len: number) => T): T {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const p = this.ex.h2_alloc(Math.max(1, b.length)) >>> 0;
    new Uint8Array(this.ex.memory.buffer, p, b.length).set(b);
    try {
      return fn(p, b.length);
    } finally {
      this.ex.h2_free(p);
    }
  }

  /** A new io bound to a fresh end (connect it with `wire`). Returns [io, userdata]. */
  io(): [number, number] {
    const ud = nextUserdata++;
    this.ends.set(ud, { host: this, inbox: [], eof: false, readWaker: 0, peer: null, closed: false });
    const io = this.ex.h2_io_new();
    this.ex.h2_io_set_userdata(io, ud);
    return [io, ud];
  }

  /** Writes `bytes` to the transport of end `ud`, as io_write does (zero-copy hosts use it). */
  writeTo(ud: number, bytes: Uint8Array): void {
    const e = this.ends.get(ud);
    if (!e || !e.peer) throw new Error(`writeTo: no end ${ud}`);
    e.peer.inbox.push(bytes.slice());
    this.written?.push(bytes.slice());
    this.activity += bytes.length;
    wakeRead(e.peer);
  }

  /** Closes an end: its peer reads EOF; its own callbacks answer IO_ERROR. Frees its waker. */
  close(ud: number): void {
    const e = this.ends.get(ud);
    if (!e) return;
    e.closed = true;
    if (e.readWaker) {
      this.ex.h2_waker_free(e.readWaker);
      e.readWaker = 0;
    }
    if (e.peer) {
      e.peer.eof = true;
      wakeRead(e.peer);
    }
    this.ends.delete(ud);
    flushWakes();
  }

  headers(handle: number): [string, string][] {
    this.foreach = [];
    this.ex.h2_headers_foreach(handle, 0);
    return this.foreach;
  }

  /** Takes a buf task's bytes and frees the buf. */
  takeBuf(task: number): Uint8Array {
    const buf = this.ex.h2_task_value(task);
    const out = this.bytes(this.ex.h2_buf_bytes(buf), this.ex.h2_buf_len(buf));
    this.ex.h2_buf_free(buf);
    return out;
  }
}

// Wakes are deferred to the driver (pump), never made from inside an io callback.
const deferredWakes: End[] = [];
function wakeRead(e: End): void {
  if (e.readWaker) deferredWakes.push(e);
}
const deferredWriteWakes: [MemHost, number][] = [];
export function flushWakes(): void {
  for (const [host, waker] of deferredWriteWakes.splice(0)) {
    host.budgetLeft = host.writeBudget; // the socket drained
    host.ex.h2_waker_wake(waker);
  }
  while (deferredWakes.length) {
    const e = deferredWakes.pop()!;
    if (!e.readWaker) continue;
    const w = e.readWaker;
    e.readWaker = 0;
    e.host.ex.h2_waker_wake(w);
  }
}

/** Connects end `a` of host `ha` with end `b` of host `hb` (the same host or two instances). */
export function wire(ha: MemHost, a: number, hb: MemHost, b: number): void {
  const ea = ha.ends.get(a)!;
  const eb = hb.ends.get(b)!;
  ea.peer = eb;
  eb.peer = ea;
}

/**
 * Polls every (host, executor) until none returns a task and no bytes moved, handing each
 * task to `onTask`. Bounded: throws after `maxRounds` rounds.
 */
export function pump(
  execs: [MemHost, number][],
  onTask: (host: MemHost, task: number, type: number, user: number) => void,
  maxRounds = 1_000_000,
): void {
  let quiet = 0;
  for (let round = 0; round < maxRounds; round++) {
    const before = execs.reduce((n, [h]) => n + h.activity, 0);
    let tasks = 0;
    flushWakes();
    for (const [h, exec] of execs) {
      let t: number;
      while ((t = h.ex.h2_executor_poll(exec)) !== 0) {
        tasks++;
        onTask(h, t, h.ex.h2_task_type(t), h.ex.h2_task_userdata(t));
      }
    }
    const after = execs.reduce((n, [h]) => n + h.activity, 0);
    if (tasks === 0 && after === before) {
      if (++quiet >= 2) return;
    } else quiet = 0;
  }
  throw new Error('pump: no quiescence');
}

export function pushTask(h: MemHost, exec: number, task: number, user: number): void {
  if (!task) throw new Error('pushTask: 0 handle');
  h.ex.h2_task_set_userdata(task, user);
  const rc = h.ex.h2_executor_push(exec, task);
  if (rc !== 0) throw new Error(`pushTask: push refused (${rc})`);
}

/** The task userdata of the handshakes startPair pushes. */
export const PAIR_HANDSHAKE = 0x7fff0001;

/**
 * Starts the handshakes of a client (on `ch`/`cexec`) and a server (on `sh`/`sexec`) over
 * an in-memory duplex, without polling. Returns the userdata of each end.
 */
export function startPair(
  ch: MemHost,
  cexec: number,
  sh: MemHost,
  sexec: number,
  serverOpts: [number, bigint][] = [],
  clientOpts: [number, bigint][] = [],
) {
  const [cio, cud] = ch.io();
  const [sio, sud] = sh.io();
  wire(ch, cud, sh, sud);
  const co = ch.ex.h2_clientconn_options_new();
  ch.ex.h2_clientconn_options_exec(co, cexec);
  for (const [k, v] of clientOpts)
    if (ch.ex.h2_clientconn_options_set(co, k, v) !== 0) throw new Error(`client option ${k}`);
  const so = sh.ex.h2_serverconn_options_new();
  sh.ex.h2_serverconn_options_exec(so, sexec);
  for (const [k, v] of serverOpts)
    if (sh.ex.h2_serverconn_options_set(so, k, v) !== 0) throw new Error(`server option ${k}`);
  pushTask(ch, cexec, ch.ex.h2_clientconn_handshake(cio, co), PAIR_HANDSHAKE);
  pushTask(sh, sexec, sh.ex.h2_serverconn_handshake(sio, so), PAIR_HANDSHAKE);
  return { cud, sud };
}

/**
 * Handshakes a client (on `ch`/`cexec`) with a server (on `sh`/`sexec`) over an in-memory
 * duplex. Returns the two connection handles and the userdata of each end.
 */
export function connectPair(
  ch: MemHost,
  cexec: number,
  sh: MemHost,
  sexec: number,
  serverOpts: [number, bigint][] = [],
  clientOpts: [number, bigint][] = [],
) {
  const { cud, sud } = startPair(ch, cexec, sh, sexec, serverOpts, clientOpts);
  let client = 0;
  let server = 0;
  const execs: [MemHost, number][] =
    ch === sh && cexec === sexec
      ? [[ch, cexec]]
      : [
          [ch, cexec],
          [sh, sexec],
        ];
  pump(execs, (h, t, type, user) => {
    if (user !== PAIR_HANDSHAKE) throw new Error(`connectPair: unexpected task ${user}`);
    if (type === TASK.CLIENTCONN) client = h.ex.h2_task_value(t);
    else if (type === TASK.SERVERCONN) server = h.ex.h2_task_value(t);
    else throw new Error(`connectPair: handshake task type ${type}`);
    h.ex.h2_task_free(t);
  });
  if (!client || !server) throw new Error('connectPair: handshake did not finish');
  return { client, server, cud, sud };
}

/** For a RESPONSE task: its status and body, the response freed and the body's first read
 *  pushed under `bodyUser` (bodyStep reads on). */
export function responseStart(h: MemHost, exec: number, t: number, bodyUser: number): { status: number; body: number } {
  const ex = h.ex;
  const resp = ex.h2_task_value(t);
  const status = ex.h2_response_status(resp);
  const body = ex.h2_response_body(resp);
  ex.h2_response_free(resp);
  pushTask(h, exec, ex.h2_body_data(body), bodyUser);
  return { status, body };
}

/**
 * One step of reading a body inside a pump callback, for the task `t` of `h2_body_data`:
 * its chunk as text, the next read pushed under the same `user`; or null once the body
 * ended (the task was EMPTY, as it must be) and the body is freed.
 */
export function bodyStep(h: MemHost, exec: number, t: number, type: number, body: number, user: number): string | null {
  const ex = h.ex;
  if (type === TASK.BUF) {
    const text = Buffer.from(h.takeBuf(t)).toString();
    pushTask(h, exec, ex.h2_body_data(body), user);
    return text;
  }
  expect(type).toBe(TASK.EMPTY);
  ex.h2_body_free(body);
  return null;
}

/** Answers the request `sreq` with a 200 head whose body follows through the returned send
 *  stream; the request and its responder are freed (the send stream keeps the stream). */
export function open200(h: MemHost, sreq: number): number {
  const ex = h.ex;
  const respond = ex.h2_request_respond(sreq);
  ex.h2_request_free(sreq);
  const send = ex.h2_respond_send_response(respond, ex.h2_response_new(), 0);
  ex.h2_respond_free(respond);
  return send;
}

/** Answers the request `sreq` with 200 and `text`, ending the stream. */
export function answerText(h: MemHost, sreq: number, text: string): void {
  const send = open200(h, sreq);
  h.with(text, (ptr, n) => expect(h.ex.h2_send_stream_send_data(send, ptr, n, 1)).toBe(0));
  h.ex.h2_send_stream_free(send);
}

/** The instance still works after whatever a test did to it: h2_alloc/h2_free, an HPACK
 *  round trip, and one GET answered with a body between a client and a server of it. */
export function stillWorks(h: MemHost): void {
  const ex = h.ex;
  const p = ex.h2_alloc(64) >>> 0;
  expect(p).not.toBe(0);
  new Uint8Array(ex.memory.buffer, p, 64).fill(0x5a);
  expect(ex.h2_free(p)).toBe(0);
  // HPACK: encode a field list, decode it back.
  const fields = (list: [string, string][]) => {
    const parts: Buffer[] = [];
    for (const [n, v] of list) {
      const head = Buffer.alloc(12);
      head.writeUInt32LE(n.length, 0);
      head.writeUInt32LE(v.length, 4);
      parts.push(head, Buffer.from(n), Buffer.from(v));
    }
    return new Uint8Array(Buffer.concat(parts));
  };
  const list: [string, string][] = [
    [':method', 'GET'],
    [':path', '/safety'],
    ['x-check', 'still works'],
  ];
  const enc = ex.h2_hpack_encoder_new();
  const dec = ex.h2_hpack_decoder_new();
  expect(enc).not.toBe(0);
  expect(dec).not.toBe(0);
  const input = fields(list);
  expect(h.with(input, (ptr, n) => ex.h2_hpack_encode(enc, ptr, n))).toBe(0);
  const block = h.bytes(ex.h2_hpack_encoder_result(enc), ex.h2_hpack_encoder_result_len(enc));
  expect(h.with(block, (ptr, n) => ex.h2_hpack_decode(dec, ptr, n))).toBe(0);
  expect(Buffer.from(h.bytes(ex.h2_hpack_decoder_result(dec), ex.h2_hpack_decoder_result_len(dec)))).toEqual(
    Buffer.from(input),
  );
  expect(ex.h2_hpack_encoder_free(enc)).toBe(0);
  expect(ex.h2_hpack_decoder_free(dec)).toBe(0);
  // HTTP/2: a client and a server of this instance, one GET answered with a body.
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec);
  const req = ex.h2_request_new();
  h.with('http://check/ok', (ptr, n) => ex.h2_request_set_uri(req, ptr, n));
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), 1);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), 2);
  let body = '';
  let status = 0;
  let cbody = 0;
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === 2 && type === TASK.REQUEST) {
      answerText(h, ex.h2_task_value(t), 'fine');
    } else if (user === 1) {
      expect(type).toBe(TASK.RESPONSE);
      ({ status, body: cbody } = responseStart(h, exec, t, 3));
    } else if (user === 3) {
      body += bodyStep(h, exec, t, type, cbody, 3) ?? '';
    }
    ex.h2_task_free(t);
  });
  expect(status).toBe(200);
  expect(body).toBe('fine');
  expect(ex.h2_clientconn_free(pair.client)).toBe(0);
  expect(ex.h2_serverconn_free(pair.server)).toBe(0);
  h.close(pair.cud);
  h.close(pair.sud);
  pump([[h, exec]], (_h, t) => ex.h2_task_free(t));
  expect(ex.h2_executor_free(exec)).toBe(0);
}
