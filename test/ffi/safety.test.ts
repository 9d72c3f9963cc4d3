// Safety, as a test over every export (docs/architecture.md, rules of the house): a zero, stale, freed, wrong-kind or
// random handle, and an out-of-range pointer or length, give the function's error value
// and never a trap; double free is harmless; the instance keeps working afterwards.
//
// The exports are enumerated from the release binary (readSignatures), so a new export is
// covered without touching this file; include/h2wasm.h says what each parameter is (a
// handle of which kind, a pointer, a length, a value) and which error value it returns.
// The host's imports answer H2_IO_ERROR for any io they do not know (mem-host.ts); only
// the fixtures' own connections run over an in-memory duplex.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { readSignatures, type FuncSig } from '../support/wasm-signatures.js';
import { MemHost, connectPair, pump, pushTask, wire, TASK, WASM_PATH, stillWorks, type Ex } from './mem-host.js';

const INVALID_ARG = 2;
/** The random phases' seed and length: H2_SAFETY_SEED=n H2_SAFETY_SCALE=k for a longer hunt. */
const SEED = Number(process.env.H2_SAFETY_SEED ?? 0);
const SCALE = Number(process.env.H2_SAFETY_SCALE ?? 1);
const U32_ABSENT = 0xffffffff;

// ---- What each export is, from the binary and the header ----------------------------------

type Kind =
  | 'ENC'
  | 'DEC'
  | 'IO'
  | 'CTX'
  | 'WAKER'
  | 'EXEC'
  | 'TASK'
  | 'ERROR'
  | 'COPTS'
  | 'CCONN'
  | 'SOPTS'
  | 'SCONN'
  | 'REQ'
  | 'RESP'
  | 'RESPOND'
  | 'HDRS'
  | 'BODY'
  | 'BUF'
  | 'SEND';
const KIND_OF_TYPE: Record<string, Kind> = {
  h2_hpack_encoder: 'ENC',
  h2_hpack_decoder: 'DEC',
  h2_io: 'IO',
  h2_context: 'CTX',
  h2_waker: 'WAKER',
  h2_executor: 'EXEC',
  h2_task: 'TASK',
  h2_error: 'ERROR',
  h2_clientconn_options: 'COPTS',
  h2_clientconn: 'CCONN',
  h2_serverconn_options: 'SOPTS',
  h2_serverconn: 'SCONN',
  h2_request: 'REQ',
  h2_response: 'RESP',
  h2_respond: 'RESPOND',
  h2_headers: 'HDRS',
  h2_body: 'BODY',
  h2_buf: 'BUF',
  h2_send_stream: 'SEND',
};
const KINDS = Object.values(KIND_OF_TYPE);

type Param =
  | { role: 'handle'; kind: Kind; name: string }
  | { role: 'ptr' | 'len' | 'u32'; name: string }
  | { role: 'i64'; name: string };
type Expect =
  { kind: 'code' } | { kind: 'handle' } | { kind: 'u32'; absent: number } | { kind: 'i64' } | { kind: 'void' };
interface Fn {
  name: string;
  params: Param[];
  ret: Expect;
  sig: FuncSig;
  declared: boolean;
}

const BYTES = readFileSync(WASM_PATH);
const SIGS = readSignatures(BYTES);
const HEADER = readFileSync(join(ROOT, 'include', 'h2wasm.h'), 'utf8');

function parseHeader(): Map<string, { ret: string; params: [string, string][]; doc: string }> {
  const out = new Map<string, { ret: string; params: [string, string][]; doc: string }>();
  const re = /H2_EXPORT\s+(\w+)\s+(\w+)\(([^)]*)\);/g;
  let prevEnd = 0;
  for (let m; (m = re.exec(HEADER));) {
    const doc = HEADER.slice(prevEnd, m.index);
    prevEnd = m.index + m[0].length;
    const params =
      m[3].trim() === 'void'
        ? []
        : m[3].split(',').map((p) => {
            const parts = p.trim().split(/\s+/);
            return [parts[0], parts[1]] as [string, string];
          });
    out.set(m[2], { ret: m[1], params, doc });
  }
  return out;
}

function describeExports(): Fn[] {
  const decl = parseHeader();
  const fns: Fn[] = [];
  for (const [name, sig] of SIGS.exports) {
    const d = decl.get(name);
    if (!d) {
      // Not in the header (the header test fails for it): still called, only for traps.
      fns.push({
        name,
        sig,
        declared: false,
        ret: { kind: 'void' },
        params: sig.params.map((t, i) => ({ role: t === 'i64' ? 'i64' : 'u32', name: `p${i}` }) as Param),
      });
      continue;
    }
    const params: Param[] = d.params.map(([type, pname], i) => {
      if (KIND_OF_TYPE[type]) return { role: 'handle', kind: KIND_OF_TYPE[type], name: pname };
      if (type === 'h2_ptr') return { role: 'ptr', name: pname };
      if (type === 'uint64_t' || type === 'int64_t') return { role: 'i64', name: pname };
      if (i > 0 && d.params[i - 1][0] === 'h2_ptr') return { role: 'len', name: pname };
      return { role: 'u32', name: pname };
    });
    let ret: Expect;
    if (d.ret === 'void') ret = { kind: 'void' };
    else if (d.ret === 'h2_code') ret = { kind: 'code' };
    else if (KIND_OF_TYPE[d.ret] || d.ret === 'h2_ptr') ret = { kind: 'handle' };
    else if (d.ret === 'int64_t') ret = { kind: 'i64' };
    else ret = { kind: 'u32', absent: /0xFFFFFFFF when absent/.test(d.doc) ? U32_ABSENT : 0 };
    fns.push({ name, sig, declared: true, params, ret });
  }
  return fns;
}

