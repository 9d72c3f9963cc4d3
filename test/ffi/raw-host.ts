// A test host that drives only the raw exports and imports of build/h2wasm.wasm, the way
// hyper's capi/examples/client.c does: io callbacks that copy bytes or take a waker and
// answer PENDING, an executor polled until it returns no task, tasks told apart by
// userdata. No high-level binding is involved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { ROOT } from '../support/wasm.js';

// The ABI's numbers, from the one TypeScript table (checked against the header).
import { H2_IO, TASK, H2_PSEUDO as PSEUDO, H2_OPT as OPT } from '../../bindings/abi.js';
export { TASK, PSEUDO, OPT };

export const PENDING = H2_IO.PENDING;
export const IO_ERROR = H2_IO.ERROR;
/** Bytes the host lets Node's socket buffer before it answers PENDING (its backpressure). */
const WRITE_BUFFER_LIMIT = 1 << 20;

/** One transport as the io callbacks see it. */
class Transport {
  chunks: Buffer[] = [];
  eof = false;
  readWaker = 0;
  writeWaker = 0;
  blocked = false;
  constructor(
    readonly host: RawHost,
    readonly socket: Socket,
  ) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.wakeRead();
    });
    socket.on('end', () => {
      this.eof = true;
      this.wakeRead();
    });
    socket.on('close', () => {
      this.eof = true;
      this.wakeRead();
    });
    socket.on('error', () => {
      this.eof = true;
      this.wakeRead();
    });
    socket.on('drain', () => {
      this.blocked = false;
      if (this.writeWaker) {
        this.host.ex.h2_waker_wake(this.writeWaker);
        this.writeWaker = 0;
      }
      this.host.kick();
    });
  }
  private wakeRead() {
    if (this.readWaker) {
      this.host.ex.h2_waker_wake(this.readWaker);
      this.readWaker = 0;
    }
    this.host.kick();
  }
}

/** A data source for h2_body_new bodies: bytes handed out in pieces. */
export interface Source {
  data: Uint8Array;
  at: number;
  sent: number;
  transport?: Transport;
}

export class RawHost {
  readonly ex: Record<string, any> & { memory: WebAssembly.Memory };
  readonly exec: number;
  private transports = new Map<number, Transport>();
  private sources = new Map<number, Source>();
  private nextId = 1;
  private kickResolve: (() => void) | null = null;
  foreach: [string, string][] = [];
  stopped = false;
  informational: number[] = [];
  zeroCopyFrames = 0;
  /** The userdata of the last io made, for zero-copy sources on it. */
  lastIo = 0;

