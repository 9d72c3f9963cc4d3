// Send capacity (the h2 crate's reserve_capacity / capacity / poll_capacity): what a
// stream is assigned is held for it on the connection — never offered to another stream
// too — and capacity follows the transport as well as the windows: it is handed out only
// while the connection holds less than capacityHighWater unwritten. What serve() pulls
// from a response body follows it, so a peer that reads nothing holds little.
import { describe, it, expect } from 'vitest';
import { harness, pump, connectedPair, EV, RESULT, POST } from './engine.js';
import { windowUpdate } from '../support/frames.js';

const ex = harness();
const HIGH = 16384;

/** A client with two request streams open and their heads delivered. */
function twoStreams(clientOptions = {}) {
  const { client, server } = connectedPair(
    ex,
    { capacityHighWater: HIGH, ...clientOptions },
    { initialWindowSize: 1 << 20 },
  );
  const a = client.open(POST);
  const b = client.open(POST);
  pump(client, server);
  return { client, server, a, b };
}

describe('send capacity', () => {
  it('two streams are never assigned the same room', () => {
    const { client, a, b } = twoStreams();
    client.reserve(a, 12_000);
    client.reserve(b, 12_000);
    expect(client.capacity(a)).toBe(12_000);
    expect(client.capacity(b)).toBe(HIGH - 12_000);
  });

  it('reserve is not additive, and 0 gives the assignment back to the streams waiting', () => {
    const { client, a, b } = twoStreams();
    client.reserve(a, 12_000);
    client.reserve(a, 5000);
    expect(client.capacity(a)).toBe(5000);
    client.reserve(b, 12_000);
    expect(client.capacity(b)).toBe(HIGH - 5000);
    client.reserve(a, 0);
    expect(client.capacity(a)).toBe(0);
    expect(client.capacity(b)).toBe(12_000);
    client.drainLog();
    expect(client.of(EV.CAPACITY, b).length).toBeGreaterThanOrEqual(2);
  });

  it('a stream that ends gives its assignment back', () => {
    const { client, a, b } = twoStreams();
    client.reserve(a, HIGH);
    client.reserve(b, 4000);
    expect(client.capacity(b)).toBe(0);
    client.reset(a, 8);
    expect(client.capacity(b)).toBe(4000);
  });

  it('sendData uses the assignment; the rest is assigned as the transport takes bytes', () => {
    const { client, a } = twoStreams();
    client.reserve(a, 100_000);
    expect(client.capacity(a)).toBe(HIGH);
    expect(client.sendData(a, new Uint8Array(HIGH))).toBe(RESULT.OK);
    expect(client.capacity(a)).toBe(0);
    // Framed into the output, not yet written: the connection still holds it all.
    client.ex.engine_produce(client.e);
    expect(client.capacity(a)).toBe(0);
    client.takeOutput(8000); // the transport takes 8000 bytes
    expect(client.capacity(a)).toBeGreaterThanOrEqual(8000 - 9);
    expect(client.capacity(a)).toBeLessThanOrEqual(8000);
  });

  it('follows the stream window: nothing is assigned while it is shut, then what it opens', () => {
    const { client, server } = connectedPair(ex, {}, { initialWindowSize: 0 });
    const a = client.open(POST);
    pump(client, server);
    client.reserve(a, 1000);
    expect(client.capacity(a)).toBe(0);
    client.receive(windowUpdate(1, 10)); // the peer opens stream 1's window by 10
    expect(client.capacity(a)).toBe(10);
  });
});
