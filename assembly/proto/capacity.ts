// Streams waiting for send capacity (the h2 crate's pending-capacity queue): they asked
// for more with reserveCapacity than they were assigned. Served first come, first served
// as room appears — a window opening, the transport taking bytes, a stream ending and
// giving its assignment back. An intrusive list (stream-list.ts).
import { StreamList, CapacityLinks } from './stream-list';

export class CapacityQueue extends StreamList<CapacityLinks> {}