const FNS = describeExports();
const hasHandle = (f: Fn) => f.params.some((p) => p.role === 'handle');

/** The error value `f` answers for a bad handle or range. */
function errorValue(f: Fn): number | bigint | undefined {
  switch (f.ret.kind) {
    case 'code':
      return INVALID_ARG;
    case 'handle':
      return 0;
    case 'u32':
      return f.ret.absent;
    case 'i64':
      return -1n;
    default:
      return undefined;
  }
}

// ---- Calling, with traps caught and recorded ------------------------------------------------

type Arg = number | bigint;

/** One instance under test; a trap is recorded and the instance replaced, so one trap does not hide the next. */
class Harness {
  host!: MemHost;
  failures: string[] = [];
  calls = 0;
  private onReset: (() => void) | null = null;
  constructor() {
    this.reset();
  }
  get ex(): Ex {
    return this.host.ex;
  }

  reset(): void {
    this.host = new MemHost();
    this.onReset?.();
  }
  afterReset(fn: () => void): void {
    this.onReset = fn;
  }

  /** Calls export `f` with `args` (numbers; i64 params as bigint). Returns the result, or 'trap'. */
  call(f: Fn, args: Arg[], label: string): unknown {
    this.calls++;
    const a = args.map((v, i) => (f.sig.params[i] === 'i64' ? BigInt.asIntN(64, BigInt(v)) : Number(v) | 0));
    recent.push(`${f.name}(${a.map(fmt).join(', ')})`);
    if (recent.length > 30) recent.shift();
    try {
      let r = this.ex[f.name](...a);
      if (typeof r === 'number' && f.sig.results[0] === 'i32') r = r >>> 0;
      return r;
    } catch (e) {
      const what = e instanceof WebAssembly.RuntimeError ? 'trapped' : 'threw';
      this.failures.push(`${label}: ${f.name}(${a.map(fmt).join(', ')}) ${what}: ${(e as Error).message}`);
      this.reset();
      return 'trap';
    }
  }

  /** Calls and checks the result against `want` (undefined: any result but a trap). */
  check(f: Fn, args: Arg[], want: unknown, label: string): void {
    const r = this.call(f, args, label);
    if (r === 'trap' || want === undefined) return;
    if (r !== want)
      this.failures.push(
        `${label}: ${f.name}(${args.map(fmt).join(', ')}) returned ${fmt(r as Arg)}, want ${fmt(want as Arg)}`,
      );
  }
}
const fmt = (v: Arg) => (typeof v === 'bigint' ? `${v}n` : `0x${(Number(v) >>> 0).toString(16)}`);

/** A deterministic PRNG (mulberry32). */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32: next,
    i64: () => BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next())),
    below: (n: number) => next() % n,
  };
}

// ---- Fixtures: a live object of every kind -------------------------------------------------

interface World {
  h: MemHost;
  exec: number;
  live: Record<Kind, number>;
  extra: [Kind, number][];
  ends: number[];
  clientBody: number;
  serverSend: number;
}

/**
 * Builds a live handle of every kind on `h`: a client and a server connection over an
 * in-memory duplex with two requests in flight (one answered, one not), their send
 * streams, bodies, respond handles and a pending task, plus the standalone objects.
 */
