// The dynamic table (RFC 7541 §2.3.2, §4): a FIFO of entries whose size counts
// name + value + 32 octets. Entries live in unmanaged memory, without an object or a
// string per entry:
// - their octets (name then value) in a ring buffer of `capacity` octets, which always
//   suffices since the octets of the live entries total at most size - 32 × count;
// - a ring of fixed 32-octet descriptors, one per entry, addressed by a sequence number
//   that grows by one per insertion (the newest entry has dynamic index 1).
// An encoder's table also keeps two hash chains per entry (by name, by name + value) with
// bucket heads, so finding a match takes a few probes, not a scan. Chains run from newer to
// older entries and evicted entries are never unlinked: a walk stops at the first entry
// that is no longer live, and every hit is confirmed by comparing the octets.

// Descriptor fields (offsets in octets).
import { copyBytes } from './copy';

const D_OFF: usize = 0; // offset of the name in the data ring
const D_NAME_LEN: usize = 4;
const D_VALUE_LEN: usize = 8;
const D_NAME_HASH: usize = 12;
const D_FIELD_HASH: usize = 16;
const D_NEXT_NAME: usize = 20; // sequence number of the next older entry in the name chain
const D_NEXT_FIELD: usize = 24;
const D_SHIFT: usize = 5; // 32 octets per descriptor

/** RFC 7541 §4.1: the overhead counted per entry. */
export const ENTRY_OVERHEAD: u32 = 32;

export class DynamicTable {
  /** Current size in RFC units (Σ name + value + 32). */
  size: u32 = 0;
  /** Current maximum size (set by size updates). */
  maxSize: u32 = 0;
  /** Number of entries. */
  count: u32 = 0;
  /**
   * The size the memory is laid out for. It grows with the entries actually held (doubling,
   * up to maxSize), not with maxSize: a peer allowed a huge table costs only what it fills.
   */
  capacity: u32 = 0;

  private data: usize = 0;
  private dataCap: u32 = 0;
  /** Offset where the next entry's octets go. */
  private dataTail: u32 = 0;
  private descs: usize = 0;
  private descMask: u32 = 0;
  /** Sequence number the next insertion gets; entry seq s has index nextSeq - s. */
  private nextSeq: u32 = 1;

  private heads: usize = 0; // name heads then field heads, u32 sequence numbers
  private headMask: u32 = 0;

  /** `hashed`: keep the lookup chains (the encoder's table); the decoder's does not need them. */
  constructor(
    maxSize: u32,
    public readonly hashed: bool,
  ) {
    this.layout(min<u32>(maxSize, 4096));
    this.maxSize = maxSize;
  }

  /** Frees the memory; the table must not be used afterwards. */
  dispose(): void {
    heap.free(this.data);
    heap.free(this.descs);
    if (this.heads != 0) heap.free(this.heads);
    this.data = 0;
    this.descs = 0;
    this.heads = 0;
    this.count = 0;
    this.size = 0;
  }

  /** Sets the maximum size, evicting as needed (RFC 7541 §4.3). */
  setMaxSize(n: u32): void {
    this.maxSize = n;
    while (this.size > n) this.evictOldest();
  }

  // ---- lookup by index (1 = newest) --------------------------------------------------

  /** Descriptor address of the entry at dynamic index `i` (1 ≤ i ≤ count). */
  @inline entry(i: u32): usize {
    return this.descs + ((<usize>((this.nextSeq - i) & this.descMask)) << D_SHIFT);
  }
  @inline nameLen(e: usize): u32 {
    return load<u32>(e, D_NAME_LEN);
  }
  @inline valueLen(e: usize): u32 {
    return load<u32>(e, D_VALUE_LEN);
  }
  /** Copies the entry's name to `dst`. */
  @inline copyName(e: usize, dst: usize): void {
    this.copyOut(load<u32>(e, D_OFF), load<u32>(e, D_NAME_LEN), dst);
  }
  /** Copies the entry's value to `dst`. */
  @inline copyValue(e: usize, dst: usize): void {
    this.copyOut(this.wrap(load<u32>(e, D_OFF) + load<u32>(e, D_NAME_LEN)), load<u32>(e, D_VALUE_LEN), dst);
  }
  /** Copies name then value, adjacent, to `dst`. */
  @inline copyField(e: usize, dst: usize): void {
    this.copyOut(load<u32>(e, D_OFF), load<u32>(e, D_NAME_LEN) + load<u32>(e, D_VALUE_LEN), dst);
  }

