// Where the release module lives: build/ at the package root, seen from dist/bindings/
// (the published layout) or from bindings/ (tests run the TypeScript directly).
import { existsSync } from 'node:fs';

export const WASM_URL =
  [new URL('../../build/h2wasm.wasm', import.meta.url), new URL('../build/h2wasm.wasm', import.meta.url)].find((u) =>
    existsSync(u),
  ) ?? new URL('../../build/h2wasm.wasm', import.meta.url);
