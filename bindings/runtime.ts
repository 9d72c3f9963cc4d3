// The JavaScript host of the ABI: one module instance, its h2_host imports bound to
// transports and body sources, one executor polled whenever something happened, and
// its deadlines armed as timers. No `node:` import: any runtime with WebAssembly,
// setTimeout and queueMicrotask can run it; adapters (node.ts) bring the sockets.
//
// Crossings are batched: io_read hands over everything queued from the socket in one
// call, io_write takes everything the engine produced in one call, and a poll round runs
// every finished task before going back to the event loop.
//
// Time (the contract in h2wasm.h): every poll round starts by telling the executor the
// time, and every event that needs the engine (bytes, a writable socket, a call of the
// application's, a timer) schedules a round. What the application calls between rounds
// (a handshake, a request, a PING) the core stamps with the next round's time. After each
// round the one timer is armed at the executor's next deadline, or cleared when none.
import { instantiateSync, type H2Exports, type H2Module, type HostImports } from './loader.js';
import { H2E, H2_BUDGET, H2_DATA, H2_IO, TASK } from './abi.js';
import { NoCopyFeed } from './no-copy-feed.js';

/** RFC 9113 INTERNAL_ERROR: what the connections of a trapped instance report. */
export const INTERNAL_ERROR = 2;

/** io answers and task types, as abi.ts (the header) defines them. */
export const IO_PENDING = H2_IO.PENDING;
export const IO_ERROR = H2_IO.ERROR;
export { TASK };

/** Where a connection's bytes go; `write` returns false when the peer is slow (backpressure).
 *  `end(failed)`: the connection is over, cleanly or after an error (then the peer need
 *  not be given long to take what is left). */
export interface Sink {
  /** `flushed`, when given, is called once these bytes left the sink's own buffer. */
  write(bytes: Uint8Array, flushed?: () => void): boolean;
  end(failed?: boolean): void;
  /** How many bytes the sink takes now without holding more than it should (a socket:
   *  its buffer up to a bound); absent, it takes everything until write returns false. */
  room?(): number;
  /** Writes `parts` in order as if one write (a zero-copy frame: prefix, views, padding),
   *  gathered with the writes that follow in the same turn where it can (a socket's
   *  writev); absent, the parts are joined into one write. */
  writev?(parts: Uint8Array[], flushed?: () => void): boolean;
}

/** Bytes queued from a transport before it asks its socket to stop reading. The engine
 *  takes everything queued on each poll round, so only a connection that no longer reads
 *  (closed after an error, waiting to write its GOAWAY) reaches it. */
export const READ_HIGH_WATER = 256 * 1024;

/** Bytes all transports of a runtime hand their sinks in one turn of the event loop. A
 *  socket whose kernel buffer keeps taking (loopback grows it to megabytes) would otherwise
 *  be written until it blocks, every such connection in the same round: 300 peers that
 *  never read took 2 s of copying in one round while no other socket was read. Past it a
 *  writer waits for the next turn, like an event loop that writes each socket once per
 *  readiness event. */
export const TURN_WRITE_BYTES = 1024 * 1024;

/** A write this small goes out even when the turn's allowance is spent (it still counts):
 *  copying it costs next to nothing, and a small answer (a response head, a short body, a
 *  PING ack) then leaves in the turn it was made instead of queueing behind bulk writers. */
export const SMALL_WRITE = 4096;
/** Header blocks copied out to be decoded later share slabs of this size: one ArrayBuffer
 *  per slab instead of one per head (−5% of the client's CPU per request). A head kept
 *  keeps its slab (4 KiB at most per live head); one past an eighth of it gets its own. */
const HEAD_SLAB = 4096;
/** Continuations one poll round runs; the rest go on at the next turn, or sooner in a round
 *  that what they set off schedules. Its drive comes first, so the requests (or answers) the
 *  first continuations made leave while the rest are still being delivered: the peer works
 *  on them meanwhile, where one write after the last would leave it idle (100 responses in
 *  one read: 1.2× the client's req/s against nghttpd with 16–64 here). */
export const RUN_BATCH = 32;

/** Runs `fn` on the next turn of the event loop, after pending I/O (not a microtask):
 *  setImmediate where there is one, else a MessageChannel message (setTimeout(0) from a
 *  timer is clamped to 4 ms in browsers, which would cap a runtime at 1 MiB per 4 ms). */
const nextTurn: (fn: () => void) => void = (() => {
  const g = globalThis as { setImmediate?: (fn: () => void) => void; MessageChannel?: typeof MessageChannel };
  if (g.setImmediate) return g.setImmediate;
  if (g.MessageChannel) {
    const waiting: (() => void)[] = [];
    const channel = new g.MessageChannel();
    channel.port1.onmessage = () => {
      for (const fn of waiting.splice(0)) fn();
    };
    return (fn: () => void) => {
      if (waiting.push(fn) === 1) channel.port2.postMessage(null);
    };
  }
  return (fn: () => void) => {
    setTimeout(fn, 0);
  };
})();

/** One transport: bytes from the peer queue here until the engine reads them. */
export class Transport {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  /** The socket was asked to stop reading (push returned false): resume() asks again. */
  paused = false;
  /** Called when a paused transport's queue drained: the adapter resumes its socket. */
  onDrain: (() => void) | undefined;
  /** The connection is over: bytes that still arrive are not queued (see drop). */
  dropped = false;
  eof = false;
  failed = false;
  readWaker = 0;
  writeWaker = 0;
  blocked = false;
  constructor(
    readonly rt: Runtime,
    readonly id: number,
    readonly sink: Sink,
  ) {}