  // ---- insertion and eviction --------------------------------------------------------

  /**
   * Adds (name, value) as the newest entry, evicting older ones (RFC 7541 §4.4). An entry
   * larger than the maximum size empties the table and is not added (answers false).
   * The hashes matter only for a hashed table. The source must not lie in this table.
   */
  add(name: usize, nameLen: u32, value: usize, valueLen: u32, nameHash: u32, fieldHash: u32): bool {
    const need = <u64>nameLen + <u64>valueLen + <u64>ENTRY_OVERHEAD;
    if (need > <u64>this.maxSize) {
      while (this.count > 0) this.evictOldest();
      return false;
    }
    const esize = <u32>need;
    while (<u64>this.size + need > <u64>this.maxSize) this.evictOldest();
    if (<u64>this.size + need > <u64>this.capacity) {
      this.relayout(<u32>min<u64>(max<u64>(<u64>this.capacity * 2, <u64>this.size + need), <u64>this.maxSize));
    }
    const off = this.dataTail;
    this.copyIn(off, name, nameLen);
    this.copyIn(this.wrap(off + nameLen), value, valueLen);
    this.dataTail = this.wrap(off + nameLen + valueLen);
    const seq = this.nextSeq;
    const d = this.descs + ((<usize>(seq & this.descMask)) << D_SHIFT);
    store<u32>(d, off, D_OFF);
    store<u32>(d, nameLen, D_NAME_LEN);
    store<u32>(d, valueLen, D_VALUE_LEN);
    if (this.hashed) {
      store<u32>(d, nameHash, D_NAME_HASH);
      store<u32>(d, fieldHash, D_FIELD_HASH);
      const hn = this.heads + ((<usize>(nameHash & this.headMask)) << 2);
      const hf = this.heads + ((<usize>(this.headMask + 1 + (fieldHash & this.headMask))) << 2);
      store<u32>(d, load<u32>(hn), D_NEXT_NAME);
      store<u32>(d, load<u32>(hf), D_NEXT_FIELD);
      store<u32>(hn, seq);
      store<u32>(hf, seq);
    }
    this.nextSeq = seq + 1;
    this.count++;
    this.size += esize;
    return true;
  }

  private evictOldest(): void {
    const e = this.entry(this.count);
    this.size -= load<u32>(e, D_NAME_LEN) + load<u32>(e, D_VALUE_LEN) + ENTRY_OVERHEAD;
    this.count--;
  }

  // ---- hashed lookup (encoder) -------------------------------------------------------

  /** Dynamic index (1-based) of the newest entry equal to (name, value), or 0. */
  findField(name: usize, nameLen: u32, value: usize, valueLen: u32, fieldHash: u32): u32 {
    let seq = load<u32>(this.heads + ((<usize>(this.headMask + 1 + (fieldHash & this.headMask))) << 2));
    for (let steps: u32 = 0; steps < this.count; steps++) {
      const index = this.nextSeq - seq;
      if (index - 1 >= this.count) return 0; // evicted (or an empty bucket): the chain ends
      const d = this.descs + ((<usize>(seq & this.descMask)) << D_SHIFT);
      if (
        load<u32>(d, D_FIELD_HASH) == fieldHash &&
        load<u32>(d, D_NAME_LEN) == nameLen &&
        load<u32>(d, D_VALUE_LEN) == valueLen &&
        this.ringEqual(load<u32>(d, D_OFF), name, nameLen) &&
        this.ringEqual(this.wrap(load<u32>(d, D_OFF) + nameLen), value, valueLen)
      )
        return index;
      seq = load<u32>(d, D_NEXT_FIELD);
    }
    return 0;
  }

