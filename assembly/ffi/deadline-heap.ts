// The executor's connections by next deadline: a binary min-heap, each connection knowing
// its place (ConnLike.heapIndex), so a deadline moves in O(log n) and the earliest is at
// the top. set_time takes off what is due; next_deadline reads the top.
import { ConnLike } from './conn-driver-base';

export class DeadlineHeap {
  private items: ConnLike[] = [];

  /** The connection with the earliest deadline, or null. */
  get top(): ConnLike | null {
    return this.items.length > 0 ? unchecked(this.items[0]) : null;
  }

  /** Puts `c` at `deadline`, moves it there, or (deadline < 0) takes it out. */
  set(c: ConnLike, deadline: i64): void {
    if (deadline < 0) {
      this.remove(c);
      c.deadline = -1;
      return;
    }
    const old = c.deadline;
    c.deadline = deadline;
    if (c.heapIndex < 0) {
      c.heapIndex = this.items.length;
      this.items.push(c);
      this.up(c.heapIndex);
    } else if (deadline < old) {
      this.up(c.heapIndex);
    } else if (deadline > old) {
      this.down(c.heapIndex);
    }
  }

  remove(c: ConnLike): void {
    const i = c.heapIndex;
    if (i < 0) return;
    c.heapIndex = -1;
    const items = this.items;
    const last = items.pop();
    if (i == items.length) return;
    unchecked((items[i] = last));
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: i32): void {
    const items = this.items;
    const c = unchecked(items[i]);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = unchecked(items[parent]);
      if (p.deadline <= c.deadline) break;
      unchecked((items[i] = p));
      p.heapIndex = i;
      i = parent;
    }
    unchecked((items[i] = c));
    c.heapIndex = i;
  }

  private down(i: i32): void {
    const items = this.items;
    const n = items.length;
    const c = unchecked(items[i]);
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && unchecked(items[child + 1]).deadline < unchecked(items[child]).deadline) child++;
      const ch = unchecked(items[child]);
      if (ch.deadline >= c.deadline) break;
      unchecked((items[i] = ch));
      ch.heapIndex = i;
      i = child;
    }
    unchecked((items[i] = c));
    c.heapIndex = i;
  }

  clear(): void {
    const items = this.items;
    for (let i = 0; i < items.length; i++) unchecked(items[i]).heapIndex = -1;
    items.length = 0;
  }
}