  /** The socket delivered bytes. Returns false when the socket should stop reading
   *  until onDrain (the queue is at READ_HIGH_WATER). */
  push(chunk: Uint8Array): boolean {
    if (this.dropped) return !this.paused;
    this.chunks.push(chunk);
    this.queued += chunk.length;
    this.wakeRead();
    if (this.queued < READ_HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  /** The socket reached EOF (or failed). */
  end(failed = false): void {
    this.eof = true;
    this.failed ||= failed;
    this.wakeRead();
    this.wakeWrite();
  }

  /** The socket drained its write buffer. */
  writable(): void {
    this.blocked = false;
    this.wakeWrite();
  }

  private wakeRead(): void {
    if (this.dropped) return;
    if (this.readWaker) {
      this.rt.ex.h2_waker_wake(this.readWaker);
      this.readWaker = 0;
    }
    this.rt.schedule();
  }

  private wakeWrite(): void {
    if (this.dropped) return;
    if (this.writeWaker) {
      this.rt.ex.h2_waker_wake(this.writeWaker);
      this.writeWaker = 0;
    }
    this.rt.schedule();
  }

  /** io_read: copies every queued byte that fits, in one crossing. */
  read(ctx: number, buf: number, len: number): number {
    if (this.queued === 0) {
      if (this.eof) return this.failed ? IO_ERROR : 0;
      if (this.readWaker) this.rt.ex.h2_waker_free(this.readWaker);
      this.readWaker = this.rt.ex.h2_context_waker(ctx);
      return IO_PENDING;
    }
    const mem = new Uint8Array(this.rt.ex.memory.buffer, buf, len);
    let n = 0;
    while (n < len && this.chunks.length > 0) {
      const c = this.chunks[0];
      const take = Math.min(c.length, len - n);
      mem.set(take === c.length ? c : c.subarray(0, take), n);
      n += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.queued -= n;
    if (this.paused && this.queued === 0) {
      this.paused = false;
      this.onDrain?.();
    }
    return n;
  }

  /**
   * The connection is over: free what is queued and keep nothing more. After a clean
   * close the socket reads on and throws bytes away, so the peer's FIN is seen and the
   * close resets no unread data; after a failure it stops reading (a flood's attacker
   * would have us read at line rate only to throw it away) until it is destroyed.
   */
  drop(failed = false): void {
    this.dropped = true;
    for (const w of [this.readWaker, this.writeWaker]) if (w) this.rt.ex.h2_waker_free(w);
    this.readWaker = 0;
    this.writeWaker = 0;
    this.chunks = [];
    this.queued = 0;
    if (failed) {
      this.paused = true;
    } else if (this.paused) {
      this.paused = false;
      this.onDrain?.();
    }
  }

  /** PENDING until the next turn: this turn's write allowance is spent. */
  private waitTurn(ctx: number): number {
    this.rt.deferWrite(this);
    return this.waitWritable(ctx);
  }

  /** The next turn began: a writer deferred by the allowance goes on. */
  turn(): void {
    if (!this.blocked) this.wakeWrite();
  }

  /** PENDING, holding a waker for when the sink takes bytes again. */
  private waitWritable(ctx: number): number {
    if (this.writeWaker) this.rt.ex.h2_waker_free(this.writeWaker);
    this.writeWaker = this.rt.ex.h2_context_waker(ctx);
    return IO_PENDING;
  }

  /**
   * send_data, before the frame is made: 0 when a frame may be written now, else PENDING
   * (holding a waker) or ERROR. A frame is written whole or not at all.
   */
  frameWritable(ctx: number, len: number): number {
    return this.gate(ctx, len);
  }

  /**
   * Whether `len` bytes may start going to the sink now, for io_write and zero-copy frames
   * alike: 0, or PENDING (a waker taken: 'drain', or the next turn when this turn's write
   * allowance is spent; a write of at most SMALL_WRITE passes a spent allowance) or ERROR.
   */
  private gate(ctx: number, len: number): number {
    if (this.eof) return IO_ERROR;
    if (this.blocked) return this.waitWritable(ctx);
    if (this.sink.room && this.sink.room() <= 0) {
      // Full from earlier writes, the last of which returned false: 'drain' wakes us.
      this.blocked = true;
      return this.waitWritable(ctx);
    }
    if (len > SMALL_WRITE && this.rt.writeAllowance() <= 0) return this.waitTurn(ctx);
    return 0;
  }

  /** Hands a whole zero-copy frame to the sink (after frameWritable said 0). */
  writeFrame(frame: Uint8Array): void {
    this.rt.spend(this, frame.length);
    if (!this.sink.write(frame)) this.blocked = true;
  }

  /** Hands a zero-copy frame made of `parts` (`len` bytes in all) to the sink (after frameWritable said 0). */
  writeParts(parts: Uint8Array[], len: number, flushed?: () => void): void {
    this.rt.spend(this, len);
    let ok: boolean;
    if (this.sink.writev) {
      ok = this.sink.writev(parts, flushed);
    } else {
      const frame = new Uint8Array(len);
      let at = 0;
      for (const p of parts) {
        frame.set(p, at);
        at += p.length;
      }
      ok = this.sink.write(frame, flushed);
    }
    if (!ok) this.blocked = true;
  }

  /** io_write: hands the bytes to the sink (copied: wasm memory is reused). */
  write(ctx: number, buf: number, len: number): number {
    const shut = this.gate(ctx, len);
    if (shut !== 0) return shut;
    // Only what the sink should hold: the rest stays in wasm memory, where the engine and
    // the instance's budget see it waiting (a peer that does not read is then visible).
    const room = this.sink.room ? this.sink.room() : len;
    const allowance = len <= SMALL_WRITE ? len : this.rt.writeAllowance();
    const n = Math.min(len, room, allowance);
    this.rt.spend(this, n);
    const bytes = new Uint8Array(this.rt.ex.memory.buffer, buf, n).slice();
    if (n < len && n < room) {
      // Only the allowance stopped it: the engine writes the rest, and waits for the next turn.
      if (!this.sink.write(bytes)) this.blocked = true;
    } else if (n < len) {
      // The sink is full for now: its flush, not only a 'drain', lets the writer go on.
      this.blocked = true;
      this.sink.write(bytes, () => {
        if (this.blocked) this.writable();
      });
    } else if (!this.sink.write(bytes)) {
      this.blocked = true;
    }
    return n;
  }
}

/**
 * The module instance's memory budget, shared by every connection of the runtime (see
 * h2wasm.h, "The instance's memory budget"). `memoryBudget` derives the others; each of
 * those may be set after it.
 */
export interface Limits {
  /** The whole budget in bytes (default 256 MiB). */
  memoryBudget?: number;
  /** Bytes held to send across connections (memoryBudget / 2). */
  sendBytes?: number;
  /** Bytes received and not yet taken (memoryBudget / 4): past it new streams are refused. */
  recvBytes?: number;
  /** Open streams (memoryBudget / 4096). */
  streams?: number;
  /** Connections (memoryBudget / 65536). */
  connections?: number;
}

/** Each limit's budget key, memoryBudget first (setting it derives the others). */
export const LIMIT_KEYS: [keyof Limits, number][] = [
  ['memoryBudget', H2_BUDGET.MEMORY],
  ['sendBytes', H2_BUDGET.SEND_BYTES],
  ['recvBytes', H2_BUDGET.RECV_BYTES],
  ['streams', H2_BUDGET.STREAMS],
  ['connections', H2_BUDGET.CONNECTIONS],
];

/** What the budget holds now (h2_budget_get). */
export interface BudgetUse {
  used: number;
  sendBytes: number;
  recvBytes: number;
  streams: number;
  connections: number;
  shed: number;
}

/** Pulls a body from JS: returns bytes, null at the end, or 'pending' (then call the source's
 *  wake() once it has more: the engine does not ask again before). */
export type SourceRead = (max: number) => Uint8Array | null | 'pending';

type Continuation = (task: number, type: number) => void;

/** Copies `len` bytes of a zero-copy body from `position` into dst at `at`; returns the count. */
export type NoCopyFill = (dst: Uint8Array, at: number, len: number, position: number) => number;

interface NoCopySource {
  transport: Transport;
  size: number;
  fill: NoCopyFill;
  /** Bytes announced to the module as zero-copy, and bytes written so far. */
  announced: number;
  position: number;
}

/** A 1xx response (100 Continue, 103 Early Hints…) of a request: its status and fields. */
export type InformationalHandler = (status: number, headers: [string, string][]) => void;

export class Runtime {
  readonly ex: H2Exports;
  readonly exec: number;
  private transports = new Map<number, Transport>();
  private sources = new Map<number, SourceRead>();
  /** Zero-copy bodies by source id: the frames go straight from `fill` to the transport. */
  private noCopySources = new Map<number, NoCopySource>();
  /** Zero-copy bodies fed as they go (uploads), by source id: see no-copy-feed.ts. */
  private noCopyFeeds = new Map<number, NoCopyFeed>();
  /** The waker a source that answered 'pending' holds, by source id. */
  private sourceWakers = new Map<number, number>();
  /** What runs when each pushed task finishes, by slot (the task's userdata; 0 is none).
   *  A slot is reused once its task came back: an array indexed by a small number costs a
   *  load where a Map keyed by an ever-growing id cost a hash insert, a delete and rehashes. */
  private continuations: (Continuation | undefined)[] = [undefined];

  /** Tasks submitted and not finished yet (their continuations wait): the leak check of tests. */
  get waitingTasks(): number {
    return this.continuations.length - 1 - this.freeSlots.length;
  }
  private freeSlots: number[] = [];
  private nextId = 1;
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = -1;
  private foreachOut: [string, string][] | null = null;
  /** Who hears the 1xx responses of a request (h2_request_on_informational), by userdata. */
  private informationalHandlers = new Map<number, InformationalHandler>();
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(source: BufferSource | WebAssembly.Module) {
    const module: H2Module = instantiateSync(source, this.imports());
    this.ex = module.exports;
    this.exec = this.ex.h2_executor_new();
  }

  private imports(): HostImports {
    return {
      // An exception must never unwind through the module (it would leave a call half
      // done): a transport that throws answers as a failed one.
      io_read: (userdata, ctx, buf, len) => {
        try {
          return this.transports.get(userdata)?.read(ctx, buf >>> 0, len >>> 0) ?? IO_ERROR;
        } catch {
          return IO_ERROR;
        }
      },
      io_write: (userdata, ctx, buf, len) => {
        try {
          return this.transports.get(userdata)?.write(ctx, buf >>> 0, len >>> 0) ?? IO_ERROR;
        } catch {
          return IO_ERROR;
        }
      },
      body_read: (userdata, ctx, buf, len) => {
        const feed = this.noCopyFeeds.get(userdata);
        if (feed) return feed.read(ctx);
        const noCopy = this.noCopySources.get(userdata);
        if (noCopy) {
          // All of it at once, as zero-copy: send_data writes each frame from the source.
          if (noCopy.announced < noCopy.size) {
            const n = Math.min(noCopy.size - noCopy.announced, 0x7fffffff);
            noCopy.announced += n;
            return (H2_DATA.NO_COPY | n) >>> 0;
          }
          return noCopy.position >= noCopy.size ? 0 : IO_ERROR;
        }
        const read = this.sources.get(userdata);
        if (!read) return IO_ERROR;
        let chunk: Uint8Array | null | 'pending';
        try {
          chunk = read(len >>> 0);
        } catch {
          return IO_ERROR;
        }
        if (chunk === null) return 0;
        if (chunk === 'pending' || chunk.length === 0) {
          // PENDING holds a waker (the ABI's contract): the source's wake() uses it.
          const old = this.sourceWakers.get(userdata);
          if (old) this.ex.h2_waker_free(old);
          this.sourceWakers.set(userdata, this.ex.h2_context_waker(ctx));
          return IO_PENDING;
        }
        if (chunk.length > len >>> 0) return IO_ERROR;
        new Uint8Array(this.ex.memory.buffer, buf >>> 0, chunk.length).set(chunk);
        return chunk.length;
      },
      send_data: (userdata, ctx, prefix, prefixLen, dataLen, padLen) => {
        const feed = this.noCopyFeeds.get(userdata);
        if (feed) {
          try {
            return feed.send(ctx, prefix >>> 0, prefixLen, dataLen, padLen);
          } catch {
            return IO_ERROR;
          }
        }
        const src = this.noCopySources.get(userdata);
        if (!src) return IO_ERROR;
        try {
          const ready = src.transport.frameWritable(ctx, prefixLen + dataLen + padLen);
          if (ready !== 0) return ready;
          // The frame in one buffer: the module's prefix, the data straight from the source
          // (it never enters wasm memory), the padding's zeros.
          const frame = new Uint8Array(prefixLen + dataLen + padLen);
          frame.set(new Uint8Array(this.ex.memory.buffer, prefix >>> 0, prefixLen));
          if (src.fill(frame, prefixLen, dataLen, src.position) !== dataLen) return IO_ERROR;
          src.transport.writeFrame(frame);
          src.position += dataLen;
          return 0;
        } catch {
          return IO_ERROR;
        }
      },
      headers_foreach: (_userdata, name, nameLen, value, valueLen) => {
        this.foreachOut?.push([this.text(name, nameLen), this.text(value, valueLen)]);
        return 0;
      },
      informational: (userdata, response) => {
        const handler = this.informationalHandlers.get(userdata);
        if (!handler) return;
        const status = this.ex.h2_response_status(response);
        const headers = this.headers(this.ex.h2_response_headers(response));
        // The handler runs after the module's call returns: user code never runs inside it.
        queueMicrotask(() => handler(status, headers));
      },
    };
  }

  /**
   * Sets a request's :scheme, :authority and :path in one crossing (their byte lengths are
   * their string lengths when all is ASCII, the usual case); h2_request_set_uri_parts's code.
   */
  setTarget(req: number, scheme: string, authority: string, path: string): number {
    const all = scheme + authority + path;
    return this.with(all, (p, n) => {
      const [s, a] =
        n === all.length
          ? [scheme.length, authority.length]
          : [this.encoder.encode(scheme).length, this.encoder.encode(authority).length];
      return this.ex.h2_request_set_uri_parts(req, p, s, p + s, a, p + s + a, n - s - a);
    });
  }

  /** Registers who hears a request's 1xx responses; the userdata for h2_request_on_informational. */
  onInformational(handler: InformationalHandler): number {
    const id = this.nextId++;
    this.informationalHandlers.set(id, handler);
    return id;
  }

  dropInformational(id: number): void {
    this.informationalHandlers.delete(id);
  }

  // ---- the instance's budget --------------------------------------------------------------

  /** The limits set on this instance (a fresh one after a trap gets them too). */
  limits: Limits | undefined;

  /**
   * Sets the instance's budget (memoryBudget first, deriving the others); throws on a value
   * the module refuses, leaving the budget as it was. `limits` then holds every limit as
   * the module has it, so a fresh instance after a trap gets exactly the same.
   */
  setLimits(limits: Limits): void {
    const before = this.limitsNow();
    for (const [name, key] of LIMIT_KEYS) {
      const v = limits[name];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 0 || this.ex.h2_budget_set(key, BigInt(v)) !== 0) {
        for (const [n, k] of LIMIT_KEYS) this.ex.h2_budget_set(k, BigInt(before[n]!));
        throw new RangeError(`h2wasm: invalid limit ${name} = ${v}`);
      }
    }
    this.limits = this.limitsNow();
  }

  /** Every limit as the module has it now. */
  private limitsNow(): Limits {
    const out: Limits = {};
    for (const [name, key] of LIMIT_KEYS) out[name] = Number(this.ex.h2_budget_get(key));
    return out;
  }

  /** What the instance's budget holds now. */
  budget(): BudgetUse {
    const get = (k: number) => Number(this.ex.h2_budget_get(k));
    return {
      used: get(H2_BUDGET.USED),
      sendBytes: get(H2_BUDGET.SEND_BYTES_USED),
      recvBytes: get(H2_BUDGET.RECV_BYTES_USED),
      streams: get(H2_BUDGET.STREAMS_OPEN),
      connections: get(H2_BUDGET.CONNECTIONS_OPEN),
      shed: get(H2_BUDGET.CONNECTIONS_SHED),
    };
  }

  // ---- transports and bodies -----------------------------------------------------------

  /** Registers a transport and returns it with its io handle (for a handshake). */
  transport(sink: Sink): { transport: Transport; io: number } {
    const id = this.nextId++;
    const transport = new Transport(this, id, sink);
    this.transports.set(id, transport);
    const io = this.ex.h2_io_new();
    this.ex.h2_io_set_userdata(io, id);
    return { transport, io };
  }

  dropTransport(t: Transport, failed = false): void {
    t.drop(failed);
    this.transports.delete(t.id);
  }

  /** A data-source body read through `read`: its body handle, wake() for after a 'pending'
   *  (the engine asks again), and release() once the body is done with. */
  source(read: SourceRead): { body: number; wake: () => void; release: () => void } {
    const id = this.nextId++;
    this.sources.set(id, read);
    const body = this.ex.h2_body_new();
    this.ex.h2_body_set_userdata(body, id);
    const takeWaker = () => {
      const w = this.sourceWakers.get(id) ?? 0;
      this.sourceWakers.delete(id);
      return w;
    };
    return {
      body,
      wake: () => {
        const w = takeWaker();
        if (w) this.ex.h2_waker_wake(w);
        this.schedule();
      },
      release: () => {
        const w = takeWaker();
        if (w) this.ex.h2_waker_free(w);
        this.sources.delete(id);
      },
    };
  }

  /**
   * A zero-copy body of `size` bytes written to `transport`: the module frames it, and
   * each frame's data comes from fill(dst, at, len, position) straight into the outgoing
   * buffer (nghttp2's NO_COPY data source). release() once the stream is over.
   */
  noCopySource(transport: Transport, size: number, fill: NoCopyFill): { body: number; release: () => void } {
    const id = this.nextId++;
    this.noCopySources.set(id, { transport, size, fill, announced: 0, position: 0 });
    const body = this.ex.h2_body_new();
    this.ex.h2_body_set_userdata(body, id);
    return { body, release: () => this.noCopySources.delete(id) };
  }

  /**
   * A zero-copy body fed while it is sent on `transport` (a request's upload): push chunks
   * into `feed`, end() it; the module frames them and each frame's data goes from the chunks
   * to the transport (no-copy-feed.ts). release() once the stream is over (it closes the feed).
   */
  noCopyFeed(transport: Transport): { body: number; feed: NoCopyFeed; release: () => void } {
    const id = this.nextId++;
    const feed = new NoCopyFeed(this, transport);
    this.noCopyFeeds.set(id, feed);
    const body = this.ex.h2_body_new();
    this.ex.h2_body_set_userdata(body, id);
    return {
      body,
      feed,
      release: () => {
        this.noCopyFeeds.delete(id);
        feed.close();
      },
    };
  }

  // ---- tasks ---------------------------------------------------------------------------

  /** Pushes `task`; `then` runs when it finishes (the task is freed after it returns). */
  submit(task: number, then: Continuation): void {
    if (this.broken)
      throw new Error(`h2wasm: the module instance trapped (${this.broken.message}); it serves nothing more`);
    if (!task) throw new Error('h2wasm: the module refused to create a task (bad handle)');
    const id = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.continuations.length;
    this.continuations[id] = then;
    this.ex.h2_task_set_userdata(task, id);
    this.ex.h2_executor_push(this.exec, task);
    this.schedule();
  }

  /** The task's outcome as a promise: its type and (taken) value. */
  wait(task: number): Promise<{ type: number; value: number }> {
    return new Promise((resolve) => {
      this.submit(task, (t, type) => resolve({ type, value: this.ex.h2_task_value(t) }));
    });
  }

  // ---- the write allowance ---------------------------------------------------------------

  private turnWritten = 0;
  private deferred = new Set<Transport>();
  /** The transports that wrote in this turn: at the next they go after those that could not. */
  private wroteThisTurn = new Set<Transport>();
  private turnPending = false;

  /** Bytes the transports may still hand their sinks in this turn of the event loop. */
  writeAllowance(): number {
    return TURN_WRITE_BYTES - this.turnWritten;
  }

  /** `t` handed its sink `n` bytes: the count starts again at the next turn. */
  spend(t: Transport, n: number): void {
    this.turnWritten += n;
    this.wroteThisTurn.add(t);
    this.awaitTurn();
  }

  /** `t` waits for the next turn to write again. */
  deferWrite(t: Transport): void {
    this.deferred.add(t);
    this.awaitTurn();
  }

  private awaitTurn(): void {
    if (this.turnPending) return;
    this.turnPending = true;
    nextTurn(() => {
      this.turnPending = false;
      this.turnWritten = 0;
      // Round robin: whoever waited without writing goes first. A writer the allowance cut
      // short is retried at once by its connection's drive, so it waits first; woken first
      // again, it would take every turn's allowance while the others wait.
      const waiting = [...this.deferred];
      const wrote = this.wroteThisTurn;
      this.deferred = new Set();
      this.wroteThisTurn = new Set();
      for (const t of waiting) if (!wrote.has(t)) t.turn();
      for (const t of waiting) if (wrote.has(t)) t.turn();
    });
  }

  private resumePending = false;
  /** A round stopped at RUN_BATCH: the next turn goes on (if nothing sooner did). */
  private resumeLater(): void {
    if (this.resumePending) return;
    this.resumePending = true;
    nextTurn(() => {
      this.resumePending = false;
      this.run();
    });
  }

  /** Runs a poll round soon (coalesced). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.run());
  }

  /** Polls until no task is ready or RUN_BATCH ran, runs their continuations, then arms the next deadline. */
  run(): void {
    this.scheduled = false;
    if (this.broken) return;
    const ex = this.ex;
    try {
      ex.h2_executor_set_time(this.exec, BigInt(Math.floor(now())));
      let task: number;
      let i = 0;
      for (; i < RUN_BATCH && (task = ex.h2_executor_poll(this.exec)) !== 0; i++) {
        const id = ex.h2_task_userdata(task);
        const then = this.continuations[id];
        if (then !== undefined) {
          this.continuations[id] = undefined;
          this.freeSlots.push(id);
        }
        const type = ex.h2_task_type(task);
        try {
          then?.(task, type);
        } finally {
          ex.h2_task_free(task);
        }
      }
      if (i === RUN_BATCH) this.resumeLater();
      this.armTimer();
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      this.trapped(e);
    }
  }

  // ---- a trap ------------------------------------------------------------------------------
  //
  // A trap is a bug in the module (every size a peer or host decides is checked first), but
  // a server must outlive it: the instance is not called again, every connection on it is
  // failed at once, and whoever made the runtime (node.ts runtime()) serves new connections
  // from a fresh instance of the same compiled module.

  /** The trap that broke this instance, once it trapped. */
  broken: Error | undefined;
  private readonly brokenListeners = new Set<() => void>();
  /** Called once, when the instance traps, with how many connections it failed. */
  onTrap: ((error: Error, connections: number) => void) | undefined;

  /** Registers what to do if the instance traps (a connection failing itself); returns the unregister. */
  whenBroken(fn: () => void): () => void {
    this.brokenListeners.add(fn);
    return () => this.brokenListeners.delete(fn);
  }

  /** The instance trapped: stop calling it, fail everything on it, tell onTrap. */
  trapped(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    // From here every export answers 0 without entering the instance: what the dying
    // connections still call on their way out (frees, releases, wakes) cannot trap again.
    const inert: Record<string, unknown> = { memory: this.ex.memory };
    for (const [name, value] of Object.entries(this.ex)) if (typeof value === 'function') inert[name] = () => 0;
    (this as { ex: H2Exports }).ex = inert as unknown as H2Exports;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Whatever waits on a task hears an error (task 0: nothing to read from the instance).
    const waiting = this.continuations.filter((c): c is Continuation => c !== undefined);
    this.continuations = [undefined];
    this.freeSlots = [];
    for (const then of waiting) {
      try {
        then(0, TASK.ERROR);
      } catch {
        /* it failed on its own: nothing more to do */
      }
    }
    const connections = this.transports.size;
    for (const fn of [...this.brokenListeners]) {
      try {
        fn();
      } catch {
        /* a listener's own failure must not stop the others */
      }
    }
    this.brokenListeners.clear();
    for (const t of [...this.transports.values()]) {
      t.sink.end(true);
      t.drop(true);
    }
    this.transports.clear();
    this.onTrap?.(error, connections);
  }

  /** One timer, at the executor's next deadline; none when nothing is due. */
  private armTimer(): void {
    const at = Number(this.ex.h2_executor_next_deadline(this.exec));
    if (at === this.timerAt && (at < 0 || this.timer)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at < 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = -1;
        this.run();
        // setTimeout takes at most 2^31-1 ms (longer fires at once): a far deadline re-arms.
      },
      Math.min(Math.max(0, at - now()), 0x7fffffff),
    );
    // Timers must not keep a process alive on their own (Node's unref, where it exists).
    (this.timer as unknown as { unref?: () => void }).unref?.();
  }

  // ---- bytes and strings -----------------------------------------------------------------
  //
  // Bytes going in are staged in one scratch buffer the runtime keeps in linear memory,
  // so a header list or a small body costs no h2_alloc/h2_free pair per call. A nested
  // use (never seen today) falls back to a fresh allocation.

  private scratchPtr = 0;
  private scratchCap = 0;
  private scratchBusy = false;
  private u8: Uint8Array = new Uint8Array(0);

  /** A view of all of linear memory, renewed when memory grew (the old one is detached). */
  memory(): Uint8Array {
    // Growing memory detaches the old buffer, and a view of a detached buffer has length 0.
    if (this.u8.length === 0) this.u8 = new Uint8Array(this.ex.memory.buffer);
    return this.u8;
  }

  /** The scratch buffer with room for `n` bytes, or 0 when it is in use or `n` is large. */
  private scratch(n: number): number {
    if (this.scratchBusy || n > SCRATCH_MAX) return 0;
    if (n > this.scratchCap) {
      if (this.scratchPtr) this.ex.h2_free(this.scratchPtr);
      const cap = Math.max(n, this.scratchCap * 2, 4096);
      this.scratchPtr = this.ex.h2_alloc(cap) >>> 0;
      this.scratchCap = this.scratchPtr ? cap : 0;
      if (!this.scratchPtr) return 0;
    }
    return this.scratchPtr;
  }

  text(ptr: number, len: number): string {
    return decodeText(this.memory(), ptr >>> 0, len >>> 0, this.decoder);
  }

  bytes(ptr: number, len: number): Uint8Array {
    ptr >>>= 0;
    return this.memory().slice(ptr, ptr + (len >>> 0));
  }

  /** Runs `fn(ptr, len)` with `data` (UTF-8 for a string) in linear memory for the call. */
  with<T>(data: Uint8Array | string, fn: (ptr: number, len: number) => T): T {
    const max = typeof data === 'string' ? data.length * 3 : data.length;
    const p = this.scratch(max);
    if (p === 0) return this.withAllocated(typeof data === 'string' ? this.encoder.encode(data) : data, fn);
    const n = this.put(data, p, max);
    this.scratchBusy = true;
    try {
      return fn(p, n);
    } finally {
      this.scratchBusy = false;
    }
  }

  /** Writes `data` (UTF-8 for a string, in at most `max` bytes) at `at`; its length. */
  private put(data: Uint8Array | string, at: number, max: number): number {
    if (typeof data !== 'string') {
      this.memory().set(data, at);
      return data.length;
    }
    return this.encoder.encodeInto(data, this.memory().subarray(at, at + max)).written;
  }

  private withAllocated<T>(b: Uint8Array, fn: (ptr: number, len: number) => T): T {
    const p = this.ex.h2_alloc(Math.max(1, b.length)) >>> 0;
    if (p === 0) throw new RangeError('h2wasm: out of wasm memory');
    new Uint8Array(this.ex.memory.buffer, p, b.length).set(b);
    try {
      return fn(p, b.length);
    } finally {
      this.ex.h2_free(p);
    }
  }

  /** Every field of a headers handle, in order (read from its flat list, one crossing). */
  headers(handle: number): [string, string][] {
    const ptr = this.ex.h2_headers_fields(handle) >>> 0;
    const len = this.ex.h2_headers_fields_len(handle) >>> 0;
    return ptr === 0 ? [] : this.fields(this.memory(), ptr, len);
  }

  /** A copy of a headers handle's flat field list, to be decoded later with fields(). */
  headerBytes(handle: number): Uint8Array {
    const ptr = this.ex.h2_headers_fields(handle) >>> 0;
    const len = this.ex.h2_headers_fields_len(handle) >>> 0;
    if (ptr === 0) return new Uint8Array(0);
    if (len > HEAD_SLAB / 8) return this.memory().slice(ptr, ptr + len);
    if (this.slabAt + len > this.slab.length) {
      this.slab = new Uint8Array(HEAD_SLAB);
      this.slabAt = 0;
    }
    const out = this.slab.subarray(this.slabAt, this.slabAt + len);
    out.set(this.memory().subarray(ptr, ptr + len));
    this.slabAt += len;
    return out;
  }
  private slab = new Uint8Array(0);
  private slabAt = 0;

  /**
   * Every waiting request of a server connection that fits one buffer, in one crossing
   * (h2_serverconn_take_requests), copied out: records of u32 respond, body, stream id,
   * head length, then the head. Empty when none waits or the next one does not fit.
   */
  takeRequests(conn: number): Uint8Array {
    const area = this.takeAreaPtr();
    const n = area ? this.ex.h2_serverconn_take_requests(conn, area, TAKE_BUFFER) >>> 0 : 0;
    return n === 0 ? new Uint8Array(0) : this.bytes(area, n);
  }
  /** TAKE_BUFFER bytes of linear memory the bulk reads copy into (made when first needed; 0
   *  when memory ran out). */
  private takeAreaPtr(): number {
    if (!this.takeArea) this.takeArea = this.ex.h2_alloc(TAKE_BUFFER) >>> 0;
    return this.takeArea;
  }
  private takeArea = 0;

  /** Text of [at, at+len) of `bytes` (UTF-8). */
  textOf(bytes: Uint8Array, at: number, len: number): string {
    return decodeText(bytes, at, len, this.decoder);
  }

  /** Decodes a flat field list (u32 name length, u32 value length, u32 flags, octets). */
  fields(bytes: Uint8Array, at: number, len: number): [string, string][] {
    const out: [string, string][] = [];
    const end = at + len;
    while (at + 12 <= end) {
      const nl = readU32(bytes, at);
      const vl = readU32(bytes, at + 4);
      const name = at + 12;
      out.push([decodeText(bytes, name, nl, this.decoder), decodeText(bytes, name + nl, vl, this.decoder)]);
      at = name + nl + vl;
    }
    return out;
  }

  /** Replaces a headers handle's fields in one crossing (flat field list). */
  setHeaders(handle: number, fields: Iterable<[string, string]>): void {
    const list = Array.isArray(fields) ? (fields as [string, string][]) : [...fields];
    const max = fieldsMax(list);
    let p = this.scratch(max);
    const owned = p === 0;
    if (owned) {
      p = this.ex.h2_alloc(Math.max(1, max)) >>> 0;
      if (p === 0) throw new RangeError('h2wasm: out of wasm memory');
    }
    const end = this.writeFields(list, p);
    try {
      this.ex.h2_headers_set_all(handle, p, end - p);
    } finally {
      if (owned) this.ex.h2_free(p);
    }
  }

  /** Writes `list` as a flat field list at `p`; returns where it ends. */
  private writeFields(list: readonly (readonly [string, string])[], p: number): number {
    const mem = this.memory();
    let at = p;
    for (const [name, value] of list) {
      const nl = this.encoder.encodeInto(name, mem.subarray(at + 12, at + 12 + 3 * name.length)).written;
      const vl = this.encoder.encodeInto(value, mem.subarray(at + 12 + nl, at + 12 + nl + 3 * value.length)).written;
      writeU32(mem, at, nl);
      writeU32(mem, at + 4, vl);
      writeU32(mem, at + 8, 0);
      at += 12 + nl + vl;
    }
    return at;
  }

  /**
   * The whole response in one call (h2_respond_send_whole): head and body through the
   * scratch buffer. The H2E code, or -1 when they do not fit it (nothing sent: answer the
   * long way).
   */
  respondWhole(
    respond: number,
    status: number,
    fields: readonly (readonly [string, string])[],
    body: Uint8Array | string,
  ): number {
    const bodyMax = typeof body === 'string' ? body.length * 3 : body.length;
    let headAt: number;
    let headLen: number;
    let bodyAt: number;
    const head = this.head;
    if (head.ptr && head.holds(fields)) {
      // The same strings as the last head (a handler's constant headers): encoded already.
      headAt = head.ptr;
      headLen = head.len;
      bodyAt = this.scratch(Math.max(1, bodyMax));
    } else if (fieldsMax(fields) <= HEAD_CACHE && (head.ptr || (head.ptr = this.ex.h2_alloc(HEAD_CACHE) >>> 0))) {
      headAt = head.ptr;
      headLen = this.writeFields(fields, headAt) - headAt;
      head.keep(fields, headLen);
      bodyAt = this.scratch(Math.max(1, bodyMax));
    } else {
      headAt = this.scratch(fieldsMax(fields) + bodyMax);
      if (headAt === 0) return -1;
      bodyAt = this.writeFields(fields, headAt);
      headLen = bodyAt - headAt;
    }
    if (bodyAt === 0) return -1;
    const n = this.put(body, bodyAt, bodyMax);
    return this.ex.h2_respond_send_whole(respond, status, headAt, headLen, bodyAt, n) >>> 0;
  }

  /** The last small response head, encoded in linear memory once, with the strings it was
   *  made from: the next head of the very same strings is not encoded again. */
  private readonly head = new EncodedHead();

  /** Reads a pseudo-header of a request (0 :method … 4 :protocol); '' when absent. */
  pseudo(req: number, which: number): string {
    const ex = this.ex;
    const p = this.scratch(4096);
    if (p !== 0) {
      const n = ex.h2_request_pseudo(req, which, p, 4096) >>> 0;
      if (n === 0xffffffff) return '';
      if (n <= 4096) return this.text(p, n);
    }
    // Busy scratch, or a value longer than 4 KiB: a buffer of the size asked for.
    const len = ex.h2_request_pseudo(req, which, 0, 0) >>> 0;
    if (len === 0xffffffff) return '';
    const buf = ex.h2_alloc(Math.max(1, len)) >>> 0;
    try {
      return this.text(buf, ex.h2_request_pseudo(req, which, buf, len) >>> 0);
    } finally {
      ex.h2_free(buf);
    }
  }

  /** The message of an error handle (and frees it). */
  errorMessage(err: number): { message: string; code: number; reason: number; retryable: boolean } {
    if (err === 0 && this.broken)
      return {
        message: `the module instance trapped (${this.broken.message})`,
        code: H2E.ERROR,
        reason: INTERNAL_ERROR,
        retryable: false,
      };
    const cap = 512;
    const buf = this.ex.h2_alloc(cap) >>> 0;
    const n = this.ex.h2_error_print(err, buf, cap);
    const message = this.text(buf, n);
    this.ex.h2_free(buf);
    const out = {
      message,
      code: this.ex.h2_error_code(err),
      reason: this.ex.h2_error_reason(err),
      retryable: this.ex.h2_error_is_retryable(err) === 1,
    };
    this.ex.h2_error_free(err);
    return out;
  }

  /** What `body` has buffered, copied out in one call (h2_body_read, through the take
   *  area); undefined when nothing is, or more than the area holds (then h2_body_data). */
  readBody(body: number): Uint8Array | undefined {
    const area = this.takeAreaPtr();
    const n = area ? this.ex.h2_body_read(body, area, TAKE_BUFFER) >>> 0 : 0;
    return n === 0 ? undefined : this.bytes(area, n);
  }

  /** Takes a BUF task value as bytes (and frees the buf). */
  takeBuf(buf: number): Uint8Array {
    const out = this.bytes(this.ex.h2_buf_bytes(buf), this.ex.h2_buf_len(buf));
    this.ex.h2_buf_free(buf);
    return out;
  }
}

/** UTF-8 at [at, at+len) of `bytes`. Header names and values are short ASCII: building
 *  the string beats TextDecoder's per-call cost; anything else takes the decoder (same
 *  U+FFFD handling). */
function decodeText(bytes: Uint8Array, at: number, len: number, decoder: TextDecoder): string {
  if (len <= 32) {
    let s = '';
    for (let i = 0; i < len; i++) {
      const c = bytes[at + i];
      if (c >= 0x80) return decoder.decode(bytes.subarray(at, at + len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(at, at + len));
}

/** Largest input staged in the scratch buffer; bigger ones get their own allocation. */
const SCRATCH_MAX = 256 * 1024;
/** Room for taken requests: a batch of a few hundred usual heads. A head larger than
 *  this (the default limit is 64 KiB) is handed over by h2_serverconn_accept instead. */
const TAKE_BUFFER = 32 * 1024;

/** A little-endian u32 of `m` at `at` (the ABI's field lists and records). */
export const readU32 = (m: Uint8Array, at: number): number =>
  (m[at] | (m[at + 1] << 8) | (m[at + 2] << 16) | (m[at + 3] << 24)) >>> 0;
const writeU32 = (m: Uint8Array, at: number, v: number): void => {
  m[at] = v;
  m[at + 1] = v >>> 8;
  m[at + 2] = v >>> 16;
  m[at + 3] = v >>> 24;
};

const now = (): number =>
  typeof performance !== 'undefined' ? performance.timeOrigin + performance.now() : Date.now();

/** The most bytes `list` takes as a flat field list (UTF-8 at most 3 bytes per UTF-16 unit). */
function fieldsMax(list: readonly (readonly [string, string])[]): number {
  let max = 0;
  for (const [name, value] of list) max += 12 + 3 * (name.length + value.length);
  return max;
}

/** Most bytes of a response head kept encoded (EncodedHead). */
const HEAD_CACHE = 1024;

/** A response head's field list in linear memory and the strings it encodes. */
class EncodedHead {
  ptr = 0;
  len = 0;
  private strings: string[] = [];

  /** Whether `fields` are the very strings encoded (compared by value: strings are immutable). */
  holds(fields: readonly (readonly [string, string])[]): boolean {
    const s = this.strings;
    if (s.length !== fields.length * 2) return false;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (f[0] !== s[2 * i] || f[1] !== s[2 * i + 1]) return false;
    }
    return true;
  }

  keep(fields: readonly (readonly [string, string])[], len: number): void {
    const s = this.strings;
    s.length = 0;
    for (const [name, value] of fields) s.push(name, value);
    this.len = len;
  }
}
