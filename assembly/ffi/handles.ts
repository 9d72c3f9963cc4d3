// Generation-checked handle table. A handle is a u32: the slot index (1-based) in the
// low 20 bits, the slot's generation in the high 12. Freeing a slot bumps its
// generation, so a stale, freed, foreign or zero handle never resolves: lookups answer
// null and the ABI turns that into H2E_INVALID_ARG. Double free is therefore harmless.

import { countAllocation } from '../util/gc';

const INDEX_BITS: u32 = 20;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
const GEN_MASK: u32 = (1 << (32 - INDEX_BITS)) - 1;
/** Most live handles at once; past this, creating an object answers 0. */
export const MAX_HANDLES: u32 = INDEX_MASK;

/** What a handle refers to; a handle of one kind never resolves as another. */
export const enum HandleKind {
  NONE = 0,
  HPACK_ENCODER = 1,
  HPACK_DECODER = 2,
  IO = 3,
  EXECUTOR = 4,
  TASK = 5,
  CONTEXT = 6,
  WAKER = 7,
  CLIENTCONN_OPTIONS = 8,
  CLIENTCONN = 9,
  SERVERCONN_OPTIONS = 10,
  SERVERCONN = 11,
  REQUEST = 12,
  RESPONSE = 13,
  HEADERS = 14,
  BODY = 15,
  BUF = 16,
  ERROR = 17,
  SEND_STREAM = 18,
  RESPOND = 19,
}

const objects = new Array<Object | null>();
const kinds = new Array<u32>();
const generations = new Array<u32>();
const freeSlots = new Array<u32>();
let live: u32 = 0;

/** Registers `obj` and records the handle on it (its `handle` field); returns the handle,
 *  0 when the table is full. */
@inline export function adopt<T>(kind: HandleKind, obj: T): u32 {
  const h = handleNew(kind, changetype<Object>(obj));
  obj.handle = h;
  return h;
}

/** Registers `obj` and returns its handle, or 0 when the table is full. */
export function handleNew(kind: HandleKind, obj: Object): u32 {
  let slot: u32;
  if (freeSlots.length > 0) {
    slot = freeSlots.pop();
  } else {
    if (<u32>objects.length >= MAX_HANDLES) return 0;
    slot = <u32>objects.length;
    objects.push(null);
    kinds.push(0);
    generations.push(1);
  }
  unchecked((objects[slot] = obj));
  unchecked((kinds[slot] = <u32>kind));
  live++;
  countAllocation(); // each handle's object becomes garbage when freed (util/gc.ts)
  return (unchecked(generations[slot]) << INDEX_BITS) | (slot + 1);
}

function slotOf(handle: u32, kind: HandleKind): i32 {
  const index = handle & INDEX_MASK;
  if (index == 0 || index > <u32>objects.length) return -1;
  const slot = index - 1;
  if (unchecked(kinds[slot]) != <u32>kind || kind == HandleKind.NONE) return -1;
  if (unchecked(generations[slot]) != handle >>> INDEX_BITS) return -1;
  return <i32>slot;
}

/** The object behind `handle` if it is live and of `kind`, else null. */
export function handleGet(handle: u32, kind: HandleKind): Object | null {
  const slot = slotOf(handle, kind);
  return slot < 0 ? null : unchecked(objects[slot]);
}

/** Frees the slot and returns its object, or null when `handle` is not live. */
export function handleRelease(handle: u32, kind: HandleKind): Object | null {
  const slot = slotOf(handle, kind);
  if (slot < 0) return null;
  const obj = unchecked(objects[slot]);
  unchecked((objects[slot] = null));
  unchecked((kinds[slot] = HandleKind.NONE));
  let gen = (unchecked(generations[slot]) + 1) & GEN_MASK;
  if (gen == 0) gen = 1;
  unchecked((generations[slot] = gen));
  freeSlots.push(<u32>slot);
  live--;
  return obj;
}

/** How many more handles may be made now. */
export function handlesAvailable(): u32 {
  return MAX_HANDLES - live;
}

/** How many handles are live: the leak check of the tests. */
export function handleLiveCount(): u32 {
  return live;
}
