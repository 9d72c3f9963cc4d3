// Instantiates the h2wasm module and exposes its raw ABI, typed. No `node:` import here:
// this file runs unchanged in Node, browsers, Deno and edge workers. The Node entry
// (index.ts) registers how to find the module on disk; other hosts pass bytes or a URL.
import { H2_IO } from './abi.js';
import { warmUp } from './warm.js';

/** The raw exports; see include/h2wasm.h for each function's contract. */
export interface H2Exports {
  readonly memory: WebAssembly.Memory;
  h2_alloc(len: number): number;
  h2_free(ptr: number): number;
  h2_handle_count(): number;
  h2_version(): number;
  // The other exports, as include/h2wasm.h declares them; the wrappers give them types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [name: string]: any;
}

/** Functions the module imports from the host (`h2_host.*`); filled in by later layers. */
export type HostImports = Record<string, (...args: number[]) => number | void>;

/** One instance of the module, with helpers to move bytes in and out of its memory. */
export class H2Module {
  constructor(readonly exports: H2Exports) {}

  /** A view of [ptr, ptr+len). Take a fresh one after any call: memory may have grown. */
  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, ptr >>> 0, len >>> 0);
  }

  /** Copies `data` into a fresh h2_alloc buffer and returns its pointer (free with h2_free). */
  write(data: Uint8Array): number {
    const ptr = this.exports.h2_alloc(data.length) >>> 0;
    if (ptr === 0) throw new RangeError(`h2wasm: cannot allocate ${data.length} bytes in wasm memory`);
    this.bytes(ptr, data.length).set(data);
    return ptr;
  }
}

export type ModuleSource = BufferSource | WebAssembly.Module | Response | URL | string;

/** H2_IO_ERROR: what an import the host did not provide answers. */
const IO_ERROR = H2_IO.ERROR;

/**
 * The module's imports, with every one the host left out answering as a failed
 * transport would: a host that only uses HPACK, say, needs to provide none.
 */
function importObject(host: HostImports): WebAssembly.Imports {
  const defaults: HostImports = {
    io_read: () => IO_ERROR,
    io_write: () => IO_ERROR,
    body_read: () => IO_ERROR,
    send_data: () => IO_ERROR,
    headers_foreach: () => 1,
    informational: () => {},
  };
  return { h2_host: { ...defaults, ...host } };
}

/** Instantiates from bytes, a compiled module, a fetch Response, or a URL (fetched). */
export async function instantiate(source: ModuleSource, host: HostImports = {}): Promise<H2Module> {
  let module: WebAssembly.Module;
  if (source instanceof WebAssembly.Module) module = source;
  else if (typeof source === 'string' || source instanceof URL)
    module = await WebAssembly.compileStreaming(fetch(source));
  else if (typeof Response !== 'undefined' && source instanceof Response)
    module = await WebAssembly.compileStreaming(source);
  else module = await WebAssembly.compile(source as BufferSource);
  const instance = await WebAssembly.instantiate(module, importObject(host));
  return new H2Module(instance.exports as unknown as H2Exports);
}

/** Synchronous form for bytes or a compiled module (Node, workers; browsers limit sync compile size). */
export function instantiateSync(source: BufferSource | WebAssembly.Module, host: HostImports = {}): H2Module {
  const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  const instance = new WebAssembly.Instance(module, importObject(host));
  return new H2Module(instance.exports as unknown as H2Exports);
}

let compiled: WebAssembly.Module | undefined;
let compile: (() => WebAssembly.Module) | undefined;

/**
 * Sets the compiled module every runtime and the default instance use: a module (what
 * `WebAssembly.compileStreaming`, workerd's or a bundler's wasm import gives) or how to
 * compile one when first needed (the Node entry reads the file beside it). The last call
 * wins: the Deno/Bun entry replaces the Node adapter's file read with a fetch.
 *
 * A module given here is compiled ahead of its first use, so this finishes its compile:
 * V8 compiles wasm functions lazily, and warmUp (warm.ts) runs a client handshake and a
 * request in a scratch instance, ~2–3 ms once, which the first connection and its first
 * request no longer pay. A module compiled when first needed is not warmed: the connection
 * that needs it compiles the same functions as it goes.
 */
export function setCompiledModule(source: WebAssembly.Module | (() => WebAssembly.Module)): void {
  if (source instanceof WebAssembly.Module) {
    compiled = source;
    compile = undefined;
    warmUp(source);
  } else {
    compiled = undefined;
    compile = source;
  }
  defaultInstance = undefined;
}

/** The module set by setCompiledModule (compiled once, then reused). */
export function compiledModule(): WebAssembly.Module {
  if (!compiled) {
    if (!compile) throw new Error('h2wasm: no module loaded; call setCompiledModule(await compile(url)) first');
    compiled = compile();
  }
  return compiled;
}

/** Compiles the module at `url` (fetched: a file: URL in Deno and Bun, http(s): in a
 *  browser), streaming where the response is served as application/wasm. */
export async function compileUrl(url: URL | string): Promise<WebAssembly.Module> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`h2wasm: cannot load ${String(url)} (${res.status})`);
  if (res.headers.get('content-type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(res);
  return WebAssembly.compile(await res.arrayBuffer());
}

let defaultFactory: (() => H2Module) | undefined;
let defaultInstance: H2Module | undefined;

/** Sets how defaultModule() makes its instance (by default: of compiledModule()). */
export function setDefaultModuleFactory(factory: () => H2Module): void {
  defaultFactory = factory;
  defaultInstance = undefined;
}

/** Sets the shared instance directly, e.g. after `await instantiate(url)` in a browser. */
export function setDefaultModule(module: H2Module): void {
  defaultInstance = module;
}

/** The shared instance that classes such as HpackEncoder use when given none. */
export function defaultModule(): H2Module {
  defaultInstance ??= defaultFactory ? defaultFactory() : instantiateSync(compiledModule());
  return defaultInstance;
}
