// Deterministic simulation: a client instance and a server instance of build/h2wasm.wasm,
// each behind a simulated host, over a simulated network, every choice drawn from ONE
// seeded PRNG (mulberry32). No Math.random, no Date.now: each host has a virtual clock.
//
// The hosts behave as real ones do. Each acts only when one of its own events fires —
// bytes arriving, its socket writable, its one timer, its application starting a request
// or accepting a connection — and each such event is one turn: the event's effects, the
// time told (h2_executor_set_time), polls until nothing is ready, then its timer armed at
// the executor's next deadline (fired late by a random amount) or cleared. A "runtime"
// host (the TS runtime, the Go host) makes the application's calls before it tells the
// time; a "strict" host (the C examples) tells it first. Neither host tells the time while
// it sleeps, and the workload sleeps: sessions of requests separated by idle gaps of
// seconds to hours, think time of up to minutes between requests on one connection. The
// client pools one connection at a time as fetch() does: it opens a new one when the last
// closed or is going away (the server's idle timeout), and retries what the server
// refused unprocessed. Host clocks run from different origins, jump back a little in any
// seed, and jump forward in chaos seeds.
//
// Injected besides: random write/read chunk sizes (partial writes), random delivery delays
// (in order per direction), H2_IO_PENDING answers from io_read/io_write with the waker
// woken at a random later virtual time, and in chaos seeds write failures (H2_IO_ERROR)
// and connection drops (EOF mid-stream). Every run returns a transcript for determinism.
import { readFileSync } from 'node:fs';
import { releaseModule, PENDING, IO_ERROR, TASK } from '../ffi/mem-host.js';
import { H2_OPT as OPT } from '../../bindings/abi.js';

type Ex = Record<string, any> & { memory: WebAssembly.Memory };

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ev {
  at: number;
  seq: number;
  run: () => void;
  label: string;
}

/** A binary min-heap on (at, seq): ties keep scheduling order, so runs are reproducible. */
class Queue {
  private h: Ev[] = [];
  get size() {
    return this.h.length;
  }
  private less(a: Ev, b: Ev) {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  push(e: Ev) {
    const h = this.h;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  peek(): Ev | undefined {
    return this.h[0];
  }
  pop(): Ev | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** How a host orders its application's calls and telling the time within a turn. */
export type HostTime = 'runtime' | 'strict';

/** One end of one connection's byte pipe. */
interface End {
  side: Side;
  conn: number;
  inbox: Uint8Array[];
  eof: boolean;
  broken: boolean;
  readWaker: number;
  writeWaker: number;
  /** Virtual time the last chunk written from this end reaches the peer (in order). */
  lastArrival: number;
  peer: End;
}

interface Side {
  name: 'c' | 's';
  ex: Ex;
  exec: number;
  time: HostTime;
  /** The host's clock reads virtual time + offset (hosts' clocks have different origins). */
  offset: number;
  /** Only the newest armed timer fires (a re-arm or a clear bumps this). */
  timerGen: number;
  ends: Map<number, End>;
}

export interface SimConfig {
  seed: number;
  chaos: boolean;
  /** Requests, each with the virtual time its application starts it (sessions and think time). */
  requests: number;
  starts: number[];
  pPendingRead: number;
  pPendingWrite: number;
  pWriteFail: number;
  pDrop: number;
  maxDelay: number;
  keepalive: boolean;
  /** The server closes idle connections after 20 s (else its default, 5 min). */
  idleTimeout: boolean;
  /** The client closes its connection after this long without requests: fetch()'s 90 s,
   *  or 5 s for a client that keeps a connection for little more than a request, as curl. */
  clientIdle: number;
  hostTime: { c: HostTime; s: HostTime };
  /** Most a host timer fires after its deadline (ms); a few fire up to 60 s late. */
  timerLate: number;
  /** Test-only: flip one byte of the first large server->client delivery (the checker must notice). */
  corrupt?: boolean;
  /** Test-only: the host loses the wakers of injected write PENDINGs (the hang detector must notice). */
  loseWakes?: boolean;
}

export interface SimResult {
  seed: number;
  config: SimConfig;
  transcript: string[];
  completed: number;
  failed: number;
  /** Connections the client opened. */
  connections: number;
  /** Problems that break the property (wrong bytes, hang, leak, unexpected task). */
  problems: string[];
  virtualMs: number;
}

const KiB = 1024;
const START = 1000;
/** Attempts of a request the server refused unprocessed (GOAWAY, REFUSED_STREAM). */
const MAX_ATTEMPTS = 4;

const logUniform = (r: () => number, lo: number, hi: number) =>
  Math.floor(Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo))));

