// The runtime's write allowance: what all transports of one runtime hand their sinks in one
// turn of the event loop is bounded (TURN_WRITE_BYTES), writers that wait take turns, and a
// small answer is not held behind bulk writers. The sinks here take everything at once, as
// a loopback socket with megabytes of kernel buffer does: without the allowance a whole
// body went out in one round while nothing else ran (issue #15's never-read row, where 300
// such connections held the event loop for 2 s).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Runtime, TURN_WRITE_BYTES, SMALL_WRITE, type Transport } from '../../bindings/runtime.js';
import { ClientSession } from '../../bindings/client.js';
import { ServerConnection, type IncomingRequest, type Responder } from '../../bindings/server-conn.js';
import { ROOT } from '../support/wasm.js';

const WINDOW = 2 ** 31 - 1;
const MiB = 1 << 20;

/** Counts turns of the event loop (a setImmediate chain) until stop(). */
class Turns {
  now = 0;
  private running = true;
  constructor() {
    const tick = () => {
      this.now++;
      if (this.running) setImmediate(tick);
    };
    setImmediate(tick);
  }
  stop(): void {
    this.running = false;
  }
}

/** Two transports of one runtime joined back to back; every byte the server side writes is
 *  counted against the turn it was written in. */
function pipe(
  rt: Runtime,
  turns: Turns,
  perTurn: Map<number, number>,
): [{ transport: Transport; io: number }, { transport: Transport; io: number }] {
  let a: Transport | undefined;
  let b: Transport | undefined;
  const ea = rt.transport({
    write: (bytes) => {
      queueMicrotask(() => b!.push(bytes));
      return true;
    },
    end: () => queueMicrotask(() => b!.end()),
  });
  const eb = rt.transport({
    write: (bytes) => {
      perTurn.set(turns.now, (perTurn.get(turns.now) ?? 0) + bytes.length);
      queueMicrotask(() => a!.push(bytes));
      return true;
    },
    end: () => queueMicrotask(() => a!.end()),
  });
  a = ea.transport;
  b = eb.transport;
  return [ea, eb];
}

const body = (n: number, seed: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

function serverAndClient(
  rt: Runtime,
  turns: Turns,
  perTurn: Map<number, number>,
  handler: (req: IncomingRequest, res: Responder) => Promise<void>,
  serverOptions = {},
) {
  const [cEnd, sEnd] = pipe(rt, turns, perTurn);
  const server = new ServerConnection(rt, sEnd.transport, sEnd.io, serverOptions, handler, (e) => {
    throw e;
  });
  const session = new ClientSession(rt, cEnd.transport, cEnd.io, {
    scheme: 'http',
    authority: 'x',
    initialWindowSize: WINDOW,
    connectionWindow: WINDOW,
  });
  return { server, session };
}

/** Reads a response body whole; `progress` hears the running count. */
async function readAll(session: ClientSession, path: string, progress?: (n: number) => void): Promise<Uint8Array> {
  const res = await session.request({ path });
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body) {
    chunks.push(c);
    n += c.length;
    progress?.(n);
  }
  return Buffer.concat(chunks);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const fresh = () => new Runtime(readFileSync(join(ROOT, 'build', 'h2wasm.wasm')));

describe('the write allowance of a runtime', () => {
  it('hands the sinks at most TURN_WRITE_BYTES per turn, and a 16 MiB body arrives whole', async () => {
    const rt = fresh();
    const turns = new Turns();
    const perTurn = new Map<number, number>();
    const big = body(16 * MiB, 7);
    const { session } = serverAndClient(rt, turns, perTurn, async (_req, res) => {
      await res.respond(200, [], big);
    });
    const got = await readAll(session, '/big');
    turns.stop();
    expect(got.length).toBe(big.length);
    expect(sha(got)).toBe(sha(big));
    // A test turn can hold the end of one of the runtime's turns and the start of the next.
    const most = Math.max(...perTurn.values());
    expect(most, 'bytes written in one turn of the event loop').toBeLessThanOrEqual(
      2 * (TURN_WRITE_BYTES + SMALL_WRITE),
    );
    expect(perTurn.size, 'turns the body took').toBeGreaterThanOrEqual(
      (16 * MiB) / (2 * (TURN_WRITE_BYTES + SMALL_WRITE)),
    );
    await session.close();
  });

  it('lets two bulk writers take turns', async () => {
    const rt = fresh();
    const turns = new Turns();
    const perTurn = new Map<number, number>();
    const big = body(16 * MiB, 1);
    const handler = async (_req: IncomingRequest, res: Responder) => {
      await res.respond(200, [], big);
    };
    // Capacity far past the allowance: one drive of a connection could write megabytes (the
    // sinks here have no room() to stop it), so only the turn order keeps them fair.
    const ample = { capacityHighWater: 16 * MiB, maxStreamSendBuffer: 16 * MiB, maxConnectionSendBuffer: 16 * MiB };
    const one = serverAndClient(rt, turns, perTurn, handler, ample);
    const two = serverAndClient(rt, turns, perTurn, handler, ample);
    const received = [0, 0];
    let otherAtFirstEnd = -1;
    const finish = (i: number) => (got: Uint8Array) => {
      if (otherAtFirstEnd < 0) otherAtFirstEnd = received[1 - i];
      return got.length;
    };
    const lengths = await Promise.all([
      readAll(one.session, '/a', (n) => {
        received[0] = n;
      }).then(finish(0)),
      readAll(two.session, '/b', (n) => {
        received[1] = n;
      }).then(finish(1)),
    ]);
    turns.stop();
    expect(lengths).toEqual([big.length, big.length]);
    // Taking turns, the second is nearly done when the first ends (first come, first served
    // would have it at 0).
    expect(otherAtFirstEnd, 'bytes the other connection had when the first finished').toBeGreaterThan(12 * MiB);
    await Promise.all([one.session.close(), two.session.close()]);
  });

  it('does not hold a small answer behind bulk writers', async () => {
    // Sixteen connections each take the whole allowance in one write: a small answer that
    // waited its turn behind them would take about sixteen turns.
    const rt = fresh();
    const turns = new Turns();
    const perTurn = new Map<number, number>();
    const big = body(32 * MiB, 3);
    const bulk = Array.from({ length: 16 }, () =>
      serverAndClient(rt, turns, perTurn, async (_req, res) => {
        await res.respond(200, [], big).catch(() => {});
      }),
    );
    const small = serverAndClient(rt, turns, perTurn, async (_req, res) => {
      await res.respond(200, [], 'small\n');
    });
    await Promise.all([small.session.ready, ...bulk.map((b) => b.session.ready)]);
    const received = bulk.map(() => 0);
    const downloads = bulk.map((b, i) =>
      b.session
        .request({ path: '/big' })
        .then(async (res) => {
          for await (const c of res.body) received[i] += c.length;
        })
        .catch(() => {}),
    );
    // Once every bulk body flows, ask for the small one, several times.
    while (received.some((n) => n === 0)) await new Promise((r) => setImmediate(r));
    const waited: number[] = [];
    for (let i = 0; i < 5; i++) {
      const asked = turns.now;
      const got = await readAll(small.session, '/small');
      expect(new TextDecoder().decode(got)).toBe('small\n');
      waited.push(turns.now - asked);
    }
    expect(Math.max(...waited), 'turns a small answer took').toBeLessThanOrEqual(3);
    expect(
      received.every((n) => n < big.length),
      'the bulk bodies were still flowing',
    ).toBe(true);
    turns.stop();
    for (const b of bulk) b.session.destroy();
    await small.session.close();
    await Promise.all(downloads);
  });
});
