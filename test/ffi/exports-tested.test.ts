// Every export of include/h2wasm.h is called by at least one functional test: a test file
// that checks what the export does, which the suites that only feed it bad arguments or
// compare declarations (listed below) are not. A new export without one fails here.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../support/wasm.js';

/** Suites that name every export without testing what it does. */
const NOT_FUNCTIONAL = [
  'test/ffi/safety.test.ts', // bad arguments only
  'test/ffi/header.test.ts', // declarations against the module
  'test/ffi/abi-numbers.test.ts', // constants
  'test/ffi/exports-tested.test.ts', // this list
  'test/fuzz/', // random calls, "no trap" only
];

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'target') return [];
    if (statSync(path).isDirectory()) return testFiles(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

describe('every export has a functional test', () => {
  it('each H2_EXPORT of the header is named in a test file that checks its effect', () => {
    const header = readFileSync(join(ROOT, 'include', 'h2wasm.h'), 'utf8');
    const exports = [...header.matchAll(/^H2_EXPORT [^(]*?\b(h2_\w+)\(/gm)].map((m) => m[1]);
    expect(exports.length).toBeGreaterThan(100);
    const functional = testFiles(join(ROOT, 'test'))
      .filter((path) => !NOT_FUNCTIONAL.some((skip) => relative(ROOT, path).startsWith(skip)))
      .map((path) => readFileSync(path, 'utf8'));
    const untested = exports.filter((name) => !functional.some((text) => new RegExp(`\\b${name}\\b`).test(text)));
    expect(untested, 'exports no functional test names').toEqual([]);
  });
});
