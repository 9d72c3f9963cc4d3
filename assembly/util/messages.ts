// The core's error messages live in messages.txt, compiled to UTF-8 bytes (messages.gen.ts,
// written by scripts/gen-texts.mjs) rather than as string literals, which
// AssemblyScript stores as UTF-16 with a header each: 8.5 KiB less module.
import { Msg, MSG_BYTES, MSG_COUNT, MSG_STARTS } from './messages.gen';

export { Msg } from './messages.gen';

// Each text becomes a string the first time it is asked for and stays: an error path
// allocates at most once per message, so a peer repeating a fault creates no garbage,
// and the whole set is bounded (~12 KiB).
const cache = new StaticArray<string | null>(MSG_COUNT);

/** The text of message `id`. Failure paths only: the first call for an id allocates. */
export function msg(id: Msg): string {
  let s = unchecked(cache[id]);
  if (s == null) {
    const start = <usize>load<u16>(MSG_STARTS + ((<usize>id) << 1));
    const end = <usize>load<u16>(MSG_STARTS + ((<usize>id) << 1), 2);
    s = String.UTF8.decodeUnsafe(MSG_BYTES + start, end - start);
    unchecked((cache[id] = s));
  }
  return s;
}
