// include/h2wasm.h is the contract: it must declare exactly what the module exports and
// imports, with the same wasm types, in both directions.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { readSignatures, type FuncSig, type ValType } from '../support/wasm-signatures.js';

const I32_TYPES = /^(u?int(8|16|32)_t|h2_\w+|bool|size_t|void\s*\*|.*\*)$/;
const I64_TYPES = /^u?int64_t$/;

function wasmType(cType: string): ValType {
  const t = cType.replace(/\bconst\b/g, '').trim();
  if (I64_TYPES.test(t)) return 'i64';
  if (t === 'double') return 'f64';
  if (t === 'float') return 'f32';
  if (I32_TYPES.test(t)) return 'i32';
  throw new Error(`header uses a type the test cannot map: ${cType}`);
}

/** `uint32_t len` -> `uint32_t`, `const uint8_t *buf` -> `const uint8_t *`, `h2_ptr` -> `h2_ptr`. */
function paramType(param: string): string {
  const m = param.trim().match(/^(.*?[\s*])\s*(\w+)$/);
  return m ? m[1].trim() : param.trim();
}

/** Declarations `H2_EXPORT ret name(args);` / `H2_IMPORT ret h2_host_name(args);`. */
function parseHeader(text: string) {
  const exports = new Map<string, FuncSig>();
  const imports = new Map<string, FuncSig>();
  const decl = /\bH2_(EXPORT|IMPORT)\s+([\w\s*]+?)\s*\b(\w+)\s*\(([^)]*)\)\s*;/g;
  for (const m of text.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(decl)) {
    const [, kind, ret, name, args] = m;
    const params =
      args.trim() === 'void' || args.trim() === '' ? [] : args.split(',').map((a) => wasmType(paramType(a)));
    const results = ret.trim() === 'void' ? [] : [wasmType(ret)];
    if (kind === 'EXPORT') exports.set(name, { params, results });
    else imports.set(`h2_host.${name.replace(/^h2_host_/, '')}`, { params, results });
  }
  return { exports, imports };
}

describe('the header parser', () => {
  it('reads exports and imports with their wasm types', () => {
    const parsed = parseHeader(`/* H2_EXPORT int64_t ignored(void); */
      H2_EXPORT uint32_t h2_a(h2_ptr p, uint32_t len, uint64_t big);
      H2_EXPORT void h2_b(void);
      H2_IMPORT uint32_t h2_host_io_read(void *userdata, const uint8_t *buf, double t);`);
    expect([...parsed.exports]).toEqual([
      ['h2_a', { params: ['i32', 'i32', 'i64'], results: ['i32'] }],
      ['h2_b', { params: [], results: [] }],
    ]);
    expect([...parsed.imports]).toEqual([['h2_host.io_read', { params: ['i32', 'i32', 'f64'], results: ['i32'] }]]);
  });
});

describe('include/h2wasm.h against build/h2wasm.wasm', () => {
  const header = parseHeader(readFileSync(join(ROOT, 'include', 'h2wasm.h'), 'utf8'));
  const module = readSignatures(readFileSync(join(ROOT, 'build', 'h2wasm.wasm')));

  it('declares every export of the module, with its types', () => {
    for (const [name, sig] of module.exports) {
      expect(header.exports.has(name), `${name} is exported but not declared`).toBe(true);
      expect(header.exports.get(name), name).toEqual(sig);
    }
  });

  it('declares nothing the module does not export', () => {
    for (const name of header.exports.keys())
      expect(module.exports.has(name), `${name} is declared but not exported`).toBe(true);
  });

  it('declares exactly the imports, with their types', () => {
    expect([...header.imports.keys()].sort()).toEqual([...module.imports.keys()].sort());
    for (const [name, sig] of module.imports) expect(header.imports.get(name), name).toEqual(sig);
  });

  it('imports only from h2_host', () => {
    for (const name of module.imports.keys()) expect(name.startsWith('h2_host.')).toBe(true);
  });
});