export function configFor(seed: number): SimConfig {
  const r = mulberry32(seed ^ 0x9e3779b9);
  const chaos = r() < 0.5;
  // One to three sessions of one to three requests, separated by 1 s .. 3 h of silence;
  // within a session a request may wait up to 10 min of think time.
  const starts: number[] = [];
  let t = START;
  const sessions = 1 + Math.floor(r() * 3);
  for (let s = 0; s < sessions; s++) {
    if (s > 0) t += logUniform(r, 1000, 3 * 3600_000);
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) {
      if (k > 0 && r() < 0.4) t += logUniform(r, 100, 10 * 60_000);
      starts.push(t);
    }
  }
  return {
    seed,
    chaos,
    requests: starts.length,
    starts,
    pPendingRead: r() * 0.3,
    pPendingWrite: r() * 0.3,
    pWriteFail: chaos ? r() * 0.01 : 0,
    pDrop: chaos ? r() * 0.002 : 0,
    maxDelay: r() < 0.2 ? 500 : 1 + Math.floor(r() * 40),
    keepalive: r() < 0.4,
    idleTimeout: r() < 0.3,
    clientIdle: r() < 0.3 ? 5000 : 90_000,
    hostTime: { c: r() < 0.5 ? 'runtime' : 'strict', s: r() < 0.5 ? 'runtime' : 'strict' },
    timerLate: r() < 0.5 ? 20 : 2000,
  };
}

function bodySize(r: () => number): number {
  const k = r();
  if (k < 0.15) return 0;
  if (k < 0.5) return Math.floor(r() * 2 * KiB);
  if (k < 0.8) return Math.floor(r() * 64 * KiB);
  return Math.floor(r() * 256 * KiB) + 1;
}

