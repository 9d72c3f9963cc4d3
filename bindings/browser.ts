// Package entry for browsers and the `default` condition: no `node:` import. The module is
// fetched from beside the package (bundlers treat `new URL(…, import.meta.url)` as an asset)
// and compiled before anything runs. A page has no TCP socket: connect() and fetch() go
// through a socket the caller opens, such as a WebSocket bridge (webSocketSocket).
import { compileUrl, setCompiledModule } from './loader.js';
import { createFetch } from './fetch.js';
import type { ClientSession } from './client.js';
import { connectStreamSocket, type StreamConnectOptions, type StreamSocket } from './stream-socket.js';

export * from './common.js';

setCompiledModule(await compileUrl(new URL('../../build/h2wasm.wasm', import.meta.url)));

export interface BrowserConnectOptions extends StreamConnectOptions {
  /** Opens the bytes' way to `url`'s origin, e.g. `(u) => webSocketSocket('wss://bridge/tcp?to=' + u.host)`. */
  socket: (url: URL) => StreamSocket;
}

/** An HTTP/2 session to `url`'s origin over the socket that `options.socket` opens. */
export function connect(url: string | URL, options: BrowserConnectOptions): ClientSession {
  if (typeof options?.socket !== 'function')
    throw new TypeError(
      'h2wasm: a browser has no TCP socket; pass connect(url, { socket: (u) => webSocketSocket(…) })',
    );
  const u = typeof url === 'string' ? new URL(url) : url;
  const { socket, ...rest } = options;
  return connectStreamSocket(u, socket(u), rest);
}

/** fetch() over HTTP/2, one pooled session per origin, each over a socket from `socket`. */
export function fetchVia(socket: (url: URL) => StreamSocket) {
  return createFetch((origin, options) => connect(origin, { ...options, socket }));
}
