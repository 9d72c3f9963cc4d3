// A poll round runs at most RUN_BATCH continuations: responses that arrive together are
// delivered in groups, and the requests the first groups set off leave before the last
// responses are delivered (the server works on them meanwhile). Observed on the client's
// socket writes, against a minimal server that answers 100 requests in one write.
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import { connect } from '../../bindings/node.js';
import { RUN_BATCH } from '../../bindings/runtime.js';
import { FRAME, FLAG, PREFACE, settings, settingsAck, headers, parseFrames, concat } from '../support/frames.js';

/** HPACK: indexed field 8 of the static table, ":status: 200". */
const STATUS_200 = Uint8Array.of(0x88);

/** Answers every request with a bare 200; the first `batch` requests all in one write. */
function batchServer(batch: number) {
  const sockets = new Set<net.Socket>();
  let answeredBatch = false;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buf: Uint8Array = new Uint8Array(0);
    let prefaceSeen = false;
    const waiting: number[] = [];
    socket.write(settings());
    socket.on('data', (d: Buffer) => {
      buf = concat(buf, d);
      if (!prefaceSeen) {
        if (buf.length < PREFACE.length) return;
        buf = buf.subarray(PREFACE.length);
        prefaceSeen = true;
      }
      const { frames, rest } = parseFrames(buf);
      buf = rest;
      for (const f of frames) {
        if (f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)) socket.write(settingsAck());
        if (f.type === FRAME.HEADERS) waiting.push(f.streamId);
      }
      if (!answeredBatch && waiting.length < batch) return;
      answeredBatch = true;
      socket.write(concat(...waiting.splice(0).map((id) => headers(id, STATUS_200, true))));
    });
  });
  return { server, sockets };
}

describe('continuations per poll round', () => {
  it('100 responses in one read: the requests they set off leave in groups, not in one write after the last', async () => {
    const STREAMS = 100;
    const { server, sockets } = batchServer(STREAMS);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const session = connect(`http://127.0.0.1:${port}`);
    const write = net.Socket.prototype.write;
    let delivered = 0;
    // Requests the client wrote before the last response of the batch was delivered.
    let writesBeforeLastDelivery = 0;
    try {
      await session.ready;
      net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
        if (!sockets.has(this) && delivered > 0 && delivered < STREAMS) writesBeforeLastDelivery++;
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof write;
      const one = async () => {
        const res = await session.request({ path: '/' });
        await res.arrayBuffer();
        return res.status;
      };
      const statuses = await Promise.all(
        Array.from({ length: STREAMS }, async () => {
          const first = await one();
          delivered++;
          // Each delivered response sets off one more request.
          return [first, await one()];
        }),
      );
      expect(statuses.flat()).toEqual(Array.from({ length: 2 * STREAMS }, () => 200));
    } finally {
      net.Socket.prototype.write = write;
      session.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
    // Delivered RUN_BATCH continuations at a time, with the drive (the writes) before each
    // group: at least two writes went out while the batch was still being delivered.
    expect(RUN_BATCH).toBeLessThan(STREAMS);
    expect(writesBeforeLastDelivery).toBeGreaterThanOrEqual(2);
  });
});
