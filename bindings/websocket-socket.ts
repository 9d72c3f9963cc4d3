// A WebSocket to a TCP bridge (examples/browser/serve.mjs, websockify and the like: each
// binary message is bytes of the TCP stream) as a StreamSocket, for a browser, which has
// no TCP socket of its own. No `node:` import.
import type { StreamSocket } from './stream-socket.js';

/** Bytes the WebSocket may hold unsent before writes wait (it has no 'drain' event: polled). */
const BRIDGE_BUFFER = 256 * 1024;
const BRIDGE_POLL_MS = 5;

/**
 * Opens `url` (ws: or wss:) and gives its binary messages as the readable side, writes as
 * binary messages. A WebSocket cannot be told to stop reading: what the engine does not take
 * waits in the transport, which the module's receive budget bounds.
 */
export function webSocketSocket(url: string | URL): StreamSocket {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`h2wasm: the WebSocket bridge ${String(url)} failed`)), {
      once: true,
    });
  });
  opened.catch(() => {}); // the readable and the first write report it
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      ws.addEventListener('message', (e: MessageEvent) => {
        // Binary messages only: a bridge carries bytes (text would be a misconfigured one).
        if (e.data instanceof ArrayBuffer) controller.enqueue(new Uint8Array(e.data));
        else controller.error(new Error('h2wasm: the WebSocket bridge sent a text message (bytes expected)'));
      });
      ws.addEventListener('close', (e: CloseEvent) => {
        try {
          // A clean close (1000) is the TCP stream's end; any other (1006: the bridge's
          // connection dropped, 1011: its TCP side failed) is an error, not an EOF.
          if (e.code === 1000) controller.close();
          else
            controller.error(
              new Error(`h2wasm: the WebSocket bridge closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`),
            );
        } catch {
          // already errored
        }
      });
      ws.addEventListener('error', () =>
        controller.error(new Error(`h2wasm: the WebSocket bridge ${String(url)} failed`)),
      );
    },
    cancel: () => ws.close(),
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await opened;
      if (ws.readyState !== WebSocket.OPEN) throw new Error('h2wasm: the WebSocket bridge closed');
      ws.send(chunk);
      while (ws.bufferedAmount > BRIDGE_BUFFER && ws.readyState === WebSocket.OPEN)
        await new Promise((r) => setTimeout(r, BRIDGE_POLL_MS));
    },
    close: () => ws.close(),
    abort: () => ws.close(),
  });
  return { readable, writable, close: () => ws.close() };
}
