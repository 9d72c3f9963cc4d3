// The runtime's transports and the Node adapter's sockets at the edges a long-running
// server meets: read backpressure when the engine stops reading, a transport that is over,
// and endSocket with a peer that reads nothing, reads slowly, or half-closes.
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { runtime } from '../../bindings/index.js';
import { READ_HIGH_WATER } from '../../bindings/runtime.js';
import { endSocket } from '../../bindings/node.js';
import { until } from './support.js';

const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** A connected pair on loopback: [our end, the peer's end]. */
async function pair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  servers.push(server);
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ours = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const peer = await accepted;
  await new Promise((r) => ours.once('connect', r));
  sockets.push(ours, peer);
  return [ours, peer];
}

describe('transports', () => {
  it('ask their socket to pause at READ_HIGH_WATER and to resume once drained', () => {
    const rt = runtime();
    const { transport, io } = rt.transport({ write: () => true, end: () => {} });
    let resumed = 0;
    transport.onDrain = () => {
      resumed++;
    };
    expect(transport.push(new Uint8Array(READ_HIGH_WATER - 1))).toBe(true);
    expect(transport.push(new Uint8Array(1))).toBe(false);
    expect(transport.paused).toBe(true);
    // The connection closed cleanly before the engine read anything: the socket reads on,
    // and what arrives is thrown away (the peer's FIN must still be seen).
    rt.dropTransport(transport);
    expect(resumed).toBe(1);
    expect(transport.push(new Uint8Array(1 << 20))).toBe(true);
    rt.ex.h2_io_free(io);
  });

  it('stop reading for good when their connection failed', () => {
    const rt = runtime();
    const { transport, io } = rt.transport({ write: () => true, end: () => {} });
    let resumed = 0;
    transport.onDrain = () => {
      resumed++;
    };
    rt.dropTransport(transport, true);
    expect(transport.push(new Uint8Array(100))).toBe(false);
    expect(resumed).toBe(0);
    rt.ex.h2_io_free(io);
  });
});

describe('endSocket', () => {
  it('destroys a socket whose peer takes nothing within the linger', async () => {
    const [ours, peer] = await pair();
    peer.pause();
    ours.write(new Uint8Array(32 << 20)); // far more than the kernel buffers hold
    const t0 = Date.now();
    endSocket(ours, 200);
    await until('socket destroyed', () => ours.destroyed, 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('gives a slow reader its patience to take what is left, and it closes cleanly', async () => {
    const [ours, peer] = await pair();
    const size = 8 << 20;
    let got = 0;
    peer.pause();
    peer.on('data', (d: Buffer) => {
      got += d.length;
      peer.pause();
    });
    for (let at = 0; at < size; at += 64 << 10) ours.write(new Uint8Array(64 << 10));
    endSocket(ours, 10_000);
    const ended = new Promise<void>((r) => peer.once('end', () => r()));
    const timer = setInterval(() => peer.resume(), 10); // about 6 MB/s
    try {
      await until('every byte read', () => got === size, 9000);
      await ended;
    } finally {
      clearInterval(timer);
    }
    expect(got).toBe(size);
  });

  it('still destroys a socket Node ended itself when the peer half-closed', async () => {
    const [ours, peer] = await pair();
    peer.pause();
    ours.write(new Uint8Array(32 << 20));
    peer.end(); // FIN from the peer: Node ends our side (allowHalfOpen is false)
    await until('ours ended', () => ours.writableEnded, 5000);
    endSocket(ours, 200);
    await until('socket destroyed', () => ours.destroyed, 5000);
  });
});
