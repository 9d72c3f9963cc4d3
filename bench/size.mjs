// Module size: build/h2wasm.wasm (the release build) raw, gzip -9 and brotli.
//
//   node bench/size.mjs [--quick]    (the same either way)
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { wasmPath, summary } from './lib.mjs';

const raw = readFileSync(wasmPath);
const gz = gzipSync(raw, { level: 9 }).length;
const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const KiB = 1024;
const k = (n) => `${(n / KiB).toFixed(1)} KiB`;
console.log('### Module size: build/h2wasm.wasm (release)\n');
console.log('| form | bytes | KiB | goal |');
console.log('|---|---:|---:|---|');
console.log(`| raw | ${raw.length} | ${k(raw.length)} | ≤ 96 KiB |`);
console.log(`| gzip -9 (node:zlib) | ${gz} | ${k(gz)} | ≤ 40 KiB |`);
console.log(`| brotli q11 (node:zlib) | ${br} | ${k(br)} | |`);
summary({
  bench: 'module size, release (build/h2wasm.wasm)',
  ours: `${k(raw.length)} raw, ${k(gz)} gzip`,
  peers: '–',
  ratio: `${(raw.length / (96 * KiB)).toFixed(2)}× / ${(gz / (40 * KiB)).toFixed(2)}× the goal`,
  goal: '≤ 96 KiB raw, ≤ 40 KiB gzip',
  met: raw.length <= 96 * KiB && gz <= 40 * KiB ? 'yes' : 'no',
});