  /** Dynamic index of the newest entry named `name`, or 0. */
  findName(name: usize, nameLen: u32, nameHash: u32): u32 {
    let seq = load<u32>(this.heads + ((<usize>(nameHash & this.headMask)) << 2));
    for (let steps: u32 = 0; steps < this.count; steps++) {
      const index = this.nextSeq - seq;
      if (index - 1 >= this.count) return 0;
      const d = this.descs + ((<usize>(seq & this.descMask)) << D_SHIFT);
      if (
        load<u32>(d, D_NAME_HASH) == nameHash &&
        load<u32>(d, D_NAME_LEN) == nameLen &&
        this.ringEqual(load<u32>(d, D_OFF), name, nameLen)
      )
        return index;
      seq = load<u32>(d, D_NEXT_NAME);
    }
    return 0;
  }

  // ---- ring helpers ------------------------------------------------------------------

  @inline private wrap(off: u32): u32 {
    return off >= this.dataCap ? off - this.dataCap : off;
  }

  private copyOut(off: u32, len: u32, dst: usize): void {
    const first = min<u32>(len, this.dataCap - off);
    copyBytes(dst, this.data + <usize>off, first);
    if (len > first) copyBytes(dst + <usize>first, this.data, len - first);
  }

  private copyIn(off: u32, src: usize, len: u32): void {
    const first = min<u32>(len, this.dataCap - off);
    copyBytes(this.data + <usize>off, src, first);
    if (len > first) copyBytes(this.data, src + <usize>first, len - first);
  }

  private ringEqual(off: u32, p: usize, len: u32): bool {
    const first = min<u32>(len, this.dataCap - off);
    for (let i: u32 = 0; i < first; i++) {
      if (load<u8>(this.data + <usize>(off + i)) != load<u8>(p + <usize>i)) return false;
    }
    for (let i: u32 = first; i < len; i++) {
      if (load<u8>(this.data + <usize>(i - first)) != load<u8>(p + <usize>i)) return false;
    }
    return true;
  }

  // ---- memory layout -----------------------------------------------------------------

  private layout(capacity: u32): void {
    this.capacity = capacity;
    this.dataCap = capacity;
    this.data = heap.alloc(<usize>max<u32>(capacity, 8));
    this.dataTail = 0;
    // At most capacity / 32 entries are live at once.
    let slots: u32 = 1;
    while (slots < capacity / ENTRY_OVERHEAD) slots <<= 1;
    this.descMask = slots - 1;
    this.descs = heap.alloc((<usize>slots) << D_SHIFT);
    if (this.hashed) {
      let buckets: u32 = 16;
      while (buckets < slots * 2) buckets <<= 1;
      this.headMask = buckets - 1;
      const bytes = <usize>buckets * 8;
      this.heads = heap.alloc(bytes);
      memory.fill(this.heads, 0, bytes);
    }
  }

  /** Moves the live entries, oldest first, into memory laid out for `capacity`. */
  private relayout(capacity: u32): void {
    const oldData = this.data;
    const oldDataCap = this.dataCap;
    const oldDescs = this.descs;
    const oldMask = this.descMask;
    const oldHeads = this.heads;
    const oldCount = this.count;
    const oldNext = this.nextSeq;
    const maxSize = this.maxSize;
    this.layout(capacity);
    this.count = 0;
    this.size = 0;
    this.nextSeq = 1;
    for (let i = oldCount; i >= 1; i--) {
      const e = oldDescs + ((<usize>((oldNext - i) & oldMask)) << D_SHIFT);
      const nl = load<u32>(e, D_NAME_LEN);
      const vl = load<u32>(e, D_VALUE_LEN);
      // Linearize the old octets into the new ring's tail directly.
      let off = load<u32>(e, D_OFF);
      const tmp = this.data + <usize>this.dataTail;
      for (let k: u32 = 0; k < nl + vl; k++) {
        store<u8>(tmp + <usize>k, load<u8>(oldData + <usize>off));
        off = off + 1 >= oldDataCap ? 0 : off + 1;
      }
      // The octets are already in place: add() copies them onto themselves.
      this.add(tmp, nl, tmp + <usize>nl, vl, load<u32>(e, D_NAME_HASH), load<u32>(e, D_FIELD_HASH));
    }
    this.maxSize = maxSize;
    heap.free(oldData);
    heap.free(oldDescs);
    if (oldHeads != 0) heap.free(oldHeads);
  }
}
