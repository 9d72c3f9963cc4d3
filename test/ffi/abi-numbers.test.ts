// The ABI's numbers have one source, include/h2wasm.h: its #defines (H2E_*, H2_TASK_*,
// H2_OPT_*, H2_BUDGET_*, H2_IO_*, H2_DATA_NO_COPY, H2_FIELD_*, H2_PSEUDO_*). Every other
// table of them is compared with it here, and this fails on any difference: a value that
// differs, a name the header does not have, or (for the module's tables and the
// TypeScript hosts' table, which must be whole) a number the header defines and the table
// lacks. The Go and Rust examples define the numbers they use; those must match too.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import * as abi from '../../bindings/abi.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const num = (v: string) => Number(v.replace(/_/g, '').replace(/u$/i, ''));
/** Names compared without underscores or case: TaskClientConn, TASK_CLIENTCONN, H2_TASK_CLIENTCONN. */
const key = (name: string) => name.replace(/_/g, '').toUpperCase();

const GROUPS = ['H2E_', 'H2_TASK_', 'H2_OPT_', 'H2_BUDGET_', 'H2_IO_', 'H2_DATA_', 'H2_FIELD_', 'H2_PSEUDO_'];

/** The header's numbered #defines, by name. */
function headerNumbers(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of read('include/h2wasm.h').matchAll(/^#define\s+(H2E?_\w+)\s+(0x[0-9A-Fa-f]+u?|\d+u?)\b/gm))
    out.set(m[1], num(m[2]));
  return out;
}

/** The body of the block that opens with `opening`, up to `close` (a brace, or Go's paren). */
function block(text: string, opening: RegExp, file: string, close = '}'): string {
  const m = opening.exec(text);
  if (!m) throw new Error(`${file}: no block ${opening}`);
  const start = m.index + m[0].length;
  return text.slice(start, text.indexOf(close, start));
}

/** The lines of `text` that look like a definition of an ABI number (`loose`), each of which
 *  the table's own pattern must have read: one it cannot parse (an iota, a typed constant,
 *  an expression) is a failure, not a silent omission. */
function unread(text: string, loose: RegExp, strict: RegExp): string[] {
  return text.split('\n').filter((l) => loose.test(l) && !strict.test(l));
}

const GO_CONSTS = block(
  read('examples/go/h2wasm/host.go'),
  /\/\/ Values of include\/h2wasm\.h\.\nconst \(/,
  'host.go',
  ')',
);
const GO_STRICT = /^\s*(IO|Task|Pseudo|Opt)(\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*$/;
const RUST_SRC = read('examples/rust/src/lib.rs');
const RUST_STRICT = /^pub const ((?:IO|TASK|PSEUDO|OPT)_\w+): u32 = (0x[0-9A-Fa-f_]+|[\d_]+);$/;

type Table = { name: string; entries: [string, number][]; whole?: string[]; unread?: string[] };

/** AssemblyScript `export const NAME: u32 = V;` lines (top level, names as the header's). */
function asConsts(file: string, prefix: RegExp): [string, number][] {
  return [...read(file).matchAll(/^export const (\w+): [iu]\d+ = (0x[0-9a-fA-F]+|\d+);/gm)]
    .filter((m) => prefix.test(m[1]))
    .map((m) => [m[1], num(m[2])]);
}

/** AssemblyScript `export namespace NS { export const NAME: u32 = V; ... }`, named prefix + NAME. */
function asNamespace(file: string, ns: string, prefix: string, skip: string[] = []): [string, number][] {
  const body = block(read(file), new RegExp(`export namespace ${ns} \\{`), file);
  return [...body.matchAll(/export const (\w+): [iu]\d+ = (0x[0-9a-fA-F]+|\d+);/g)]
    .filter((m) => !skip.includes(m[1]))
    .map((m) => [prefix + m[1], num(m[2])]);
}

/** A TypeScript object of the bindings' table, named prefix + KEY. */
function tsObject(value: Record<string, number>, prefix: string): [string, number][] {
  return Object.entries(value).map(([k, v]) => [prefix + k, v]);
}

const TABLES: Table[] = [
  { name: 'assembly/ffi/errors.ts', entries: asConsts('assembly/ffi/errors.ts', /^H2E_/), whole: ['H2E_'] },
  {
    name: 'assembly/ffi/host.ts',
    entries: asConsts('assembly/ffi/host.ts', /^H2_(IO|DATA)_/),
    whole: ['H2_IO_', 'H2_DATA_'],
  },
  {
    name: 'assembly/ffi/task.ts',
    entries: asNamespace('assembly/ffi/task.ts', 'TaskType', 'H2_TASK_'),
    whole: ['H2_TASK_'],
  },
  {
    name: 'assembly/ffi/conn-roles.ts',
    entries: asNamespace('assembly/ffi/conn-roles.ts', 'OptionKey', 'H2_OPT_'),
    whole: ['H2_OPT_'],
  },
  {
    name: 'assembly/ffi/abi/budget.ts',
    entries: asNamespace('assembly/ffi/abi/budget.ts', 'BudgetKey', 'H2_BUDGET_'),
    whole: ['H2_BUDGET_'],
  },
  {
    name: 'assembly/ffi/messages.ts',
    entries: asNamespace('assembly/ffi/messages.ts', 'Pseudo', 'H2_PSEUDO_', ['COUNT']),
    whole: ['H2_PSEUDO_'],
  },
  {
    name: 'assembly/hpack/field-list.ts',
    entries: asConsts('assembly/hpack/field-list.ts', /^FLAG_/).map(([n, v]) => [n.replace(/^FLAG_/, 'H2_FIELD_'), v]),
    whole: ['H2_FIELD_'],
  },
  {
    name: 'bindings/abi.ts',
    entries: [
      ...tsObject(abi.H2E, 'H2E_'),
      ...tsObject(abi.TASK, 'H2_TASK_'),
      ...tsObject(abi.H2_OPT, 'H2_OPT_'),
      ...tsObject(abi.H2_BUDGET, 'H2_BUDGET_'),
      ...tsObject(abi.H2_IO, 'H2_IO_'),
      ...tsObject(abi.H2_DATA, 'H2_DATA_'),
      ...tsObject(abi.H2_FIELD, 'H2_FIELD_'),
      ...tsObject(abi.H2_PSEUDO, 'H2_PSEUDO_'),
    ],
    whole: GROUPS,
  },
  {
    // const ( IOPending = 0xFFFFFFFF; TaskEmpty = 0; PseudoPath = 3; OptConnectionWindow = 100 ... )
    name: 'examples/go/h2wasm/host.go',
    entries: GO_CONSTS.split('\n')
      .map((l) => GO_STRICT.exec(l))
      .filter((m) => m !== null)
      .map((m) => [`H2_${m[1]}${m[2]}`, num(m[3])]),
    unread: unread(GO_CONSTS, /^\s*[A-Z]\w*(\s|$)/, GO_STRICT),
  },
  {
    name: 'examples/rust/src/lib.rs',
    entries: RUST_SRC.split('\n')
      .map((l) => RUST_STRICT.exec(l))
      .filter((m) => m !== null)
      .map((m) => [`H2_${m[1]}`, num(m[2])]),
    unread: unread(RUST_SRC, /^pub(\([\w:]+\))? const (IO|TASK|PSEUDO|OPT)_/, RUST_STRICT),
  },
];

describe("the ABI's numbers", () => {
  const header = headerNumbers();
  const byKey = new Map([...header].map(([n, v]) => [key(n), { name: n, value: v }]));

  it('are read from the header, every group of them', () => {
    for (const g of GROUPS)
      expect(
        [...header.keys()].some((n) => n.startsWith(g)),
        g,
      ).toBe(true);
    expect(header.get('H2_IO_PENDING')).toBe(0xffffffff);
    expect(header.get('H2_OPT_RECV_IDLE_TIMEOUT_MS')).toBe(122);
  });

  for (const table of TABLES) {
    it(`in ${table.name} are the header's`, () => {
      expect(table.entries.length, 'constants found in the table').toBeGreaterThan(0);
      expect(table.unread ?? [], `${table.name}: definitions this test cannot read`).toEqual([]);
      for (const [name, value] of table.entries) {
        const def = byKey.get(key(name));
        expect(def, `${table.name}: ${name} is not defined by include/h2wasm.h`).toBeDefined();
        expect(value, `${table.name}: ${name} (the header's ${def!.name} is ${def!.value})`).toBe(def!.value);
      }
      for (const group of table.whole ?? []) {
        const have = new Set(table.entries.map(([n]) => key(n)));
        const missing = [...header.keys()].filter((n) => n.startsWith(group) && !have.has(key(n)));
        expect(missing, `${table.name} lacks these of the header's ${group}*`).toEqual([]);
      }
    });
  }
});
