// Our streams waiting for a concurrency slot (assembly/proto/pending-queue.ts): first come
// first served, counted, and a stream reset while it waits leaves from anywhere in O(1).
// How the engine uses it (maxPendingStreams, opening as slots free): test/proto/settings-limits.test.ts.
import { describe, it, expect } from 'vitest';
import { harness } from './engine.js';

const ex = harness();
const drain = () => {
  const out: number[] = [];
  for (let i = ex.pq_dequeue(); i >= 0; i = ex.pq_dequeue()) out.push(i);
  return out;
};

describe('PendingQueue', () => {
  it('gives streams back in the order they came, and counts them', () => {
    ex.pq_new(5);
    for (const i of [3, 0, 4, 1]) ex.pq_enqueue(i);
    expect(ex.pq_count()).toBe(4);
    expect(drain()).toEqual([3, 0, 4, 1]);
    expect(ex.pq_count()).toBe(0);
    expect(ex.pq_dequeue()).toBe(-1);
  });

  it('a stream that waits already is not queued twice', () => {
    ex.pq_new(2);
    ex.pq_enqueue(1);
    ex.pq_enqueue(1);
    expect(ex.pq_count()).toBe(1);
    expect(drain()).toEqual([1]);
  });

  it('lets a stream leave from the head, the middle or the tail; leaving twice is nothing', () => {
    ex.pq_new(6);
    for (let i = 0; i < 6; i++) ex.pq_enqueue(i);
    ex.pq_leave(0);
    ex.pq_leave(3);
    ex.pq_leave(5);
    ex.pq_leave(3);
    expect(ex.pq_count()).toBe(3);
    expect(ex.pq_waits(3)).toBe(0);
    expect(ex.pq_waits(2)).toBe(1);
    expect(drain()).toEqual([1, 2, 4]);
  });

  it('a stream that left can be queued again, at the tail', () => {
    ex.pq_new(3);
    for (let i = 0; i < 3; i++) ex.pq_enqueue(i);
    ex.pq_leave(0);
    ex.pq_enqueue(0);
    expect(drain()).toEqual([1, 2, 0]);
  });
});
