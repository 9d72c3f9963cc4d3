// Huffman coding of string literals (RFC 7541 §5.2, Appendix B).
//
// Decoding is a table-driven state machine: a state is an internal node of the code tree
// (256 of them), and for each (state, input) one 32-bit entry gives the next state, the
// symbols completed on the way and whether the new state is a valid place to stop. The
// loop has no branch per bit or per symbol; faults are accumulated and checked once at
// the end. Two tables, both built when first needed, so a module that never decodes pays
// nothing:
//   - per (state, nibble), 16 KiB, built in ~0.03 ms: two steps per input octet, at most
//     one symbol per step (the shortest code is 5 bits). Every instance starts with it;
//   - per (state, octet), 256 KiB: one step per octet, at most two symbols, about twice
//     as fast. It is composed from the first once an instance has decoded
//     BYTE_TABLE_AFTER octets, so a short-lived instance (a connection, a CLI call)
//     never pays its build and memory, and a busy one gets its speed.
// (The octet table alone, built bit by bit at the first decode, took 0.43 ms in each new
// instance, 2.3 ms in a fresh process.)
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-codes';

export const EOS: u32 = 256;

// Entry layout, nibble table: bits 0..7 next state, 8..15 the symbol, 16 a symbol was
// completed. Octet table: bits 0..7 next state, 8..15 first symbol, 16..23 second symbol,
// 24..25 number of symbols. Both: the flags.
const F_EMIT: u32 = 1 << 16;
/** The state is the root or an all-ones prefix of EOS of ≤ 7 bits: a valid end. */
const F_ACCEPT: u32 = 1 << 26;
/** EOS was decoded. */
const F_FAIL: u32 = 1 << 27;
/** The state is an all-ones run of 8 bits or more: padding too long. */
const F_LONG_ONES: u32 = 1 << 28;
const FLAGS: u32 = F_ACCEPT | F_FAIL | F_LONG_ONES;

/** Huffman-coded octets an instance decodes with the nibble table before it builds the
 *  octet table: past this the nibble table's extra steps would have cost more than the
 *  build (~0.1 ms). */
const BYTE_TABLE_AFTER: u64 = 32 * 1024;

/** decodeHuffman's answers below 0. */
export const HUFF_EOS: i32 = -1;
export const HUFF_PADDING_TOO_LONG: i32 = -2;
export const HUFF_PADDING_NOT_ONES: i32 = -3;

let nibbleTable: usize = 0;
let octetTable: usize = 0;
let nibbleOctets: u64 = 0;

function buildNibbleTable(): usize {
  // Code tree: child[node*2 + bit] = internal node id (> 0), or -(symbol + 1) for a leaf.
  const child = new StaticArray<i32>(512);
  let nodes: i32 = 1;
  for (let sym: i32 = 0; sym <= <i32>EOS; sym++) {
    const code = load<u32>(HUFFMAN_CODES + ((<usize>sym) << 2));
    const len = <i32>unchecked(HUFFMAN_LENGTHS[sym]);
    let node: i32 = 0;
    for (let i = len - 1; i >= 0; i--) {
      const slot = node * 2 + <i32>((code >>> (<u32>i)) & 1);
      if (i == 0) {
        unchecked((child[slot] = -(sym + 1)));
      } else {
        if (unchecked(child[slot]) == 0) unchecked((child[slot] = nodes++));
        node = unchecked(child[slot]);
      }
    }
  }
  // Nodes on the all-ones path: depth 0..7 accept, deeper ones are over-long padding.
  const onesDepth = new StaticArray<i32>(256);
  for (let i = 0; i < 256; i++) unchecked((onesDepth[i] = -1));
  let n: i32 = 0;
  for (let d = 0; n >= 0 && n < 256; d++) {
    unchecked((onesDepth[n] = d));
    n = unchecked(child[n * 2 + 1]);
    if (n <= 0) break;
  }
  const table = heap.alloc(256 * 16 * 4);
  for (let state: i32 = 0; state < 256; state++) {
    for (let nibble: i32 = 0; nibble < 16; nibble++) {
      let node = state;
      let entry: u32 = 0;
      for (let b = 3; b >= 0; b--) {
        const c = unchecked(child[node * 2 + ((nibble >> b) & 1)]);
        if (c < 0) {
          const s = <u32>(-c - 1);
          node = 0;
          if (s == EOS) {
            entry |= F_FAIL;
            break;
          }
          entry |= (s << 8) | F_EMIT;
        } else {
          node = c;
        }
      }
      const depth = unchecked(onesDepth[node]);
      if (depth >= 0) entry |= depth <= 7 ? F_ACCEPT : F_LONG_ONES;
      store<u32>(table + ((<usize>state * 16 + <usize>nibble) << 2), (<u32>node) | entry);
    }
  }
  return table;
}

