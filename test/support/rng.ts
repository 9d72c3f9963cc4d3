// Seeded randomness for the soaks: the same seed gives the same run, so a failure replays.

/** xorshift32: a number in [0, 1) per call. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** An integer in [0, max], log-uniform: small values as often as large ones per decade. */
export const logUniform = (r: () => number, max: number): number => Math.floor(Math.exp(r() * Math.log(max + 1))) - 1;

/** Deterministic bytes (every octet value appears), cheap to make in bulk: message `seed`
 *  of a stream, the same wherever it is made (a test and the child process it checks). */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}