function buildWorld(h: MemHost): World {
  recent.length = 0;
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec);
  const newReq = (path: string) => {
    const r = ex.h2_request_new();
    h.with('POST', (p, n) => ex.h2_request_set_method(r, p, n));
    h.with(`http://fixture${path}`, (p, n) => ex.h2_request_set_uri(r, p, n));
    return r;
  };
  // Request 1: left unanswered. Request 2: answered with a head, body still open both ways.
  const req1 = newReq('/one');
  const send1 = ex.h2_request_send_stream(req1);
  const respTask1 = ex.h2_clientconn_send(pair.client, req1);
  pushTask(h, exec, respTask1, 11);
  const req2 = newReq('/two');
  const send2 = ex.h2_request_send_stream(req2);
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req2), 12);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), 21);
  const received: number[] = [];
  let resp2 = 0;
  const onTask = (_h: MemHost, t: number, type: number, user: number) => {
    if (user === 21 && type === TASK.REQUEST) {
      received.push(ex.h2_task_value(t));
      ex.h2_task_free(t);
      if (received.length < 2) pushTask(h, exec, ex.h2_serverconn_accept(pair.server), 21);
    } else if (user === 12 && type === TASK.RESPONSE) {
      resp2 = ex.h2_task_value(t);
      ex.h2_task_free(t);
    } else {
      throw new Error(`buildWorld: task ${user} type ${type}`);
    }
  };
  pump([[h, exec]], onTask);
  if (received.length !== 2) throw new Error('buildWorld: requests did not arrive');
  const [sreq1, sreq2] = received;
  const respond1 = ex.h2_request_respond(sreq1);
  const sbody1 = ex.h2_request_body(sreq1);
  const respond2 = ex.h2_request_respond(sreq2);
  const r = ex.h2_response_new();
  const ssend2 = ex.h2_respond_send_response(respond2, r, 0);
  pump([[h, exec]], onTask);
  if (!resp2) throw new Error('buildWorld: no response');
  const cbody2 = ex.h2_response_body(resp2);
  // A context and a waker of a live connection.
  const ctx = h.lastCtx;
  const waker = ex.h2_context_waker(ctx);
  // An error: a handshake whose options have no executor fails at once.
  const [io0] = h.io();
  const errTask = ex.h2_clientconn_handshake(io0, ex.h2_clientconn_options_new());
  const err = ex.h2_task_value(errTask);
  ex.h2_task_free(errTask);
  const [io] = h.io();
  const live: Record<Kind, number> = {
    ENC: ex.h2_hpack_encoder_new(),
    DEC: ex.h2_hpack_decoder_new(),
    IO: io,
    CTX: ctx,
    WAKER: waker,
    EXEC: exec,
    TASK: respTask1,
    ERROR: err,
    COPTS: ex.h2_clientconn_options_new(),
    CCONN: pair.client,
    SOPTS: ex.h2_serverconn_options_new(),
    SCONN: pair.server,
    REQ: sreq1,
    RESP: resp2,
    RESPOND: respond1,
    HDRS: ex.h2_headers_new(),
    BODY: sbody1,
    BUF: h.with('buf', (p, n) => ex.h2_buf_copy(p, n)),
    SEND: send1,
  };
  for (const k of KINDS) if (!live[k]) throw new Error(`buildWorld: no ${k}`);
  const extra: [Kind, number][] = [
    ['REQ', newReq('/fresh')],
    ['REQ', sreq2],
    ['RESP', ex.h2_response_new()],
    ['BODY', ex.h2_body_new()],
    ['BODY', cbody2],
    ['SEND', send2],
    ['SEND', ssend2],
    ['RESPOND', respond2],
    ['HDRS', ex.h2_request_headers(sreq1)],
    ['HDRS', ex.h2_response_headers(resp2)],
    ['TASK', ex.h2_serverconn_accept(pair.server)],
  ];
  for (const [k, v] of extra) if (!v) throw new Error(`buildWorld: no extra ${k}`);
  return { h, exec, live, extra, ends: [pair.cud, pair.sud], clientBody: cbody2, serverSend: ssend2 };
}

/** Every handle of the world, with its kind. */
const allHandles = (w: World): [Kind, number][] => [...(Object.entries(w.live) as [Kind, number][]), ...w.extra];

/** The free function of each kind, leaves first, the executor last. */
const FREE_OF: [Kind, string][] = [
  ['WAKER', 'h2_waker_free'],
  ['BUF', 'h2_buf_free'],
  ['ERROR', 'h2_error_free'],
  ['HDRS', 'h2_headers_free'],
  ['BODY', 'h2_body_free'],
  ['SEND', 'h2_send_stream_free'],
  ['RESPOND', 'h2_respond_free'],
  ['RESP', 'h2_response_free'],
  ['REQ', 'h2_request_free'],
  ['TASK', 'h2_task_free'],
  ['ENC', 'h2_hpack_encoder_free'],
  ['DEC', 'h2_hpack_decoder_free'],
  ['IO', 'h2_io_free'],
  ['COPTS', 'h2_clientconn_options_free'],
  ['SOPTS', 'h2_serverconn_options_free'],
  ['CCONN', 'h2_clientconn_free'],
  ['SCONN', 'h2_serverconn_free'],
  ['EXEC', 'h2_executor_free'],
];

/** Frees everything the world holds (whatever is still live), closes its duplex, drops its tasks. */
function destroyWorld(w: World): void {
  const ex = w.h.ex;
  const handles = allHandles(w);
  for (const [kind, fn] of FREE_OF) {
    if (kind === 'EXEC') {
      for (const ud of w.ends) w.h.close(ud);
      pump([[w.h, w.exec]], (_h, t) => ex.h2_task_free(t));
    }
    for (const [k, v] of handles) {
      if (k !== kind) continue;
      try {
        ex[fn](v);
      } catch (e) {
        throw new Error(
          `destroyWorld: ${fn}(${fmt(v)}) ${(e as Error).message}${recent.length ? `; the calls before: ${recent.join('; ')}` : ''}`,
          { cause: e },
        );
      }
    }
  }
}
/** The calls made since the last world was built (for a trap that surfaces later). */
const recent: string[] = [];

// ---- The instance still works ----------------------------------------------------------------

/** A well-formed field list (name_len, value_len, flags, name, value)*. */
const FIELD_LIST = (() => {
  const parts: Buffer[] = [];
  for (const [n, v, fl] of [
    ['x-one', 'first value', 0],
    ['authorization', 'secret', 1],
    ['x-two', '', 2],
  ] as [string, string, number][]) {
    const head = Buffer.alloc(12);
    head.writeUInt32LE(n.length, 0);
    head.writeUInt32LE(v.length, 4);
    head.writeUInt32LE(fl, 8);
    parts.push(head, Buffer.from(n), Buffer.from(v));
  }
  return new Uint8Array(Buffer.concat(parts));
})();