/** The octet table, each entry two steps of the nibble table `N`. */
function buildOctetTable(N: usize): usize {
  const table = heap.alloc(256 * 256 * 4);
  for (let state: u32 = 0; state < 256; state++) {
    for (let octet: u32 = 0; octet < 256; octet++) {
      const e1 = load<u32>(N + ((<usize>state * 16 + <usize>(octet >> 4)) << 2));
      const e2 = load<u32>(N + ((<usize>(e1 & 0xff) * 16 + <usize>(octet & 15)) << 2));
      let syms: u32 = 0;
      let count: u32 = 0;
      if (e1 & F_EMIT) {
        syms = (e1 >> 8) & 0xff;
        count = 1;
      }
      if (e2 & F_EMIT) {
        syms |= ((e2 >> 8) & 0xff) << (8 * count);
        count++;
      }
      const flags = ((e1 & F_FAIL) | (e2 & FLAGS)) & FLAGS;
      store<u32>(table + ((<usize>state * 256 + <usize>octet) << 2), (e2 & 0xff) | (syms << 8) | (count << 24) | flags);
    }
  }
  return table;
}

/** Most octets `len` Huffman-coded octets can decode to (the shortest code is 5 bits). */
@inline
export function huffmanMaxDecodedLength(len: u32): u32 {
  // + 2: each step stores one or two octets, the second possibly past the decoded end.
  return <u32>((<u64>len * 8) / 5) + 2;
}

/**
 * Decodes [src, src+len) to `dst`, which has room for huffmanMaxDecodedLength(len)
 * octets. Answers the decoded length, or HUFF_EOS / HUFF_PADDING_TOO_LONG /
 * HUFF_PADDING_NOT_ONES.
 */
export function decodeHuffman(src: usize, len: u32, dst: usize): i32 {
  const T = octetTable;
  if (T == 0) {
    let N = nibbleTable;
    if (N == 0) N = nibbleTable = buildNibbleTable();
    if (nibbleOctets < BYTE_TABLE_AFTER) {
      nibbleOctets += <u64>len;
      return decodeNibbles(N, src, len, dst);
    }
    octetTable = buildOctetTable(N);
    return decodeHuffman(src, len, dst);
  }
  const end = src + <usize>len;
  let o = dst;
  let state: u32 = 0;
  let seen: u32 = 0;
  let e: u32 = F_ACCEPT;
  while (src < end) {
    e = load<u32>(T + ((<usize>((state << 8) | (<u32>load<u8>(src)))) << 2));
    src++;
    store<u16>(o, <u16>(e >> 8));
    o += <usize>((e >> 24) & 3);
    seen |= e;
    state = e & 0xff;
  }
  return finish(seen, e, o - dst);
}

function decodeNibbles(N: usize, src: usize, len: u32, dst: usize): i32 {
  const end = src + <usize>len;
  let o = dst;
  let state: u32 = 0;
  let seen: u32 = 0;
  let e: u32 = F_ACCEPT;
  while (src < end) {
    const octet = <u32>load<u8>(src);
    src++;
    e = load<u32>(N + ((<usize>((state << 4) | (octet >> 4))) << 2));
    store<u8>(o, <u8>(e >> 8));
    o += <usize>((e >> 16) & 1);
    seen |= e;
    e = load<u32>(N + ((<usize>(((e & 0xff) << 4) | (octet & 15))) << 2));
    store<u8>(o, <u8>(e >> 8));
    o += <usize>((e >> 16) & 1);
    seen |= e;
    state = e & 0xff;
  }
  return finish(seen, e, o - dst);
}

@inline
function finish(seen: u32, e: u32, n: usize): i32 {
  if (seen & F_FAIL) return HUFF_EOS;
  if ((e & F_ACCEPT) == 0) return e & F_LONG_ONES ? HUFF_PADDING_TOO_LONG : HUFF_PADDING_NOT_ONES;
  return <i32>n;
}

/** Octets the Huffman coding of [src, src+len) takes. */
export function huffmanEncodedLength(src: usize, len: u32): u32 {
  let bits: u64 = 0;
  const end = src + <usize>len;
  while (src < end) {
    bits += <u64>unchecked(HUFFMAN_LENGTHS[load<u8>(src)]);
    src++;
  }
  return <u32>((bits + 7) >> 3);
}

/**
 * Huffman-codes [src, src+len) to `dst` (room for huffmanEncodedLength octets), padding
 * the last octet with the most significant bits of EOS (all ones). Answers octets written.
 */
export function encodeHuffman(src: usize, len: u32, dst: usize): u32 {
  const end = src + <usize>len;
  let o = dst;
  let acc: u64 = 0;
  let nbits: u32 = 0;
  while (src < end) {
    const s = <i32>load<u8>(src);
    src++;
    const l = <u32>unchecked(HUFFMAN_LENGTHS[s]);
    acc = (acc << (<u64>l)) | (<u64>load<u32>(HUFFMAN_CODES + ((<usize>s) << 2)));
    nbits += l;
    if (nbits >= 32) {
      nbits -= 32;
      store<u32>(o, bswap<u32>(<u32>(acc >> (<u64>nbits))));
      o += 4;
    }
  }
  while (nbits >= 8) {
    nbits -= 8;
    store<u8>(o, <u8>(acc >> (<u64>nbits)));
    o++;
  }
  if (nbits > 0) {
    // The last byte is padded with the high bits of EOS (all ones).
    const padBits = <u64>(8 - nbits);
    store<u8>(o, <u8>((acc << padBits) | (<u64>(0xff >> nbits))));
    o++;
  }
  return <u32>(o - dst);
}
