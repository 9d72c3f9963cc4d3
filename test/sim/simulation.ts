// Deterministic simulation: a client instance and a server instance of build/h2wasm.wasm
// over a simulated network, every choice drawn from ONE seeded PRNG (mulberry32). No
// Math.random, no Date.now: time is a virtual clock handed to h2_executor_set_time.
// Injected: random write/read chunk sizes (partial writes), random delivery delays
// (in-order per direction, scheduled in a priority queue), random order in which the
// two executors are polled, H2_IO_PENDING answers from io_read/io_write with the waker
// woken at a random later virtual time, and in "chaos" seeds write failures
// (H2_IO_ERROR), connection drops (EOF mid-stream) and clock jumps past the keepalive
// and idle timeouts. Every run returns a transcript (strings) for determinism checks.
import { releaseModule, PENDING, IO_ERROR, TASK } from '../ffi/mem-host.js';

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

interface Ev { at: number; seq: number; run: () => void; label: string }

/** A binary min-heap on (at, seq): ties keep scheduling order, so runs are reproducible. */
class Queue {
  private h: Ev[] = [];
  get size() { return this.h.length; }
  private less(a: Ev, b: Ev) { return a.at < b.at || (a.at === b.at && a.seq < b.seq); }
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
  peek(): Ev | undefined { return this.h[0]; }
  pop(): Ev | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
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

interface End {
  name: 'c' | 's';
  side: Side;
  inbox: Uint8Array[];
  eof: boolean;
  broken: boolean;
  readWaker: number;
  writeWaker: number;
  /** Virtual time the last chunk written from this end reaches the peer (in order). */
  lastArrival: number;
  peer: End;
}

interface Side { name: 'c' | 's'; ex: Ex; exec: number; end: End }

export interface SimConfig {
  seed: number;
  chaos: boolean;
  requests: number;
  pPendingRead: number;
  pPendingWrite: number;
  pWriteFail: number;
  pDrop: number;
  maxDelay: number;
  keepalive: boolean;
  idleTimeout: boolean;
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
  /** Problems that break the property (wrong bytes, hang, leak, unexpected task). */
  problems: string[];
  virtualMs: number;
}

const VIRTUAL_DEADLINE = 600_000;
const KiB = 1024;
const OPT = { KEEPALIVE_INTERVAL_MS: 110, KEEPALIVE_TIMEOUT_MS: 111, IDLE_TIMEOUT_MS: 113 };

export function configFor(seed: number): SimConfig {
  const r = mulberry32(seed ^ 0x9e3779b9);
  const chaos = r() < 0.5;
  return {
    seed,
    chaos,
    requests: 1 + Math.floor(r() * 4),
    pPendingRead: r() * 0.3,
    pPendingWrite: r() * 0.3,
    pWriteFail: chaos ? r() * 0.01 : 0,
    pDrop: chaos ? r() * 0.002 : 0,
    maxDelay: r() < 0.2 ? 500 : 1 + Math.floor(r() * 40),
    keepalive: r() < 0.4,
    idleTimeout: r() < 0.3,
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
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
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
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// Task userdata: kind << 24 | request index.
const K = { HS: 1, RESP: 2, CDATA: 3, CTRAIL: 4, ACCEPT: 5, SDATA: 6, STRAIL: 7, CCLOSE: 8, SCLOSE: 9 };
const tag = (k: number, i: number) => ((k << 24) | i) >>> 0;

interface Req {
  i: number;
  body: Uint8Array;
  trailers: [string, string][];
  state: 'pending' | 'done' | 'failed';
  got: Uint8Array[];
  respBody: number;
  startDelay: number;
}

interface SReq { i: number; req: number; body: number; respond: number; got: Uint8Array[]; path: string }

export function simulate(seed: number, override: Partial<SimConfig> = {}): SimResult {
  const cfg = { ...configFor(seed), ...override };
  const r = mulberry32(seed);
  const transcript: string[] = [];
  const problems: string[] = [];
  const q = new Queue();
  let seq = 0;
  let now = 1000;
  const log = (s: string) => transcript.push(`${now} ${s}`);
  const at = (t: number, label: string, run: () => void) => q.push({ at: t, seq: seq++, run, label });
  const dec = new TextDecoder();
  const enc = new TextEncoder();

  const sides: Record<'c' | 's', Side> = {} as any;
  // Wakes happen only from the event loop, never inside an io callback.
  const wake = (s: Side, which: 'readWaker' | 'writeWaker', why: string) => {
    const w = s.end[which];
    if (!w) return;
    s.end[which] = 0;
    log(`wake ${s.name}.${which === 'readWaker' ? 'r' : 'w'} ${why}`);
    s.ex.h2_waker_wake(w);
  };
  const park = (s: Side, ctx: number, which: 'readWaker' | 'writeWaker') => {
    if (s.end[which]) s.ex.h2_waker_free(s.end[which]);
    s.end[which] = s.ex.h2_context_waker(ctx);
  };

  const dropConn = (why: string) => {
    const c = sides.c.end, s = sides.s.end;
    if (c.broken && s.broken) return;
    log(`drop ${why}`);
    for (const e of [c, s]) {
      e.broken = true;
      e.eof = true;
    }
    for (const side of [sides.c, sides.s]) {
      at(now + Math.floor(r() * cfg.maxDelay), `wake-after-drop ${side.name}`, () => {
        wake(side, 'readWaker', 'eof');
        wake(side, 'writeWaker', 'eof');
      });
    }
  };

  const makeSide = (name: 'c' | 's'): Side => {
    const side = { name } as Side;
    const host = {
      io_read: (_ud: number, ctx: number, buf: number, len: number): number => {
        const e = side.end;
        if (e.inbox.length === 0) {
          if (e.eof) return 0;
          park(side, ctx, 'readWaker');
          return PENDING;
        }
        if (r() < cfg.pPendingRead) {
          park(side, ctx, 'readWaker');
          at(now + 1 + Math.floor(r() * cfg.maxDelay), `spurious-read ${name}`, () => wake(side, 'readWaker', 'spurious'));
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
          if (take === c.length) e.inbox.shift(); else e.inbox[0] = c.subarray(take);
        }
        return n;
      },
      io_write: (_ud: number, ctx: number, buf: number, len: number): number => {
        const e = side.end;
        if (e.broken) return IO_ERROR;
        if (r() < cfg.pWriteFail) {
          log(`write-fail ${name}`);
          dropConn(`after write failure on ${name}`);
          return IO_ERROR;
        }
        if (r() < cfg.pPendingWrite) {
          park(side, ctx, 'writeWaker');
          if (!cfg.loseWakes) at(now + 1 + Math.floor(r() * cfg.maxDelay), `writable ${name}`, () => wake(side, 'writeWaker', 'writable'));
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
          const peerSide = sides[peer.name];
          at(t, `deliver ${name}->${peer.name}`, () => {
            if (peer.broken) return;
            if (cfg.corrupt && name === 's' && chunk.length > 1000) { cfg.corrupt = false; chunk[chunk.length - 1] ^= 0x5a; log('corrupted'); }
            log(`deliver ${name}->${peer.name} ${chunk.length}`);
            peer.inbox.push(chunk);
            wake(peerSide, 'readWaker', 'data');
          });
        }
        if (r() < cfg.pDrop) at(now + Math.floor(r() * cfg.maxDelay), 'drop', () => dropConn(`mid-stream by ${name}`));
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
    const inst = new WebAssembly.Instance(releaseModule(), { h2_host: host });
    side.ex = inst.exports as Ex;
    return side;
  };
  let foreach: [string, string][] = [];
  const bytes = (ex: Ex, p: number, n: number) => new Uint8Array(ex.memory.buffer, p >>> 0, n >>> 0).slice();
  const withBytes = <T>(ex: Ex, data: Uint8Array | string, fn: (p: number, n: number) => T): T => {
    const b = typeof data === 'string' ? enc.encode(data) : data;
    const p = ex.h2_alloc(Math.max(1, b.length)) >>> 0;
    new Uint8Array(ex.memory.buffer, p, b.length).set(b);
    try { return fn(p, b.length); } finally { ex.h2_free(p); }
  };
  const headersOf = (ex: Ex, h: number) => { foreach = []; ex.h2_headers_foreach(h, 0); return foreach; };
  const errText = (ex: Ex, err: number) => {
    const p = ex.h2_alloc(200);
    const n = ex.h2_error_print(err, p, 200);
    const s = dec.decode(bytes(ex, p, n));
    ex.h2_free(p);
    return `code ${ex.h2_error_code(err)} reason ${ex.h2_error_reason(err)}: ${s}`;
  };

  const C = makeSide('c');
  const S = makeSide('s');
  sides.c = C; sides.s = S;
  const cEnd: End = { name: 'c', side: C, inbox: [], eof: false, broken: false, readWaker: 0, writeWaker: 0, lastArrival: 0, peer: null as any };
  const sEnd: End = { name: 's', side: S, inbox: [], eof: false, broken: false, readWaker: 0, writeWaker: 0, lastArrival: 0, peer: cEnd };
  cEnd.peer = sEnd;
  C.end = cEnd; S.end = sEnd;
  const baseHandles = { c: C.ex.h2_handle_count(), s: S.ex.h2_handle_count() };
  const baseHeap = { c: C.ex.h2_heap_used() >>> 0, s: S.ex.h2_heap_used() >>> 0 };
  C.exec = C.ex.h2_executor_new();
  S.exec = S.ex.h2_executor_new();
  C.ex.h2_executor_set_time(C.exec, BigInt(now));
  S.ex.h2_executor_set_time(S.exec, BigInt(now));

  // Workload.
  const reqs: Req[] = [];
  for (let i = 0; i < cfg.requests; i++) {
    const trailers: [string, string][] = [];
    const nt = r() < 0.5 ? 0 : 1 + Math.floor(r() * 3);
    for (let k = 0; k < nt; k++) trailers.push([`x-t${k}`, `v${Math.floor(r() * 1e9)}`]);
    const late = r() < 0.3 && (cfg.chaos || !cfg.idleTimeout);
    const startDelay = late ? Math.floor(r() * 30_000) : 0;
    reqs.push({ i, body: fill(r, bodySize(r)), trailers, state: 'pending', got: [], respBody: 0, startDelay });
  }
  log(`config ${JSON.stringify(cfg)} sizes ${reqs.map((q) => q.body.length).join(',')}`);

  // Handshake.
  const push = (s: Side, task: number, user: number) => {
    if (!task) throw new Error(`${s.name}: 0 task handle for ${user >>> 24}/${user & 0xffffff}`);
    s.ex.h2_task_set_userdata(task, user);
    live[s.name].add(task);
    const rc = s.ex.h2_executor_push(s.exec, task);
    if (rc !== 0) throw new Error(`${s.name}: push refused ${rc}`);
  };
  const live = { c: new Set<number>(), s: new Set<number>() };
  const [cio, sio] = [C.ex.h2_io_new(), S.ex.h2_io_new()];
  C.ex.h2_io_set_userdata(cio, 1);
  S.ex.h2_io_set_userdata(sio, 2);
  const co = C.ex.h2_clientconn_options_new();
  C.ex.h2_clientconn_options_exec(co, C.exec);
  const so = S.ex.h2_serverconn_options_new();
  S.ex.h2_serverconn_options_exec(so, S.exec);
  if (cfg.keepalive) {
    C.ex.h2_clientconn_options_set(co, OPT.KEEPALIVE_INTERVAL_MS, 3000n);
    C.ex.h2_clientconn_options_set(co, OPT.KEEPALIVE_TIMEOUT_MS, 5000n);
  }
  if (cfg.idleTimeout) S.ex.h2_serverconn_options_set(so, OPT.IDLE_TIMEOUT_MS, 20000n);
  push(C, C.ex.h2_clientconn_handshake(cio, co), tag(K.HS, 0));
  push(S, S.ex.h2_serverconn_handshake(sio, so), tag(K.HS, 0));

  let client = 0;
  let server = 0;
  const sreqs = new Map<number, SReq>();
  let accepted = 0;
  let connDead = false;

  const failReq = (i: number, why: string) => {
    const q = reqs[i];
    if (q.state !== 'pending') return;
    q.state = 'failed';
    log(`req ${i} failed: ${why}`);
    if (q.respBody) { C.ex.h2_body_free(q.respBody); q.respBody = 0; }
  };
  const failAll = (why: string) => { for (const q of reqs) failReq(q.i, why); };

  const sendRequest = (q: Req) => {
    const ex = C.ex;
    const req = ex.h2_request_new();
    withBytes(ex, 'POST', (p, n) => ex.h2_request_set_method(req, p, n));
    withBytes(ex, `http://sim/echo/${q.i}`, (p, n) => ex.h2_request_set_uri(req, p, n));
    const ss = ex.h2_request_send_stream(req);
    push(C, ex.h2_clientconn_send(client, req), tag(K.RESP, q.i));
    // The body in random pieces, then trailers or END_STREAM.
    let off = 0;
    let ok = true;
    while (off < q.body.length) {
      const n = Math.min(q.body.length - off, 1 + Math.floor(r() * 64 * KiB));
      const last = off + n === q.body.length && q.trailers.length === 0;
      const rc = withBytes(ex, q.body.subarray(off, off + n), (p, len) => ex.h2_send_stream_send_data(ss, p, len, last ? 1 : 0));
      if (rc !== 0) { ok = false; log(`req ${q.i} send_data rc ${rc}`); break; }
      off += n;
    }
    if (ok) {
      if (q.trailers.length > 0) {
        const h = ex.h2_headers_new();
        for (const [k, v] of q.trailers) withBytes(ex, k, (np, nl) => withBytes(ex, v, (vp, vl) => ex.h2_headers_add(h, np, nl, vp, vl)));
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
    if (!ss) { log(`srv ${sr.i} send_response -> 0 (${ex.h2_last_result()})`); return; }
    let off = 0;
    while (off < body.length) {
      const n = Math.min(body.length - off, 1 + Math.floor(r() * 64 * KiB));
      const last = off + n === body.length && tr.length === 0 ? 1 : 0;
      const rc = withBytes(ex, body.subarray(off, off + n), (p, len) => ex.h2_send_stream_send_data(ss, p, len, last));
      if (rc !== 0) { log(`srv ${sr.i} send_data rc ${rc}`); break; }
      off += n;
    }
    if (off === body.length && tr.length > 0) {
      const h = ex.h2_headers_new();
      for (const [k, v] of tr) withBytes(ex, k, (np, nl) => withBytes(ex, v, (vp, vl) => ex.h2_headers_add(h, np, nl, vp, vl)));
      ex.h2_send_stream_send_trailers(ss, h);
    }
    ex.h2_send_stream_free(ss);
  };

  const onTask = (s: Side, t: number) => {
    const ex = s.ex;
    const type = ex.h2_task_type(t);
    const user = ex.h2_task_userdata(t);
    const kind = user >>> 24, i = user & 0xffffff;
    const v = ex.h2_task_value(t);
    ex.h2_task_free(t);
    live[s.name].delete(t);
    const name = Object.keys(K).find((k) => (K as any)[k] === kind);
    if (type === TASK.ERROR) {
      log(`task ${s.name} ${name}#${i} ERROR ${errText(ex, v)}`);
      ex.h2_error_free(v);
    } else log(`task ${s.name} ${name}#${i} type ${type}`);
    const isErr = type === TASK.ERROR;
    if (s === C) {
      switch (kind) {
        case K.HS:
          if (isErr) { connDead = true; failAll('handshake failed'); return; }
          if (type !== TASK.CLIENTCONN) { problems.push(`client handshake type ${type}`); return; }
          client = v;
          push(C, C.ex.h2_clientconn_poll_close(client), tag(K.CCLOSE, 0));
          for (const q of reqs) {
            // Some requests start later (think time), so keepalive and idle timers fire in between.
            const wait = q.startDelay;
            if (wait === 0) sendRequest(q);
            else at(now + wait, `start ${q.i}`, () => {
              if (q.state !== 'pending') return;
              log(`start ${q.i}`);
              sendRequest(q);
            });
          }
          return;
        case K.CCLOSE:
          connDead = true;
          return;
        case K.RESP: {
          const q = reqs[i];
          if (isErr) { failReq(i, 'response error'); return; }
          if (type !== TASK.RESPONSE) { problems.push(`req ${i}: response task type ${type}`); return; }
          const st = ex.h2_response_status(v);
          if (st !== 200) problems.push(`req ${i}: status ${st}`);
          q.respBody = ex.h2_response_body(v);
          ex.h2_response_free(v);
          push(C, ex.h2_body_data(q.respBody), tag(K.CDATA, i));
          return;
        }
        case K.CDATA: {
          const q = reqs[i];
          if (isErr) { failReq(i, 'body error'); return; }
          if (type === TASK.BUF) {
            const p = ex.h2_buf_bytes(v);
            q.got.push(bytes(ex, p, ex.h2_buf_len(v)));
            ex.h2_buf_free(v);
            push(C, ex.h2_body_data(q.respBody), tag(K.CDATA, i));
          } else if (type === TASK.EMPTY) {
            push(C, ex.h2_body_trailers(q.respBody), tag(K.CTRAIL, i));
          } else problems.push(`req ${i}: body task type ${type}`);
          return;
        }
        case K.CTRAIL: {
          const q = reqs[i];
          if (isErr) { failReq(i, 'trailers error'); return; }
          const tr = type === TASK.TRAILERS ? headersOf(ex, v) : [];
          if (type === TASK.TRAILERS) ex.h2_headers_free(v);
          else if (type !== TASK.EMPTY) problems.push(`req ${i}: trailers task type ${type}`);
          ex.h2_body_free(q.respBody);
          q.respBody = 0;
          const got = concat(q.got);
          if (!eq(got, q.body)) problems.push(`req ${i}: wrong bytes (${got.length} vs ${q.body.length})`);
          if (JSON.stringify(tr) !== JSON.stringify(q.trailers)) problems.push(`req ${i}: trailers ${JSON.stringify(tr)} vs ${JSON.stringify(q.trailers)}`);
          if (q.state === 'pending') { q.state = 'done'; log(`req ${i} done ${got.length}B`); }
          return;
        }
      }
    } else {
      switch (kind) {
        case K.HS:
          if (isErr) return;
          if (type !== TASK.SERVERCONN) { problems.push(`server handshake type ${type}`); return; }
          server = v;
          push(S, ex.h2_serverconn_poll_close(server), tag(K.SCLOSE, 0));
          push(S, ex.h2_serverconn_accept(server), tag(K.ACCEPT, 0));
          return;
        case K.SCLOSE:
          return;
        case K.ACCEPT: {
          if (isErr || type === TASK.EMPTY) return;
          if (type !== TASK.REQUEST) { problems.push(`accept type ${type}`); return; }
          const j = accepted++;
          const sr: SReq = { i: j, req: v, body: ex.h2_request_body(v), respond: ex.h2_request_respond(v), got: [], path: '' };
          ex.h2_request_free(v);
          sreqs.set(j, sr);
          push(S, ex.h2_body_data(sr.body), tag(K.SDATA, j));
          push(S, ex.h2_serverconn_accept(server), tag(K.ACCEPT, 0));
          return;
        }
        case K.SDATA: {
          const sr = sreqs.get(i)!;
          if (isErr || (type !== TASK.BUF && type !== TASK.EMPTY)) { ex.h2_body_free(sr.body); ex.h2_respond_free(sr.respond); sreqs.delete(i); return; }
          if (type === TASK.BUF) {
            sr.got.push(bytes(ex, ex.h2_buf_bytes(v), ex.h2_buf_len(v)));
            ex.h2_buf_free(v);
            push(S, ex.h2_body_data(sr.body), tag(K.SDATA, i));
          } else push(S, ex.h2_body_trailers(sr.body), tag(K.STRAIL, i));
          return;
        }
        case K.STRAIL: {
          const sr = sreqs.get(i)!;
          ex.h2_body_free(sr.body);
          sreqs.delete(i);
          if (isErr) { ex.h2_respond_free(sr.respond); return; }
          serverRespond(sr, type === TASK.TRAILERS ? v : 0);
          return;
        }
      }
    }
  };

  const pollAll = () => {
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error('pollAll: no quiescence');
      let any = false;
      const order = r() < 0.5 ? [C, S] : [S, C];
      for (const s of order) {
        let t: number;
        while ((t = s.ex.h2_executor_poll(s.exec)) !== 0) { any = true; onTask(s, t); }
      }
      if (!any) return;
    }
  };

  const setTime = () => {
    C.ex.h2_executor_set_time(C.exec, BigInt(now));
    S.ex.h2_executor_set_time(S.exec, BigInt(now));
  };

  const pending = () => reqs.some((q) => q.state === 'pending');
  // Chaos seeds: a few host clock jumps past the keepalive / idle / settings timeouts.
  if (cfg.chaos) {
    const jumps = Math.floor(r() * 3);
    for (let k = 0; k < jumps; k++) {
      const when = now + Math.floor(r() * 2000);
      const by = Math.floor(r() * 40_000);
      at(when, 'jump', () => { log(`jump +${by}`); now += by; });
    }
  }

  pollAll();
  while (pending()) {
    const dl = [C, S].map((s) => Number(s.ex.h2_executor_next_deadline(s.exec))).filter((d) => d >= 0);
    const top = q.peek();
    const nextDl = dl.length ? Math.min(...dl) : Infinity;
    if (!top && nextDl === Infinity) break;
    if (top && top.at <= nextDl) {
      q.pop();
      if (top.at > now) now = top.at;
      setTime();
      top.run();
      setTime();
    } else {
      if (nextDl > now) now = nextDl;
      log(`timer`);
      setTime();
    }
    if (now > VIRTUAL_DEADLINE + 1000) break;
    pollAll();
  }
  for (const q of reqs) if (q.state === 'pending') problems.push(`req ${q.i}: neither completed nor failed (hang) at ${now} ms, queue ${q.got.length} bufs, connDead ${connDead}`);
  if (!cfg.chaos) for (const q of reqs) if (q.state === 'failed') problems.push(`req ${q.i}: failed in a fault-free seed`);

  // Teardown: free what the host owns, then the executors; handles and heap back to baseline.
  for (const q of reqs) if (q.respBody) C.ex.h2_body_free(q.respBody);
  for (const sr of sreqs.values()) { S.ex.h2_body_free(sr.body); if (sr.respond) S.ex.h2_respond_free(sr.respond); }
  for (const s of [C, S]) {
    for (const w of ['readWaker', 'writeWaker'] as const) if (s.end[w]) { s.ex.h2_waker_free(s.end[w]); s.end[w] = 0; }
  }
  if (client) C.ex.h2_clientconn_free(client);
  if (server) S.ex.h2_serverconn_free(server);
  // Drain whatever finished with the connections.
  for (const s of [C, S]) { let t: number; while ((t = s.ex.h2_executor_poll(s.exec)) !== 0) { const v = s.ex.h2_task_type(t) === TASK.ERROR ? s.ex.h2_task_value(t) : 0; if (v) s.ex.h2_error_free(v); s.ex.h2_task_free(t); live[s.name].delete(t); } }
  // Tasks pushed but never returned (a handshake that never finished): the host cancels them.
  for (const s of [C, S]) { for (const t of live[s.name]) s.ex.h2_task_free(t); live[s.name].clear(); }
  C.ex.h2_executor_free(C.exec);
  S.ex.h2_executor_free(S.exec);
  for (const s of [C, S]) {
    const hc = s.ex.h2_handle_count();
    if (hc !== baseHandles[s.name]) problems.push(`${s.name}: ${hc} handles after teardown, baseline ${baseHandles[s.name]}`);
    const heap = s.ex.h2_heap_used() >>> 0;
    // Lazily built tables stay (the 256 KiB HPACK Huffman decoding table): baseline + 320 KiB.
    if (heap > baseHeap[s.name] + 320 * KiB) problems.push(`${s.name}: heap ${heap} after teardown, baseline ${baseHeap[s.name]}`);
  }
  const completed = reqs.filter((q) => q.state === 'done').length;
  const failed = reqs.filter((q) => q.state === 'failed').length;
  log(`end completed ${completed} failed ${failed} problems ${problems.length}`);
  return { seed, config: cfg, transcript, completed, failed, problems, virtualMs: now };
}