  constructor() {
    const bytes = readFileSync(join(ROOT, 'build', 'h2wasm.wasm'));
    const host = {
      io_read: (userdata: number, ctx: number, buf: number, len: number) => {
        const t = this.transports.get(userdata);
        if (!t) return IO_ERROR;
        if (t.chunks.length === 0) {
          if (t.eof) return 0;
          if (t.readWaker) this.ex.h2_waker_free(t.readWaker);
          t.readWaker = this.ex.h2_context_waker(ctx);
          return PENDING;
        }
        let n = 0;
        const mem = new Uint8Array(this.ex.memory.buffer, buf >>> 0, len >>> 0);
        while (n < len && t.chunks.length > 0) {
          const c = t.chunks[0];
          const take = Math.min(c.length, len - n);
          mem.set(c.subarray(0, take), n);
          n += take;
          if (take === c.length) t.chunks.shift();
          else t.chunks[0] = c.subarray(take);
        }
        return n;
      },
      io_write: (userdata: number, ctx: number, buf: number, len: number) => {
        const t = this.transports.get(userdata);
        if (!t || t.socket.destroyed) return IO_ERROR;
        if (t.blocked) {
          if (t.writeWaker) this.ex.h2_waker_free(t.writeWaker);
          t.writeWaker = this.ex.h2_context_waker(ctx);
          return PENDING;
        }
        const copy = Buffer.from(new Uint8Array(this.ex.memory.buffer, buf >>> 0, len >>> 0));
        t.socket.write(copy);
        if (t.socket.writableLength > WRITE_BUFFER_LIMIT) t.blocked = true;
        return len;
      },
      body_read: (userdata: number, ctx: number, buf: number, len: number) => {
        const s = this.sources.get(userdata);
        if (!s) return IO_ERROR;
        if (s.transport) {
          // Zero-copy source: announce what is left; send_data writes it from our memory.
          const left = s.data.length - s.at;
          if (left === 0) return 0;
          const n = Math.min(left, 0x7fffffff);
          s.at += n;
          return (0x80000000 | n) >>> 0;
        }
        const n = Math.min(len, s.data.length - s.at);
        if (n === 0) return 0;
        new Uint8Array(this.ex.memory.buffer, buf >>> 0, n).set(s.data.subarray(s.at, s.at + n));
        s.at += n;
        return n;
      },
      send_data: (
        userdata: number,
        ctx: number,
        prefix: number,
        prefixLen: number,
        dataLen: number,
        padLen: number,
      ) => {
        // Zero-copy: the frame prefix comes from wasm memory, the payload from our own.
        const s = this.sources.get(userdata);
        const t = s?.transport;
        if (!s || !t || t.socket.destroyed) return IO_ERROR;
        if (t.blocked) {
          if (t.writeWaker) this.ex.h2_waker_free(t.writeWaker);
          t.writeWaker = this.ex.h2_context_waker(ctx);
          return PENDING;
        }
        const head = Buffer.from(new Uint8Array(this.ex.memory.buffer, prefix >>> 0, prefixLen >>> 0));
        const payload = s.data.subarray(s.sent, s.sent + dataLen);
        s.sent += dataLen;
        this.zeroCopyFrames++;
        t.socket.write(Buffer.concat([head, payload, Buffer.alloc(padLen)]));
        if (t.socket.writableLength > WRITE_BUFFER_LIMIT) t.blocked = true;
        return 0;
      },
      headers_foreach: (userdata: number, name: number, nameLen: number, value: number, valueLen: number) => {
        const dec = new TextDecoder();
        this.foreach.push([dec.decode(this.bytes(name, nameLen)), dec.decode(this.bytes(value, valueLen))]);
        return 0;
      },
      informational: (userdata: number, response: number) => {
        this.informational.push(this.ex.h2_response_status(response));
      },
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { h2_host: host });
    this.ex = instance.exports as any;
    this.exec = this.ex.h2_executor_new();
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer, ptr >>> 0, len >>> 0).slice();
  }

  /** Runs `fn(ptr, len)` with `data` copied into wasm memory. */
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

  io(socket: Socket): number {
    const id = this.nextId++;
    this.transports.set(id, new Transport(this, socket));
    const io = this.ex.h2_io_new();
    this.ex.h2_io_set_userdata(io, id);
    this.lastIo = id;
    return io;
  }

  /** A data-source body; with `zeroCopyOver` (the io's socket) it answers NO_COPY and
   *  writes payloads itself through send_data. */
  source(data: Uint8Array, zeroCopyOver?: number): number {
    const id = this.nextId++;
    this.sources.set(id, {
      data,
      at: 0,
      sent: 0,
      transport: zeroCopyOver ? this.transports.get(zeroCopyOver) : undefined,
    });
    const body = this.ex.h2_body_new();
    this.ex.h2_body_set_userdata(body, id);
    return body;
  }

  push(task: number, userdata: number): void {
    if (!task) throw new Error('push: no task (0 handle)');
    this.ex.h2_task_set_userdata(task, userdata);
    if (this.ex.h2_executor_push(this.exec, task) !== 0) throw new Error('push refused');
  }

  /** Ends any run() loop at its next round. */
  stop(): void {
    this.stopped = true;
    this.kick();
  }

  kick(): void {
    const r = this.kickResolve;
    this.kickResolve = null;
    r?.();
  }

  /** Polls until `onTask` returns true (or throws); waits for io between rounds. Bounded by `ms`. */
  async run(onTask: (task: number, type: number, userdata: number) => boolean | void, ms = 20000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      this.ex.h2_executor_set_time(this.exec, BigInt(Date.now()));
      let task: number;
      while ((task = this.ex.h2_executor_poll(this.exec)) !== 0) {
        const done = onTask(task, this.ex.h2_task_type(task), this.ex.h2_task_userdata(task));
        if (done) return;
      }
      if (this.stopped) return;
      if (Date.now() > deadline) throw new Error('run: timed out');
      await new Promise<void>((resolve) => {
        this.kickResolve = resolve;
        setTimeout(resolve, 20);
      });
    }
  }

  errorMessage(err: number): string {
    const buf = this.ex.h2_alloc(256);
    const n = this.ex.h2_error_print(err, buf, 256);
    const s = new TextDecoder().decode(this.bytes(buf, n));
    this.ex.h2_free(buf);
    return s;
  }

  headers(handle: number): [string, string][] {
    this.foreach = [];
    this.ex.h2_headers_foreach(handle, 0);
    return this.foreach;
  }

  setHeader(headers: number, name: string, value: string): void {
    this.with(name, (np, nl) => this.with(value, (vp, vl) => this.ex.h2_headers_add(headers, np, nl, vp, vl)));
  }

  pseudo(req: number, which: number): string {
    const buf = this.ex.h2_alloc(1024);
    const n = this.ex.h2_request_pseudo(req, which, buf, 1024) >>> 0;
    const s = n === 0xffffffff ? '' : new TextDecoder().decode(this.bytes(buf, Math.min(n, 1024)));
    this.ex.h2_free(buf);
    return s;
  }

  /** Takes a buf task's bytes and frees the buf. */
  takeBuf(task: number): Uint8Array {
    const buf = this.ex.h2_task_value(task);
    const out = this.bytes(this.ex.h2_buf_bytes(buf), this.ex.h2_buf_len(buf));
    this.ex.h2_buf_free(buf);
    return out;
  }
}