/** Out-of-range (ptr, len) pairs for an instance whose memory is `memBytes` long. */
function badRanges(memBytes: number, scratch: number): [number, number, string][] {
  return [
    [0xfffffff0, 16, 'ptr near 2^32'],
    [0xfffffff0, 0, 'ptr near 2^32, len 0'],
    [memBytes + 16, 0, 'ptr past the end, len 0'],
    [scratch, 0xffffffff, 'len 0xffffffff'],
    [0xffffffff, 2, 'ptr+len overflows u32'],
    [0x80000000, 0x80000001, 'ptr+len overflows u32 (halves)'],
    [memBytes - 8, 16, 'inside memory, len past the end'],
    [0, 8, 'null ptr with a length'],
  ];
}

/** Arguments: zero everywhere, except what `fill` says (by parameter index). */
function argsFor(f: Fn, fill: (p: Param, i: number) => Arg | undefined = () => undefined): Arg[] {
  return f.params.map((p, i) => fill(p, i) ?? (p.role === 'i64' ? 0n : 0));
}

describe('safety over every export (release module)', () => {
  it('reads every export and its parameters from the binary and the header', () => {
    expect(FNS.length).toBeGreaterThan(100);
    expect(FNS.filter((f) => !f.declared).map((f) => f.name)).toEqual([]);
    for (const f of FNS) expect(f.params.length, f.name).toBe(f.sig.params.length);
    // Every kind of handle appears somewhere as a parameter.
    const kinds = new Set(FNS.flatMap((f) => f.params.flatMap((p) => (p.role === 'handle' ? [p.kind] : []))));
    expect([...kinds].sort()).toEqual([...KINDS].sort());
  });

  it('(a) all-zero arguments: the error value, never a trap', () => {
    const hs = new Harness();
    for (const f of FNS) {
      const r = hs.call(f, argsFor(f), 'zero');
      if (r === 'trap' || !hasHandle(f)) continue; // no handle: only "no trap" holds
      if (r !== errorValue(f))
        hs.failures.push(`zero: ${f.name} returned ${fmt(r as Arg)}, want ${fmt(errorValue(f) as Arg)}`);
    }
    expect(hs.failures).toEqual([]);
    stillWorks(hs.host);
  });

  it('(b) stale handles (made, freed, slots reused) and (d) wrong-kind handles: the error value', () => {
    const hs = new Harness();
    let w = buildWorld(hs.host);
    hs.afterReset(() => {
      w = buildWorld(hs.host);
    });
    const stale = allHandles(w);
    destroyWorld(w);
    w = buildWorld(hs.host); // the freed slots are reused with new generations
    for (const f of FNS) {
      f.params.forEach((p, i) => {
        if (p.role !== 'handle') return;
        for (const [k, v] of stale) {
          if (k === p.kind)
            hs.check(
              f,
              argsFor(f, (_q, j) => (j === i ? v : undefined)),
              errorValue(f),
              `stale ${k} as ${p.name}`,
            );
        }
        for (const k of KINDS) {
          if (k === p.kind) continue;
          hs.check(
            f,
            argsFor(f, (_q, j) => (j === i ? w.live[k] : undefined)),
            errorValue(f),
            `wrong kind ${k} as ${p.name}`,
          );
        }
      });
    }
    expect(hs.failures).toEqual([]);
    destroyWorld(w);
    stillWorks(hs.host);
  });

  it('(c) double free is harmless: every *_free answers H2E_INVALID_ARG the second time', () => {
    const hs = new Harness();
    const w = buildWorld(hs.host);
    const ex = hs.ex;
    const frees = FNS.filter((f) => f.name.endsWith('_free'));
    const known = new Map(FREE_OF.map(([k, fn]) => [fn, k]));
    // Every free function is covered, whichever kind it frees.
    expect(frees.map((f) => f.name).filter((n) => n !== 'h2_free' && !known.has(n))).toEqual([]);
    for (const [kind, fn] of FREE_OF) {
      if (kind === 'EXEC') for (const ud of w.ends) w.h.close(ud);
      for (const [k, v] of allHandles(w)) {
        if (k !== kind) continue;
        // Borrowed headers belong to their message; anything else is freed once with OK.
        const isBorrowed = w.extra.some(([ek, ev]) => ek === 'HDRS' && ev === v);
        const first = ex[fn](v) >>> 0;
        if (!isBorrowed) expect(first, `${fn}(${k}) first`).toBe(0);
        expect(ex[fn](v) >>> 0, `${fn}(${k}) second`).toBe(INVALID_ARG);
        expect(ex[fn](v) >>> 0, `${fn}(${k}) third`).toBe(INVALID_ARG);
      }
    }
    const p = ex.h2_alloc(32);
    expect(ex.h2_free(p)).toBe(0);
    expect(ex.h2_free(p)).toBe(INVALID_ARG);
    // The executor is gone: polling it answers 0; the tasks it held are freed with it or stale.
    expect(ex.h2_executor_poll(w.exec)).toBe(0);
    stillWorks(hs.host);
  });

  it('(e) random handles and values: a few hundred calls per export, seeded', () => {
    const hs = new Harness();
    const rnd = prng(SEED ^ 0x5afe7e57);
    const PER_EXPORT = 300 * SCALE;
    for (const f of FNS) {
      for (let n = 0; n < PER_EXPORT; n++) {
        const args = argsFor(f, (p) => {
          if (p.role === 'i64') return rnd.i64();
          // h2_alloc's length: random, but not gigabytes at a time (its limits have their own test).
          if (f.name === 'h2_alloc') return rnd.u32() & 0xffffff;
          return rnd.u32();
        });
        const r = hs.call(f, args, 'random');
        if (r === 'trap') continue;
        if (f.name === 'h2_alloc' && r) hs.ex.h2_free(r);
        else if (f.name === 'h2_buf_copy' && r) hs.ex.h2_buf_free(r);
        else if (hasHandle(f) && r !== errorValue(f))
          hs.failures.push(
            `random: ${f.name}(${args.map(fmt).join(', ')}) returned ${fmt(r as Arg)}, want ${fmt(errorValue(f) as Arg)}`,
          );
      }
    }
    expect(hs.failures).toEqual([]);
    stillWorks(hs.host);
  });

  it('(e) live handles with random values (which, index, key, reason, time, lengths within a buffer)', () => {
    const hs = new Harness();
    const rnd = prng(SEED ^ 0xc0ffee);
    const PER_EXPORT = 200 * SCALE;
    const SCRATCH = 4096;
    let w = buildWorld(hs.host);
    let scratch = hs.ex.h2_alloc(SCRATCH) >>> 0;
    let succeeded = 0;
    let codeCalls = 0;
    hs.afterReset(() => {
      w = buildWorld(hs.host);
      scratch = hs.ex.h2_alloc(SCRATCH) >>> 0;
    });
    for (const f of FNS) {
      for (let n = 0; n < PER_EXPORT; n++) {
        // Calls consume and free their arguments: a fresh world every 25 calls.
        if (n % 25 === 0) {
          destroyWorld(w);
          w = buildWorld(hs.host);
          const bytes = new Uint8Array(hs.ex.memory.buffer, scratch, SCRATCH);
          for (let i = 0; i < SCRATCH; i++) bytes[i] = rnd.u32() & 0xff;
          bytes.set(FIELD_LIST); // a well-formed field list at the start, for a quarter of the calls
        }
        let ptrAt = 0;
        const args = argsFor(f, (p) => {
          switch (p.role) {
            case 'handle': {
              const same = allHandles(w).filter(([k]) => k === p.kind);
              return same[rnd.below(same.length)][1];
            }
            // h2_free gets pointers inside the scratch buffer, never the buffer itself (we keep writing to it).
            case 'ptr':
              if (f.name === 'h2_free') return scratch + 1 + rnd.below(SCRATCH - 1);
              ptrAt = rnd.below(4) === 0 ? -1 : rnd.below(SCRATCH);
              return scratch + Math.max(ptrAt, 0);
            case 'len':
              return ptrAt < 0 ? FIELD_LIST.length : rnd.below(SCRATCH - ptrAt + 1);
            case 'i64':
              return rnd.i64();
            default:
              return f.name === 'h2_alloc' ? rnd.u32() & 0xffffff : rnd.below(4) === 0 ? rnd.below(8) : rnd.u32();
          }
        });
        const r = hs.call(f, args, 'live+random');
        if (r === 'trap') continue;
        if (f.ret.kind === 'code' && r === 0) succeeded++;
        if (f.ret.kind === 'code') codeCalls++;
        if (f.name === 'h2_alloc' && r) hs.ex.h2_free(r);
        // Keep the world's executor polled, as a host would.
        if (n % 5 === 4) pump([[hs.host, w.exec]], (h, t) => h.ex.h2_task_free(t));
      }
    }
    expect(hs.failures).toEqual([]);
    // The handles were live: a good share of the calls did what they were asked.
    expect(succeeded / codeCalls).toBeGreaterThan(0.25);
    destroyWorld(w);
    stillWorks(hs.host);
  }, 60000);

  it('(f) out-of-range pointers and lengths, with live handles: the error value', () => {
    const hs = new Harness();
    let w = buildWorld(hs.host);
    let scratch = hs.ex.h2_alloc(256) >>> 0;
    hs.afterReset(() => {
      w = buildWorld(hs.host);
      scratch = hs.ex.h2_alloc(256) >>> 0;
    });
    let checked = 0;
    for (const f of FNS) {
      const ptrs = f.params.flatMap((p, i) => (p.role === 'ptr' ? [i] : []));
      for (const at of ptrs) {
        const hasLen = f.params[at + 1]?.role === 'len';
        for (const [ptr, len, what] of badRanges(hs.ex.memory.buffer.byteLength, scratch)) {
          if (!hasLen && len !== 0) continue;
          const args = argsFor(f, (p, i) => {
            if (i === at) return ptr;
            if (i === at + 1 && hasLen) return len;
            if (p.role === 'handle') return w.live[p.kind];
            if (p.role === 'ptr') return scratch; // the other pairs valid: (scratch, 0..)
            if (p.role === 'len') return 4;
            return undefined;
          });
          // h2_alloc-style functions take no pointer; h2_free takes one that is only looked up.
          const want = f.name === 'h2_free' ? INVALID_ARG : errorValue(f);
          hs.check(f, args, want, `range ${what} as ${f.params[at].name}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    // The allocator's own limits.
    expect(hs.ex.h2_alloc(0xffffffff) >>> 0).toBe(0);
    expect(hs.ex.h2_alloc((1 << 30) + 1) >>> 0).toBe(0);
    expect(hs.failures).toEqual([]);
    destroyWorld(w);
    stillWorks(hs.host);
  });
});

// ---- Objects outliving what they belong to ---------------------------------------------------

/** Polls until quiet, returning every task that came back as [userdata, type]. */
function drain(h: MemHost, exec: number): [number, number][] {
  const out: [number, number][] = [];
  pump([[h, exec]], (_h, t, type, user) => {
    out.push([user, type]);
    const v = type === TASK.ERROR ? h.ex.h2_task_value(t) : 0;
    if (v) h.ex.h2_error_free(v);
    h.ex.h2_task_free(t);
  });
  return out;
}

/**
 * Calls every export that takes one of the world's surviving handles, with plausible
 * arguments, and pushes every task it gets: none may trap, every task must come back.
 */
function exerciseSurvivors(
  h: MemHost,
  exec: number,
  survivors: [Kind, number][],
  label: string,
  freeAfter = false,
): void {
  const ex = h.ex;
  const scratch = ex.h2_alloc(64) >>> 0;
  new Uint8Array(ex.memory.buffer, scratch, 64).set(Buffer.from('x-name\0\0value'));
  const pushed = new Map<number, string>();
  let user = 1000;
  for (const f of FNS) {
    if (f.name.endsWith('_free') || f.name === 'h2_executor_free') continue;
    f.params.forEach((p, i) => {
      if (p.role !== 'handle') return;
      for (const [k, v] of survivors) {
        if (k !== p.kind) continue;
        const args = argsFor(f, (q, j) => {
          if (j === i) return v;
          if (q.role === 'handle') return survivors.find(([sk]) => sk === q.kind)?.[1] ?? 0;
          if (q.role === 'ptr') return scratch;
          if (q.role === 'len') return 6;
          if (q.role === 'i64') return 1n;
          return 1;
        });
        let r: unknown;
        try {
          r = ex[f.name](...args.map((a, j) => (f.sig.params[j] === 'i64' ? BigInt(a) : Number(a))));
        } catch (e) {
          throw new Error(`${label}: ${f.name}(${k} ${fmt(v)}) ${(e as Error).message}`, { cause: e });
        }
        // Tasks made from survivors must finish (ERROR or EMPTY), not hang or trap.
        if (
          f.ret.kind === 'handle' &&
          typeof r === 'number' &&
          r !== 0 &&
          SIGS.exports.has(f.name) &&
          /^h2_(body_data|body_trailers|send_stream_poll_\w+|clientconn_(send|ping|poll_close)|serverconn_(accept|ping|poll_close))$/.test(
            f.name,
          )
        ) {
          ex.h2_task_set_userdata(r, user);
          if (ex.h2_executor_push(exec, r) === 0) pushed.set(user, `${f.name}(${k})`);
          user++;
        }
      }
    });
  }
  let back = drain(h, exec);
  for (const [u] of back) pushed.delete(u);
  if (freeAfter) {
    // Live connections: some tasks rightly wait (for data that never comes); freeing the
    // connections must finish them.
    for (const [k, v] of survivors)
      if (k === 'CCONN') ex.h2_clientconn_free(v);
      else if (k === 'SCONN') ex.h2_serverconn_free(v);
    back = drain(h, exec);
    for (const [u] of back) pushed.delete(u);
  }
  expect([...pushed.values()], `${label}: tasks that never came back`).toEqual([]);
  ex.h2_free(scratch);
}

describe('safety: objects that outlive their connection, executor or task', () => {
  it('h2_task_free on unfinished pushed tasks of every sort, then the connection runs on', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    const tasks = [
      ex.h2_body_data(w.live.BODY),
      ex.h2_body_trailers(w.live.BODY),
      ex.h2_serverconn_accept(w.live.SCONN),
      ex.h2_serverconn_poll_close(w.live.SCONN),
      ex.h2_clientconn_poll_close(w.live.CCONN),
      ex.h2_clientconn_ping(w.live.CCONN),
      ex.h2_serverconn_ping(w.live.SCONN),
      ex.h2_send_stream_poll_reset(w.live.SEND),
      ex.h2_send_stream_poll_capacity(w.live.SEND),
    ];
    for (const t of tasks) expect(t).not.toBe(0);
    tasks.forEach((t, i) => pushTask(h, w.exec, t, 500 + i));
    // Freed before and after a poll: pending on the executor, registered on what they wait for.
    expect(ex.h2_task_free(tasks[0])).toBe(0);
    expect(ex.h2_task_free(w.live.TASK)).toBe(0); // the response task of the unanswered request
    const back = drain(h, w.exec).map(([u]) => u);
    for (const t of tasks.slice(1)) ex.h2_task_free(t); // whichever are still unfinished
    expect(back).not.toContain(500);
    // A pending handshake freed (its peer never answers): its connection goes with it.
    const [io, ud] = h.io();
    const [, silent] = h.io();
    wire(h, ud, h, silent);
    const opts = ex.h2_clientconn_options_new();
    ex.h2_clientconn_options_exec(opts, w.exec);
    const hs = ex.h2_clientconn_handshake(io, opts);
    pushTask(h, w.exec, hs, 600);
    expect(drain(h, w.exec)).toEqual([]);
    expect(ex.h2_task_free(hs)).toBe(0);
    expect(drain(h, w.exec)).toEqual([]);
    h.close(ud);
    // The world's connection still answers a request.
    exerciseSurvivors(h, w.exec, allHandles(w), 'after task frees', true);
    destroyWorld(w);
    stillWorks(h);
  });

  it('h2_executor_poll on a freed executor answers 0; its connections and tasks can still be freed', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    pushTask(h, w.exec, ex.h2_body_data(w.live.BODY), 1);
    expect(ex.h2_executor_free(w.exec)).toBe(0);
    expect(ex.h2_executor_poll(w.exec)).toBe(0);
    expect(ex.h2_executor_set_time(w.exec, 5n)).toBe(INVALID_ARG);
    expect(ex.h2_executor_next_deadline(w.exec)).toBe(-1n);
    expect(ex.h2_executor_push(w.exec, ex.h2_body_trailers(w.live.BODY))).toBe(INVALID_ARG);
    // The tasks and connections bound to it: usable as handles, freed without a trap.
    const exec2 = ex.h2_executor_new();
    exerciseSurvivors(
      h,
      exec2,
      allHandles(w).filter(([k]) => k !== 'EXEC'),
      'freed executor',
    );
    destroyWorld(w);
    expect(ex.h2_executor_poll(exec2)).toBe(0);
    ex.h2_executor_free(exec2);
    stillWorks(h);
  });

  it('h2_executor_push of a task from another executor, and of a task pushed twice', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    const other = ex.h2_executor_new();
    const t = ex.h2_body_data(w.live.BODY);
    expect(ex.h2_executor_push(other, t)).toBe(0); // the body's connection runs on w.exec
    expect(ex.h2_executor_push(w.exec, t)).toBe(INVALID_ARG); // already pushed
    expect(ex.h2_executor_push(other, t)).toBe(INVALID_ARG);
    // Data arrives on the connection driven by w.exec; the task polled by `other` sees it.
    h.with('late data', (p, n) => expect(ex.h2_send_stream_send_data(w.live.SEND, p, n, 0)).toBe(0));
    drain(h, w.exec);
    let got: number[] = [];
    pump(
      [
        [h, other],
        [h, w.exec],
      ],
      (_h, task, type) => {
        got.push(type);
        if (type === TASK.BUF) ex.h2_buf_free(ex.h2_task_value(task));
        ex.h2_task_free(task);
      },
    );
    expect(got).toEqual([TASK.BUF]);
    // A handshake pushed on an executor other than the one its options name.
    const [io] = h.io();
    const opts = ex.h2_clientconn_options_new();
    ex.h2_clientconn_options_exec(opts, w.exec);
    const hs = ex.h2_clientconn_handshake(io, opts);
    expect(ex.h2_executor_push(other, hs)).toBe(0);
    got = [];
    pump(
      [
        [h, other],
        [h, w.exec],
      ],
      (_h, task, type) => {
        got.push(type);
        ex.h2_error_free(ex.h2_task_value(task));
        ex.h2_task_free(task);
      },
    );
    expect(got).toEqual([TASK.ERROR]); // its io is unknown to the host: H2_IO_ERROR
    ex.h2_executor_free(other);
    destroyWorld(w);
    stillWorks(h);
  });

  it('freeing connections with requests in flight: every object left behind stays safe', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    // A third request, arrived but not accepted on the server, when it goes.
    pushTask(h, w.exec, ex.h2_clientconn_send(w.live.CCONN, ex.h2_request_new()), 4);
    // Pending tasks on both sides when the connections go (11: the world's unanswered request).
    pushTask(h, w.exec, ex.h2_body_data(w.live.BODY), 1);
    pushTask(h, w.exec, ex.h2_body_data(w.clientBody), 2);
    pushTask(h, w.exec, ex.h2_send_stream_poll_reset(w.live.SEND), 3);
    expect(drain(h, w.exec)).toEqual([]);
    expect(ex.h2_clientconn_free(w.live.CCONN)).toBe(0);
    expect(ex.h2_serverconn_free(w.live.SCONN)).toBe(0);
    const back = drain(h, w.exec);
    expect(back.map(([u]) => u).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 11]); // every pending task finished
    // ERROR or EMPTY; poll_reset reports the local reset (CANCEL) as RESET.
    expect(back.filter(([, type]) => type !== TASK.ERROR && type !== TASK.EMPTY)).toEqual([[3, TASK.RESET]]);
    // A connection freed: accepting on it is a bad handle now.
    expect(ex.h2_serverconn_accept(w.live.SCONN)).toBe(0);
    exerciseSurvivors(h, w.exec, allHandles(w), 'connections freed');
    destroyWorld(w);
    stillWorks(h);
  });

  it('a connection that failed (peer gone) and is then freed: every object left behind stays safe', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    pushTask(h, w.exec, ex.h2_serverconn_poll_close(w.live.SCONN), 1);
    // The client's transport goes away: the server reads EOF mid-stream and fails.
    h.close(w.ends[0]);
    const back = drain(h, w.exec);
    expect(back).toContainEqual([1, TASK.ERROR]);
    exerciseSurvivors(h, w.exec, allHandles(w), 'server failed', true); // and frees both
    exerciseSurvivors(h, w.exec, allHandles(w), 'failed, then freed');
    exerciseSurvivors(h, w.exec, allHandles(w), 'failed, then freed');
    destroyWorld(w);
    stillWorks(h);
  });

  it('a connection whose own transport fails (io_read/io_write answer H2_IO_ERROR), then freed: objects left behind stay safe', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    pushTask(h, w.exec, ex.h2_serverconn_poll_close(w.live.SCONN), 1);
    pushTask(h, w.exec, ex.h2_body_data(w.live.BODY), 2);
    // The server's own end: its callbacks now fail; woken so the server reads again.
    const end = h.ends.get(w.ends[1])!;
    end.closed = true;
    expect(ex.h2_waker_wake(end.readWaker)).toBe(0);
    end.readWaker = 0;
    const back = drain(h, w.exec);
    expect(back).toContainEqual([1, TASK.ERROR]);
    expect(back).toContainEqual([2, TASK.ERROR]);
    expect(ex.h2_serverconn_free(w.live.SCONN)).toBe(0);
    exerciseSurvivors(h, w.exec, allHandles(w), 'transport failed, then freed');
    // The respond handles of the dead server: answering is refused, not a trap.
    expect(ex.h2_respond_send_response(w.live.RESPOND, ex.h2_response_new(), 1)).toBe(0);
    expect(ex.h2_last_result()).not.toBe(0);
    destroyWorld(w);
    stillWorks(h);
  });

  it('an io callback that frees its own connection (and the executor) from inside: no trap', () => {
    for (const op of ['read', 'write'] as const) {
      for (const what of ['SCONN', 'CCONN', 'EXEC'] as const) {
        const h = new MemHost();
        const w = buildWorld(h);
        const ex = h.ex;
        const ud = what === 'CCONN' ? w.ends[0] : w.ends[1];
        let fired = 0;
        h.hook = (o, u) => {
          if (o !== op || u !== ud || fired++) return;
          if (what === 'SCONN') expect(ex.h2_serverconn_free(w.live.SCONN)).toBe(0);
          else if (what === 'CCONN') expect(ex.h2_clientconn_free(w.live.CCONN)).toBe(0);
          else expect(ex.h2_executor_free(w.exec)).toBe(0);
        };
        // Traffic both ways, so both ends read and write.
        h.with('client data', (p, n) => ex.h2_send_stream_send_data(w.live.SEND, p, n, 0));
        h.with('server data', (p, n) => ex.h2_send_stream_send_data(w.serverSend, p, n, 0));
        try {
          drain(h, w.exec);
        } catch (e) {
          throw new Error(`${what} freed inside io_${op}: ${(e as Error).message}`, { cause: e });
        }
        expect(fired, `${what} inside io_${op}`).toBe(1);
        h.hook = null;
        const exec = what === 'EXEC' ? ex.h2_executor_new() : w.exec;
        exerciseSurvivors(h, exec, allHandles(w), `${what} freed inside io_${op}`, true);
        destroyWorld(w);
        stillWorks(h);
      }
    }
  });

  it('a full handle table: constructors answer 0, nothing traps, and all is well once handles are freed', () => {
    const h = new MemHost();
    const w = buildWorld(h);
    const ex = h.ex;
    const filler: number[] = [];
    for (;;) {
      const io = ex.h2_io_new();
      if (io === 0) break;
      filler.push(io);
      if (filler.length > 1 << 21) throw new Error('the handle table never fills');
    }
    expect(filler.length).toBeGreaterThan(1000);
    // Everything that makes a handle answers 0, or a task/value it can report.
    for (const f of FNS.filter(
      (f) =>
        f.ret.kind === 'handle' &&
        f.name !== 'h2_alloc' &&
        !f.name.startsWith('h2_headers_fields') &&
        !/_result$|_bytes$/.test(f.name),
    )) {
      const args = argsFor(f, (p) => (p.role === 'handle' ? w.live[p.kind] : p.role === 'len' ? 0 : undefined));
      while (true) {
        const io = ex.h2_io_new();
        if (!io) break;
        filler.push(io);
      } // full again
      const before = ex.h2_handle_count();
      let r: number;
      try {
        r = ex[f.name](...args.map((a, j) => (f.sig.params[j] === 'i64' ? BigInt(a) : Number(a)))) >>> 0;
      } catch (e) {
        throw new Error(`handle table full: ${f.name} ${(e as Error).message}`, { cause: e });
      }
      // 0, unless the call took (and so freed) an argument's handle first, as a handshake does.
      if (r !== 0) expect(ex.h2_handle_count(), `${f.name} made a handle in a full table`).toBeLessThanOrEqual(before);
      for (let i = 0; i < 5; i++) ex.h2_executor_poll(w.exec);
    }
    // Refused copies leave nothing behind.
    const buf = ex.h2_alloc(4096) >>> 0;
    const heap0 = ex.h2_heap_used() >>> 0;
    for (let i = 0; i < 100; i++) expect(ex.h2_buf_copy(buf, 4096)).toBe(0);
    expect((ex.h2_heap_used() >>> 0) - heap0).toBeLessThan(4096);
    ex.h2_free(buf);
    // The connections keep running; an exchange with no handles to spare fails softly.
    h.with('more', (p, n) => ex.h2_send_stream_send_data(w.live.SEND, p, n, 1));
    for (let i = 0; i < 10; i++) ex.h2_executor_poll(w.exec);
    for (const io of filler) ex.h2_io_free(io);
    drain(h, w.exec);
    destroyWorld(w);
    stillWorks(h);
  }, 60000);
});
