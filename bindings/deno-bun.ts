// Package entry for Deno and Bun (the `deno` and `bun` export conditions): the Node
// adapter's sockets and servers through their node:net / node:tls, with the module fetched
// from beside the package (a file: URL) rather than read with node:fs.
import { compileUrl, setCompiledModule } from './loader.js';

export * from './index.js';

setCompiledModule(await compileUrl(new URL('../../build/h2wasm.wasm', import.meta.url)));
