// The HPACK decoder builds its Huffman tables lazily (assembly/hpack/huffman.ts): the
// nibble table at an instance's first Huffman-coded string, the octet table once the
// instance has decoded 32 KiB of Huffman input. A test that takes a heap baseline and
// wants them out of it builds both first.

/** A module instance's exports (a MemHost's, a Runtime's): memory and the h2_* functions. */
type Exports = Record<string, any> & { readonly memory: WebAssembly.Memory };

/** One literal of 35,000 octets (56,000 '0's, code 00000) takes the instance past 32 KiB;
 *  the second decode builds the octet table. */
export function buildHuffmanTables(ex: Exports): void {
  const long = new Uint8Array(7 + 35000);
  long.set([0x00, 0x01, 0x61, 0xff, 0xb9, 0x90, 0x02]); // new name 'a', value: H, 127 + 34873
  const d = ex.h2_hpack_decoder_new() as number;
  const p = (ex.h2_alloc(long.length) as number) >>> 0;
  new Uint8Array(ex.memory.buffer, p, long.length).set(long);
  for (let i = 0; i < 2; i++) ex.h2_hpack_decode(d, p, long.length);
  ex.h2_free(p);
  ex.h2_hpack_decoder_free(d);
}
