// What the attack suites against serve() over real sockets share (floods.test.ts,
// attacks.test.ts): a raw TCP attacker that writes exact frames (frames.ts builders,
// HPACK from hpack.js) and collects what comes back, a well-behaved node:http2 client on
// another connection, and a sampler of the wasm heap.
import net from 'node:net';
import http2 from 'node:http2';
import { runtime } from '../../bindings/index.js';
import { FRAME, PREFACE, PeerHpack, concat, settings, parseFrames, type Frame } from '../support/frames.js';

/** Bytes in use in the module's heap (after a full GC). */
export const heap = () => runtime().ex.h2_heap_used() >>> 0;

/** A node:http2 session to `url`, once connected. */
export async function goodClient(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** One GET on a well-behaved session: its status and body (cancelled after `timeoutMs`). */
export function get(
  session: http2.ClientHttp2Session,
  path = '/',
  timeoutMs = 0,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    if (session.destroyed || session.closed) return reject(new Error('session gone'));
    const req = session.request({ ':path': path });
    let timedOut = false;
    if (timeoutMs > 0)
      req.setTimeout(timeoutMs, () => {
        timedOut = true;
        req.close(http2.constants.NGHTTP2_CANCEL);
      });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
    // Closed without its end: cancelled by the timeout, or its session went away (node ends
    // the stream with CANCEL and no 'error' then). After 'end' this rejects nothing.
    req.on('close', () =>
      reject(
        new Error(
          timedOut ? `no answer within ${timeoutMs} ms` : `stream closed without an answer (RST ${req.rstCode})`,
        ),
      ),
    );
    req.end();
  });
}

/**
 * A well-behaved client asking for `path` on its own session every 50 ms until stop(): the
 * latency of every answer that came with status 200 and `body`, and what went wrong.
 */
export class GoodTraffic {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  asked = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly inflight = new Set<Promise<void>>();
  constructor(session: http2.ClientHttp2Session, path: string, body: string, onTick?: () => void) {
    this.timer = setInterval(() => {
      this.asked++;
      const t0 = performance.now();
      const p = get(session, path, 10_000)
        .then(
          (r) => {
            if (r.status === 200 && r.body === body) this.latencies.push(performance.now() - t0);
            else this.failures.push(`${r.status} ${r.body}`);
          },
          (e) => {
            this.failures.push(String(e));
          },
        )
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
      onTick?.();
    }, 50);
  }
  get ok(): number {
    return this.latencies.length;
  }
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inflight);
  }
}

/** Samples the heap every `everyMs` until stop(): the baseline, the peak, and the value at the end. */
export class HeapWatch {
  readonly baseline = heap();
  peak = this.baseline;
  private readonly timer: ReturnType<typeof setInterval>;
  constructor(everyMs = 1) {
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    const h = heap();
    this.peak = Math.max(this.peak, h);
    return h;
  }
  stop(): { baseline: number; peak: number; after: number } {
    clearInterval(this.timer);
    const after = this.sample();
    return { baseline: this.baseline, peak: this.peak, after };
  }
}

const live = new Set<Attacker>();

/** A raw HTTP/2 client on its own TCP connection: sends exact bytes, parses what comes back. */
export class Attacker {
  readonly hp = new PeerHpack();
  readonly frames: Frame[] = [];
  /** Bytes received, frame headers included. */
  received = 0;
  closed = false;
  private buf: Uint8Array = new Uint8Array(0);
  private waiters = new Set<() => void>();

  private constructor(private readonly sock: net.Socket) {
    live.add(this);
    sock.on('data', (d: Buffer) => {
      this.received += d.length;
      const { frames, rest } = parseFrames(concat(this.buf, d));
      this.buf = rest;
      this.frames.push(...frames);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {}); // a reset after GOAWAY is fine; 'close' follows
  }

  /** Connects to 127.0.0.1:`port`; `paused` leaves what the server writes unread (in the kernel) until resume(). */
  static open(port: number, paused = false): Promise<Attacker> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      const a = new Attacker(sock);
      if (paused) sock.pause();
      sock.once('connect', () => resolve(a));
      sock.once('error', reject);
    });
  }

  /** Closes every attacker still open (afterEach). */
  static destroyAll(): void {
    for (const a of live) a.destroy();
  }

  /** Writes `parts` in one write; resolves once the socket has taken them. */
  send(...parts: Uint8Array[]): Promise<void> {
    return new Promise((resolve) => {
      this.sock.write(concat(...parts), () => resolve());
    });
  }

  /** The client preface, SETTINGS with `entries`, then `parts`, in one write. */
  preface(entries: [number, number][] = [], ...parts: Uint8Array[]): Promise<void> {
    return this.send(PREFACE, settings(entries), ...parts);
  }

  pause(): void {
    this.sock.pause();
  }
  resume(): void {
    this.sock.resume();
  }

  /** Resolves once `done()` holds (checked whenever something arrives); rejects after `ms`. */
  until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`attacker: no ${what} within ${ms} ms`));
      }, ms);
      this.waiters.add(check);
    });
  }

  /** Waits for GOAWAY or the end of the connection. */
  ended(ms = 10_000): Promise<void> {
    return this.until(() => this.goaway() !== undefined || this.closed, 'GOAWAY or close', ms);
  }

  goaway(): Frame | undefined {
    return this.frames.find((f) => f.type === FRAME.GOAWAY);
  }
  of(type: number, streamId?: number): Frame[] {
    return this.frames.filter((f) => f.type === type && (streamId === undefined || f.streamId === streamId));
  }
  rst(streamId: number): Frame | undefined {
    return this.of(FRAME.RST_STREAM, streamId)[0];
  }

  destroy(): void {
    live.delete(this);
    this.sock.destroy();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
