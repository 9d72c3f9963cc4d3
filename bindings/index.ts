// Package entry for Node: `import { HpackEncoder, HpackDecoder } from 'h2wasm'`.
export { H2E } from './abi.js';
