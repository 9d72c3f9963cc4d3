// The parts of hpack.js (no types of its own) that the raw-frame peer uses.
declare module 'hpack.js' {
  interface Table {
    table: { size: number };
  }
  interface Compressor {
    write(headers: { name: string; value: string; huffman?: boolean; neverIndex?: boolean }[]): void;
    read(): Buffer | null;
    updateTableSize(size: number): void;
  }
  interface Decompressor {
    write(block: Buffer | Uint8Array): void;
    execute(): void;
    read(): { name: string; value: string } | null;
    updateTableSize(size: number): void;
  }
  const hpack: {
    compressor: { create(options: Table): Compressor };
    decompressor: { create(options: Table): Decompressor };
  };
  export default hpack;
}
