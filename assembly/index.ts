// The module's export list, and nothing else (docs/architecture.md). The exports live in
// assembly/ffi/abi/, one file per section of include/h2wasm.h, each declared there in the
// header with its ownership rule.
import './ffi/abort';

export * from './ffi/abi/memory';
export * from './ffi/abi/hpack';
export * from './ffi/abi/io';
export * from './ffi/abi/budget';
export * from './ffi/abi/executor';
export * from './ffi/abi/errors';
export * from './ffi/abi/client';
export * from './ffi/abi/server';
export * from './ffi/abi/request';
export * from './ffi/abi/response';
export * from './ffi/abi/headers';
export * from './ffi/abi/body';
export * from './ffi/abi/send-stream';
