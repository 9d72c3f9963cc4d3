// A small, fast, non-cryptographic hash of byte strings, used to look names and fields up
// in the static and dynamic tables. Reads 4 octets at a time.

@inline
function mix(h: u32, k: u32): u32 {
  k *= 0xcc9e2d51;
  k = rotl<u32>(k, 15);
  k *= 0x1b873593;
  h ^= k;
  h = rotl<u32>(h, 13);
  return h * 5 + 0xe6546b64;
}

/** Hash of [p, p+len), seeded (use different seeds to combine name and value). */
export function hashBytes(p: usize, len: u32, seed: u32): u32 {
  let h = seed ^ len;
  const end4 = p + <usize>(len & ~3);
  while (p < end4) {
    h = mix(h, load<u32>(p));
    p += 4;
  }
  let k: u32 = 0;
  let shift: u32 = 0;
  const end = end4 + <usize>(len & 3);
  while (p < end) {
    k |= (<u32>load<u8>(p)) << shift;
    shift += 8;
    p++;
  }
  h = mix(h, k);
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  return h;
}

/** Equality of two byte ranges of the same length `len`. */
export function bytesEqual(a: usize, b: usize, len: u32): bool {
  const end = a + <usize>len;
  while (a + 8 <= end) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8;
    b += 8;
  }
  while (a < end) {
    if (load<u8>(a) != load<u8>(b)) return false;
    a++;
    b++;
  }
  return true;
}

/** A field's hash from its name's and value's. */
@inline
export function fieldHash(nameHash: u32, valueHash: u32): u32 {
  return mix(nameHash, valueHash) ^ 0x5bd1e995;
}
