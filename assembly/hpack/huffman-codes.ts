// The Huffman code of RFC 7541 Appendix B, generated from the RFC's xml2rfc source: the
// length in bits of each symbol 0..255 and EOS (256). The code is canonical (codes are
// assigned in order of length, then of symbol), so the lengths determine it: the codes
// are derived from them at start instead of being stored, 1 KiB less module.
// test/hpack/primitives.test.ts holds both against the spec file.

/** Code of each symbol (u32, aligned to the least significant bit), by symbol. */
export const HUFFMAN_CODES: usize = memory.data(257 * 4);

export const HUFFMAN_LENGTHS: StaticArray<u8> = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28,
  28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6,
  5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23,
  22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22,
  23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26,
  20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27,
  27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27,
  27, 27, 27, 26, 30,
];

// Canonical assignment: the first code of length n is (the first code of length n - 1 plus
// the number of codes of length n - 1) << 1; codes of one length go up by symbol. Runs at
// start: a few thousand instructions.
const nextCode: usize = memory.data(32 * 4);
for (let sym: usize = 0; sym <= 256; sym++) {
  const at = nextCode + ((<usize>unchecked(HUFFMAN_LENGTHS[sym])) << 2);
  store<u32>(at, load<u32>(at) + 1);
}
{
  let code: u32 = 0;
  let count: u32 = 0;
  for (let len: usize = 1; len < 32; len++) {
    code = (code + count) << 1;
    const at = nextCode + (len << 2);
    count = load<u32>(at);
    store<u32>(at, code);
  }
}
for (let sym: usize = 0; sym <= 256; sym++) {
  const at = nextCode + ((<usize>unchecked(HUFFMAN_LENGTHS[sym])) << 2);
  const code = load<u32>(at);
  store<u32>(HUFFMAN_CODES + (sym << 2), code);
  store<u32>(at, code + 1);
}
