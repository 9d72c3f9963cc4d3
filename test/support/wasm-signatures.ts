// Reads a module's imports and exports with their function signatures straight from
// the binary (the JS API does not expose signatures). Only the sections needed.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'ref';
export interface FuncSig {
  params: ValType[];
  results: ValType[];
}
export interface ModuleSignatures {
  imports: Map<string, FuncSig>; // "module.name" -> sig (functions only)
  exports: Map<string, FuncSig>; // name -> sig (functions only)
}

const VALTYPES: Record<number, ValType> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'ref',
  0x6f: 'ref',
};

export function readSignatures(bytes: Uint8Array): ModuleSignatures {
  let pos = 8;
  const u32 = () => {
    let result = 0,
      shift = 0,
      b: number;
    do {
      b = bytes[pos++];
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return result >>> 0;
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const types: FuncSig[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const imports = new Map<string, FuncSig>();
  const exportIndex = new Map<string, number>();
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = u32();
    const end = pos + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        pos++; // 0x60
        const params = Array.from({ length: u32() }, () => VALTYPES[bytes[pos++]]);
        const results = Array.from({ length: u32() }, () => VALTYPES[bytes[pos++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const key = `${name()}.${name()}`;
        const kind = bytes[pos++];
        if (kind === 0) {
          const t = u32();
          funcTypes.push(t);
          imports.set(key, types[t]);
        } else if (kind === 1) {
          pos++;
          const f = bytes[pos++];
          u32();
          if (f & 1) u32();
        } else if (kind === 2) {
          const f = bytes[pos++];
          u32();
          if (f & 1) u32();
        } else if (kind === 3) {
          pos += 2;
        }
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const key = name();
        const kind = bytes[pos++];
        const index = u32();
        if (kind === 0) exportIndex.set(key, index);
      }
    }
    pos = end;
  }
  const exports = new Map<string, FuncSig>();
  for (const [key, index] of exportIndex) exports.set(key, types[funcTypes[index]]);
  return { imports, exports };
}