function fill(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (r() * 4294967296) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Task userdata: kind << 24 | index (a connection, a server request, or attempt << 12 | request).
const K = { HS: 1, RESP: 2, CDATA: 3, CTRAIL: 4, ACCEPT: 5, SDATA: 6, STRAIL: 7, CCLOSE: 8, SCLOSE: 9 };
const tag = (k: number, i: number) => ((k << 24) | i) >>> 0;

interface Req {
  i: number;
  body: Uint8Array;
  trailers: [string, string][];
  state: 'pending' | 'done' | 'failed';
  attempt: number;
  got: Uint8Array[];
  respBody: number;
}

/** One connection as both hosts see it. */
interface Conn {
  id: number;
  client: number;
  server: number;
  state: 'connecting' | 'open' | 'closed';
  /** Requests started while the handshake was under way. */
  waiting: Req[];
}

interface SReq {
  i: number;
  conn: number;
  body: number;
  respond: number;
  got: Uint8Array[];
}

export function simulate(seed: number, override: Partial<SimConfig> = {}, module?: string): SimResult {
  const cfg = { ...configFor(seed), ...override };
  if (override.starts && !override.requests) cfg.requests = override.starts.length;
  if (cfg.starts.length !== cfg.requests)
    cfg.starts = Array.from(
      { length: cfg.requests },
      (_, i) => cfg.starts[i] ?? cfg.starts[cfg.starts.length - 1] ?? START,
    );
  const r = mulberry32(seed);
  const transcript: string[] = [];
  const problems: string[] = [];
  const q = new Queue();
  let seq = 0;
  let now = START;
  const log = (s: string) => transcript.push(`${now} ${s}`);
  const at = (t: number, label: string, run: () => void) => q.push({ at: t, seq: seq++, run, label });
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const wasm = module ? new WebAssembly.Module(readFileSync(module)) : releaseModule();

  // ---- hosts: turns, time, timers ------------------------------------------------------

  const hostNow = (s: Side) => Math.max(0, now + s.offset);
  /** One turn of a host: the event's effects, the time, polls until idle, the timer. */
  const turn = (s: Side, effect: () => void) => {
    if (s.time === 'strict') {
      tellTime(s);
      effect();
    } else {
      effect();
      tellTime(s);
    }
    let t: number;
    for (let guard = 0; (t = s.ex.h2_executor_poll(s.exec)) !== 0; guard++) {
      if (guard > 100_000) throw new Error(`${s.name}: poll never ran dry`);
      onTask(s, t);
    }
    armTimer(s);
  };
  const tellTime = (s: Side) => s.ex.h2_executor_set_time(s.exec, BigInt(hostNow(s)));
  const armTimer = (s: Side) => {
    const gen = ++s.timerGen;
    const deadline = Number(s.ex.h2_executor_next_deadline(s.exec));
    if (deadline < 0) return;
    const late = r() < 0.05 ? Math.floor(r() * 60_000) : Math.floor(r() * cfg.timerLate);
    at(Math.max(now, deadline - s.offset) + late, `timer ${s.name}`, () => {
      if (gen !== s.timerGen) return;
      turn(s, () => log(`timer ${s.name}`));
    });
  };
  /** Schedules an event of host `s`'s own at virtual time `t`. */
  const hostEvent = (s: Side, t: number, label: string, effect: () => void) => at(t, label, () => turn(s, effect));

  // ---- the network ---------------------------------------------------------------------

  // Wakes happen only from the host's event loop, never inside an io callback.
  const wake = (e: End, which: 'readWaker' | 'writeWaker', why: string) => {
    const w = e[which];
    if (!w) return;
    e[which] = 0;
    log(`wake ${e.side.name}${e.conn}.${which === 'readWaker' ? 'r' : 'w'} ${why}`);
    e.side.ex.h2_waker_wake(w);
  };
  const park = (e: End, ctx: number, which: 'readWaker' | 'writeWaker') => {
    if (e[which]) e.side.ex.h2_waker_free(e[which]);
    e[which] = e.side.ex.h2_context_waker(ctx);
  };
  const dropConn = (e: End, why: string) => {
    if (e.broken && e.peer.broken) return;
    log(`drop conn ${e.conn} ${why}`);
    for (const x of [e, e.peer]) {
      x.broken = true;
      x.eof = true;
      hostEvent(x.side, now + Math.floor(r() * cfg.maxDelay), `wake-after-drop ${x.side.name}`, () => {
        wake(x, 'readWaker', 'eof');
        wake(x, 'writeWaker', 'eof');
      });
    }
  };

  /** The host closes its socket once its connection is over: the peer reads EOF after
   *  whatever was already on its way. */
  const closeSocket = (e: End | undefined) => {
    if (!e || e.broken) return;
    e.broken = true;
    const peer = e.peer;
    hostEvent(peer.side, Math.max(e.lastArrival, now + Math.floor(r() * cfg.maxDelay)), `eof ${peer.side.name}`, () => {
      peer.eof = true;
      wake(peer, 'readWaker', 'eof');
      wake(peer, 'writeWaker', 'eof');
    });
  };

  const makeSide = (name: 'c' | 's'): Side => {
    const side: Side = {
      name,
      ex: null as unknown as Ex,
      exec: 0,
      time: cfg.hostTime[name],
      offset: Math.floor(r() * 1e6),
      timerGen: 0,
      ends: new Map(),
    };
    const host = {
      io_read: (ud: number, ctx: number, buf: number, len: number): number => {
        const e = side.ends.get(ud);
        if (!e) return IO_ERROR;
        if (e.inbox.length === 0) {
          if (e.eof) return 0;
          park(e, ctx, 'readWaker');
          return PENDING;
        }
        if (r() < cfg.pPendingRead) {
          park(e, ctx, 'readWaker');
          hostEvent(side, now + 1 + Math.floor(r() * cfg.maxDelay), `spurious-read ${name}`, () =>
            wake(e, 'readWaker', 'spurious'),
          );
          return PENDING;
        }
        const want = Math.max(1, Math.min(len, 1 + Math.floor(r() * (r() < 0.5 ? 64 : 32 * KiB))));
        const mem = new Uint8Array(side.ex.memory.buffer, buf >>> 0, len >>> 0);
        let n = 0;
        while (n < want && e.inbox.length > 0) {
          const c = e.inbox[0];
          const take = Math.min(c.length, want - n);
          mem.set(c.subarray(0, take), n);
          n += take;
          if (take === c.length) e.inbox.shift();
          else e.inbox[0] = c.subarray(take);
        }
        return n;
      },
      io_write: (ud: number, ctx: number, buf: number, len: number): number => {
        const e = side.ends.get(ud);
        if (!e || e.broken) return IO_ERROR;
        if (r() < cfg.pWriteFail) {
          log(`write-fail ${name}${e.conn}`);
          dropConn(e, `after write failure on ${name}`);
          return IO_ERROR;
        }
        if (r() < cfg.pPendingWrite) {
          park(e, ctx, 'writeWaker');
          if (!cfg.loseWakes)
            hostEvent(side, now + 1 + Math.floor(r() * cfg.maxDelay), `writable ${name}`, () =>
              wake(e, 'writeWaker', 'writable'),
            );
          return PENDING;
        }
        const n = Math.max(1, Math.min(len, 1 + Math.floor(r() * (r() < 0.3 ? 100 : 64 * KiB))));
        const bytes = new Uint8Array(side.ex.memory.buffer, buf >>> 0, n).slice();
        // Split into deliveries, each arriving in order after a random delay.
        let off = 0;
        while (off < n) {
          const piece = Math.min(n - off, 1 + Math.floor(r() * 16 * KiB));
          const chunk = bytes.subarray(off, off + piece);
          off += piece;
          const t = Math.max(e.lastArrival, now + Math.floor(r() * cfg.maxDelay));
          e.lastArrival = t;
          const peer = e.peer;
          hostEvent(peer.side, t, `deliver ${name}->${peer.side.name}`, () => {
            if (peer.broken) return;
            if (cfg.corrupt && name === 's' && chunk.length > 1000) {
              cfg.corrupt = false;
              chunk[chunk.length - 1] ^= 0x5a;
              log('corrupted');
            }
            log(`deliver ${name}->${peer.side.name}${e.conn} ${chunk.length}`);
            peer.inbox.push(chunk);
            wake(peer, 'readWaker', 'data');
          });
        }
        if (r() < cfg.pDrop)
          at(now + Math.floor(r() * cfg.maxDelay), 'drop', () => dropConn(e, `mid-stream by ${name}`));
        return n;
      },
      body_read: () => IO_ERROR,
      send_data: () => IO_ERROR,
      headers_foreach: (_u: number, np: number, nl: number, vp: number, vl: number) => {
        foreach.push([dec.decode(bytes(side.ex, np, nl)), dec.decode(bytes(side.ex, vp, vl))]);
        return 0;
      },
      informational: () => {},
    };
    side.ex = new WebAssembly.Instance(wasm, { h2_host: host }).exports as Ex;
    return side;
  };
  let foreach: [string, string][] = [];
  const bytes = (ex: Ex, p: number, n: number) => new Uint8Array(ex.memory.buffer, p >>> 0, n >>> 0).slice();
  const withBytes = <T>(ex: Ex, data: Uint8Array | string, fn: (p: number, n: number) => T): T => {
    const b = typeof data === 'string' ? enc.encode(data) : data;
    const p = ex.h2_alloc(Math.max(1, b.length)) >>> 0;
    new Uint8Array(ex.memory.buffer, p, b.length).set(b);
    try {
      return fn(p, b.length);
    } finally {
      ex.h2_free(p);
    }
  };
  const headersOf = (ex: Ex, h: number) => {
    foreach = [];
    ex.h2_headers_foreach(h, 0);
    return foreach;
  };
  const errText = (ex: Ex, err: number) => {
    const p = ex.h2_alloc(200);
    const n = ex.h2_error_print(err, p, 200);
    const s = dec.decode(bytes(ex, p, n));
    ex.h2_free(p);
    return `code ${ex.h2_error_code(err)} reason ${ex.h2_error_reason(err)}: ${s}`;
  };

  const C = makeSide('c');
  const S = makeSide('s');
  const baseHandles = { c: C.ex.h2_handle_count(), s: S.ex.h2_handle_count() };
  const baseHeap = { c: C.ex.h2_heap_used() >>> 0, s: S.ex.h2_heap_used() >>> 0 };
  C.exec = C.ex.h2_executor_new();
  S.exec = S.ex.h2_executor_new();
  tellTime(C);
  tellTime(S);

  // ---- workload ------------------------------------------------------------------------

  const reqs: Req[] = [];
  for (let i = 0; i < cfg.requests; i++) {
    const trailers: [string, string][] = [];
    const nt = r() < 0.5 ? 0 : 1 + Math.floor(r() * 3);
    for (let k = 0; k < nt; k++) trailers.push([`x-t${k}`, `v${Math.floor(r() * 1e9)}`]);
    reqs.push({ i, body: fill(r, bodySize(r)), trailers, state: 'pending', attempt: 0, got: [], respBody: 0 });
  }
  log(`config ${JSON.stringify(cfg)} sizes ${reqs.map((x) => x.body.length).join(',')}`);

  const live = { c: new Set<number>(), s: new Set<number>() };
  const push = (s: Side, task: number, user: number) => {
    if (!task) throw new Error(`${s.name}: 0 task handle for ${user >>> 24}/${user & 0xffffff}`);
    s.ex.h2_task_set_userdata(task, user);
    live[s.name].add(task);
    const rc = s.ex.h2_executor_push(s.exec, task);
    if (rc !== 0) throw new Error(`${s.name}: push refused ${rc}`);
  };

  const conns: Conn[] = [];
  let current = null as Conn | null; // set by the event closures (TS cannot see it change)
  const sreqs = new Map<number, SReq>();
  let accepted = 0;

  const failReq = (q: Req, why: string) => {
    if (q.state !== 'pending') return;
    q.state = 'failed';
    log(`req ${q.i} failed: ${why}`);
    if (q.respBody) {
      C.ex.h2_body_free(q.respBody);
      q.respBody = 0;
    }
  };

  /** The client opens connection `id`: its io and handshake now, the server accepts after a network delay. */
  const openConn = (): Conn => {
    const conn: Conn = { id: conns.length, client: 0, server: 0, state: 'connecting', waiting: [] };
    conns.push(conn);
    log(`open conn ${conn.id}`);
    const cEnd: End = {
      side: C,
      conn: conn.id,
      inbox: [],
      eof: false,
      broken: false,
      readWaker: 0,
      writeWaker: 0,
      lastArrival: 0,
      peer: null as unknown as End,
    };
    const sEnd: End = {
      side: S,
      conn: conn.id,
      inbox: [],
      eof: false,
      broken: false,
      readWaker: 0,
      writeWaker: 0,
      lastArrival: 0,
      peer: cEnd,
    };
    cEnd.peer = sEnd;
    C.ends.set(conn.id, cEnd);
    S.ends.set(conn.id, sEnd);
    const cio = C.ex.h2_io_new();
    C.ex.h2_io_set_userdata(cio, conn.id);
    const co = C.ex.h2_clientconn_options_new();
    C.ex.h2_clientconn_options_exec(co, C.exec);
    C.ex.h2_clientconn_options_set(co, OPT.IDLE_TIMEOUT_MS, BigInt(cfg.clientIdle));
    if (cfg.keepalive) {
      C.ex.h2_clientconn_options_set(co, OPT.KEEPALIVE_INTERVAL_MS, 3000n);
      C.ex.h2_clientconn_options_set(co, OPT.KEEPALIVE_TIMEOUT_MS, 5000n);
    }
    push(C, C.ex.h2_clientconn_handshake(cio, co), tag(K.HS, conn.id));
    hostEvent(S, now + Math.floor(r() * cfg.maxDelay), `accept ${conn.id}`, () => {
      log(`accept conn ${conn.id}`);
      const sio = S.ex.h2_io_new();
      S.ex.h2_io_set_userdata(sio, conn.id);
      const so = S.ex.h2_serverconn_options_new();
      S.ex.h2_serverconn_options_exec(so, S.exec);
      if (cfg.idleTimeout) S.ex.h2_serverconn_options_set(so, OPT.IDLE_TIMEOUT_MS, 20000n);
      push(S, S.ex.h2_serverconn_handshake(sio, so), tag(K.HS, conn.id));
    });
    return conn;
  };

  /** The application starts (or retries) a request: on the pooled connection, or a new one. */
  const startRequest = (q: Req) => {
    if (q.state !== 'pending') return;
    const usable =
      current &&
      (current.state === 'connecting' ||
        (current.state === 'open' && C.ex.h2_clientconn_is_ready(current.client) === 1));
    if (!usable) current = openConn();
    const conn = current!;
    if (conn.state === 'open') sendRequest(q, conn);
    else conn.waiting.push(q);
  };

  const sendRequest = (q: Req, conn: Conn) => {
    const ex = C.ex;
    log(`send req ${q.i} attempt ${q.attempt} on conn ${conn.id}`);
    const req = ex.h2_request_new();
    withBytes(ex, 'POST', (p, n) => ex.h2_request_set_method(req, p, n));
    withBytes(ex, `http://sim/echo/${q.i}`, (p, n) => ex.h2_request_set_uri(req, p, n));
    const ss = ex.h2_request_send_stream(req);
    push(C, ex.h2_clientconn_send(conn.client, req), tag(K.RESP, (q.attempt << 12) | q.i));
    // The body in random pieces, then trailers or END_STREAM.
    let off = 0;
    let ok = true;
    while (off < q.body.length) {
      const n = Math.min(q.body.length - off, 1 + Math.floor(r() * 64 * KiB));
      const last = off + n === q.body.length && q.trailers.length === 0;
      const rc = withBytes(ex, q.body.subarray(off, off + n), (p, len) =>
        ex.h2_send_stream_send_data(ss, p, len, last ? 1 : 0),
      );
      if (rc !== 0) {
        ok = false;
        log(`req ${q.i} send_data rc ${rc}`);
        break;
      }
      off += n;
    }
    if (ok) {
      if (q.trailers.length > 0) {
        const h = ex.h2_headers_new();
        for (const [k, v] of q.trailers)
          withBytes(ex, k, (np, nl) => withBytes(ex, v, (vp, vl) => ex.h2_headers_add(h, np, nl, vp, vl)));
        const rc = ex.h2_send_stream_send_trailers(ss, h);
        if (rc !== 0) log(`req ${q.i} send_trailers rc ${rc}`);
      } else if (q.body.length === 0) {
        const rc = withBytes(ex, new Uint8Array(0), (p) => ex.h2_send_stream_send_data(ss, p, 0, 1));
        if (rc !== 0) log(`req ${q.i} end rc ${rc}`);
      }
    }
    ex.h2_send_stream_free(ss);
  };

  const serverRespond = (sr: SReq, trailers: number) => {
    const ex = S.ex;
    const resp = ex.h2_response_new();
    const body = concat(sr.got);
    const tr = trailers ? headersOf(ex, trailers) : [];
    if (trailers) ex.h2_headers_free(trailers);
    const endNow = body.length === 0 && tr.length === 0 ? 1 : 0;
    const ss = ex.h2_respond_send_response(sr.respond, resp, endNow);
    ex.h2_respond_free(sr.respond);
    sr.respond = 0;
    if (!ss) {
      log(`srv ${sr.i} send_response -> 0 (${ex.h2_last_result()})`);
      return;
    }
    let off = 0;
    while (off < body.length) {
      const n = Math.min(body.length - off, 1 + Math.floor(r() * 64 * KiB));
      const last = off + n === body.length && tr.length === 0 ? 1 : 0;
      const rc = withBytes(ex, body.subarray(off, off + n), (p, len) => ex.h2_send_stream_send_data(ss, p, len, last));
      if (rc !== 0) {
        log(`srv ${sr.i} send_data rc ${rc}`);
        break;
      }
      off += n;
    }
    if (off === body.length && tr.length > 0) {
      const h = ex.h2_headers_new();
      for (const [k, v] of tr)
        withBytes(ex, k, (np, nl) => withBytes(ex, v, (vp, vl) => ex.h2_headers_add(h, np, nl, vp, vl)));
      ex.h2_send_stream_send_trailers(ss, h);
    }
    ex.h2_send_stream_free(ss);
  };

  /** The connection is over on the client: free it; requests that waited for it start again. */
  const clientConnClosed = (conn: Conn) => {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    if (conn.client) {
      C.ex.h2_clientconn_free(conn.client);
      conn.client = 0;
    }
    closeSocket(C.ends.get(conn.id));
    const waiting = conn.waiting.splice(0);
    for (const q of waiting) retry(q, `conn ${conn.id} closed before its handshake finished`);
  };

  const retry = (q: Req, why: string) => {
    if (q.attempt + 1 >= MAX_ATTEMPTS) {
      failReq(q, `${why}, ${MAX_ATTEMPTS} attempts`);
      return;
    }
    q.attempt++;
    log(`req ${q.i} retried: ${why}`);
    startRequest(q);
  };

  const onTask = (s: Side, t: number) => {
    const ex = s.ex;
    const type = ex.h2_task_type(t);
    const user = ex.h2_task_userdata(t);
    const kind = user >>> 24,
      idx = user & 0xffffff;
    const v = ex.h2_task_value(t);
    ex.h2_task_free(t);
    live[s.name].delete(t);
    const name = Object.keys(K).find((k) => (K as Record<string, number>)[k] === kind);
    let retryable = false;
    if (type === TASK.ERROR) {
      retryable = ex.h2_error_is_retryable(v) === 1;
      const text = errText(ex, v);
      log(`task ${s.name} ${name}#${idx} ERROR ${text}${retryable ? ' (retryable)' : ''}`);
      ex.h2_error_free(v);
      // Without injected faults a connection only ever ends cleanly (idle timeouts, EOF
      // after GOAWAY): a retry hiding a failed connection is still a failed connection.
      if (!cfg.chaos && (kind === K.HS || kind === K.CCLOSE || kind === K.SCLOSE))
        problems.push(`${s.name}: conn ${idx} failed in a fault-free seed: ${text}`);
    } else log(`task ${s.name} ${name}#${idx} type ${type}`);
    const isErr = type === TASK.ERROR;
    if (s === C) {
      const q = reqs[idx & 0xfff];
      const stale = q && kind !== K.HS && kind !== K.CCLOSE && idx >>> 12 !== q.attempt;
      if (stale) {
        problems.push(`req ${q.i}: a task of attempt ${idx >>> 12} came back during attempt ${q.attempt}`);
        return;
      }
      switch (kind) {
        case K.HS: {
          const conn = conns[idx];
          if (isErr || type !== TASK.CLIENTCONN) {
            if (!isErr) problems.push(`client handshake type ${type}`);
            clientConnClosed(conn);
            return;
          }
          conn.client = v;
          conn.state = 'open';
          push(C, C.ex.h2_clientconn_poll_close(conn.client), tag(K.CCLOSE, conn.id));
          for (const w of conn.waiting.splice(0)) sendRequest(w, conn);
          return;
        }
        case K.CCLOSE:
          clientConnClosed(conns[idx]);
          return;
        case K.RESP: {
          if (isErr) {
            if (retryable) retry(q, 'refused unprocessed');
            else failReq(q, 'response error');
            return;
          }
          if (type !== TASK.RESPONSE) {
            problems.push(`req ${q.i}: response task type ${type}`);
            return;
          }
          const st = ex.h2_response_status(v);
          if (st !== 200) problems.push(`req ${q.i}: status ${st}`);
          q.respBody = ex.h2_response_body(v);
          ex.h2_response_free(v);
          push(C, ex.h2_body_data(q.respBody), tag(K.CDATA, idx));
          return;
        }
        case K.CDATA: {
          if (isErr) {
            failReq(q, 'body error');
            return;
          }
          if (type === TASK.BUF) {
            q.got.push(bytes(ex, ex.h2_buf_bytes(v), ex.h2_buf_len(v)));
            ex.h2_buf_free(v);
            push(C, ex.h2_body_data(q.respBody), tag(K.CDATA, idx));
          } else if (type === TASK.EMPTY) {
            push(C, ex.h2_body_trailers(q.respBody), tag(K.CTRAIL, idx));
          } else problems.push(`req ${q.i}: body task type ${type}`);
          return;
        }
        case K.CTRAIL: {
          if (isErr) {
            failReq(q, 'trailers error');
            return;
          }
          const tr = type === TASK.TRAILERS ? headersOf(ex, v) : [];
          if (type === TASK.TRAILERS) ex.h2_headers_free(v);
          else if (type !== TASK.EMPTY) problems.push(`req ${q.i}: trailers task type ${type}`);
          ex.h2_body_free(q.respBody);
          q.respBody = 0;
          const got = concat(q.got);
          if (!eq(got, q.body)) problems.push(`req ${q.i}: wrong bytes (${got.length} vs ${q.body.length})`);
          if (JSON.stringify(tr) !== JSON.stringify(q.trailers))
            problems.push(`req ${q.i}: trailers ${JSON.stringify(tr)} vs ${JSON.stringify(q.trailers)}`);
          if (q.state === 'pending') {
            q.state = 'done';
            log(`req ${q.i} done ${got.length}B`);
          }
          return;
        }
      }
    } else {
      switch (kind) {
        case K.HS: {
          if (isErr) {
            closeSocket(S.ends.get(idx));
            return;
          }
          if (type !== TASK.SERVERCONN) {
            problems.push(`server handshake type ${type}`);
            return;
          }
          conns[idx].server = v;
          push(S, ex.h2_serverconn_poll_close(v), tag(K.SCLOSE, idx));
          push(S, ex.h2_serverconn_accept(v), tag(K.ACCEPT, idx));
          return;
        }
        case K.SCLOSE: {
          const conn = conns[idx];
          if (conn.server) {
            ex.h2_serverconn_free(conn.server);
            conn.server = 0;
          }
          closeSocket(S.ends.get(conn.id));
          return;
        }
        case K.ACCEPT: {
          if (isErr || type === TASK.EMPTY) return;
          if (type !== TASK.REQUEST) {
            problems.push(`accept type ${type}`);
            return;
          }
          const j = accepted++;
          const sr: SReq = { i: j, conn: idx, body: ex.h2_request_body(v), respond: ex.h2_request_respond(v), got: [] };
          ex.h2_request_free(v);
          sreqs.set(j, sr);
          push(S, ex.h2_body_data(sr.body), tag(K.SDATA, j));
          if (conns[idx].server) push(S, ex.h2_serverconn_accept(conns[idx].server), tag(K.ACCEPT, idx));
          return;
        }
        case K.SDATA: {
          const sr = sreqs.get(idx)!;
          if (isErr || (type !== TASK.BUF && type !== TASK.EMPTY)) {
            ex.h2_body_free(sr.body);
            ex.h2_respond_free(sr.respond);
            sreqs.delete(idx);
            return;
          }
          if (type === TASK.BUF) {
            sr.got.push(bytes(ex, ex.h2_buf_bytes(v), ex.h2_buf_len(v)));
            ex.h2_buf_free(v);
            push(S, ex.h2_body_data(sr.body), tag(K.SDATA, idx));
          } else push(S, ex.h2_body_trailers(sr.body), tag(K.STRAIL, idx));
          return;
        }
        case K.STRAIL: {
          const sr = sreqs.get(idx)!;
          ex.h2_body_free(sr.body);
          sreqs.delete(idx);
          if (isErr) {
            ex.h2_respond_free(sr.respond);
            return;
          }
          serverRespond(sr, type === TASK.TRAILERS ? v : 0);
          return;
        }
      }
    }
  };

  // ---- the run -------------------------------------------------------------------------

  for (const q of reqs)
    hostEvent(C, cfg.starts[q.i], `start ${q.i}`, () => {
      log(`start req ${q.i}`);
      startRequest(q);
    });
  // Host clocks: a little backwards in any seed (the executor keeps its last time); in
  // chaos seeds also forward, past the keepalive, idle and SETTINGS timeouts.
  for (const s of [C, S]) {
    at(START + Math.floor(r() * 60_000), `clock-back ${s.name}`, () => {
      const by = Math.floor(r() * 3000);
      log(`clock ${s.name} -${by}`);
      s.offset -= by;
    });
    if (cfg.chaos && r() < 0.5)
      at(START + Math.floor(r() * 60_000), `clock-jump ${s.name}`, () => {
        const by = Math.floor(r() * 40_000);
        log(`clock ${s.name} +${by}`);
        s.offset += by;
      });
  }

  const pending = () => reqs.some((x) => x.state === 'pending');
  const lastStart = Math.max(...cfg.starts);
  const virtualDeadline = lastStart + 600_000;
  while (pending()) {
    const ev = q.pop();
    if (!ev) break;
    if (ev.at > now) now = ev.at;
    if (now > virtualDeadline) break;
    ev.run();
  }
  for (const x of reqs)
    if (x.state === 'pending')
      problems.push(
        `req ${x.i}: neither completed nor failed (hang) at ${now} ms, ${x.got.length} bufs, attempt ${x.attempt}, conn ${current?.id} ${current?.state}`,
      );
  if (!cfg.chaos)
    for (const x of reqs) if (x.state === 'failed') problems.push(`req ${x.i}: failed in a fault-free seed`);

  // Teardown: free what the host owns, then the executors; handles and heap back to baseline.
  for (const x of reqs) if (x.respBody) C.ex.h2_body_free(x.respBody);
  for (const sr of sreqs.values()) {
    S.ex.h2_body_free(sr.body);
    if (sr.respond) S.ex.h2_respond_free(sr.respond);
  }
  for (const s of [C, S])
    for (const e of s.ends.values())
      for (const w of ['readWaker', 'writeWaker'] as const)
        if (e[w]) {
          s.ex.h2_waker_free(e[w]);
          e[w] = 0;
        }
  for (const c of conns) {
    if (c.client) C.ex.h2_clientconn_free(c.client);
    if (c.server) S.ex.h2_serverconn_free(c.server);
  }
  // Drain whatever finished with the connections.
  for (const s of [C, S]) {
    let t: number;
    while ((t = s.ex.h2_executor_poll(s.exec)) !== 0) {
      const v = s.ex.h2_task_type(t) === TASK.ERROR ? s.ex.h2_task_value(t) : 0;
      if (v) s.ex.h2_error_free(v);
      s.ex.h2_task_free(t);
      live[s.name].delete(t);
    }
  }
  // Tasks pushed but never returned (a handshake that never finished): the host cancels them.
  for (const s of [C, S]) {
    for (const t of live[s.name]) s.ex.h2_task_free(t);
    live[s.name].clear();
  }
  C.ex.h2_executor_free(C.exec);
  S.ex.h2_executor_free(S.exec);
  for (const s of [C, S]) {
    const held = Number(s.ex.h2_budget_get(101));
    if (held !== 0) problems.push(`${s.name}: the memory budget still accounts ${held} bytes after teardown`);
    const hc = s.ex.h2_handle_count();
    if (hc !== baseHandles[s.name])
      problems.push(`${s.name}: ${hc} handles after teardown, baseline ${baseHandles[s.name]}`);
    const heap = s.ex.h2_heap_used() >>> 0;
    // Lazily built tables stay (the HPACK Huffman decoding tables, 16 + 256 KiB): baseline + 320 KiB.
    if (heap > baseHeap[s.name] + 320 * KiB)
      problems.push(`${s.name}: heap ${heap} after teardown, baseline ${baseHeap[s.name]}`);
  }
  const completed = reqs.filter((x) => x.state === 'done').length;
  const failed = reqs.filter((x) => x.state === 'failed').length;
  log(`end completed ${completed} failed ${failed} connections ${conns.length} problems ${problems.length}`);
  return { seed, config: cfg, transcript, completed, failed, connections: conns.length, problems, virtualMs: now };
}
