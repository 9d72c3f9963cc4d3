// Which protocol a connection speaks, from what it sends first: the HTTP/2 preface, an
// HTTP/1.x request (which may ask to upgrade to h2c), or neither (the engine answers that
// with GOAWAY PROTOCOL_ERROR, as it always has). serve() routes the socket by the answer.
import type net from 'node:net';
import { PREFACE, headEnd, parseH2cUpgrade, upgradePrelude } from './h2c-upgrade.js';

/** An HTTP/1.x request line (RFC 9112 §3): method, target, version. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ ]+ HTTP\/1\.[0-9]$/;
/** What may still become one: no CRLF yet, nothing that a request line cannot hold. */
const REQUEST_LINE_SO_FAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: [^ \r\n]*(?: ([^\r\n]*)\r?)?)?$/;
const UPGRADE_FIELD = /\r\nupgrade:/i;
/** The head looked at is at most this long, in at most this many reads: a client that
 *  dribbles it is handed on as it is (node's parser and its head timeout take it from there). */
const MAX_HEAD = 16_384;
const MAX_READS = 64;

/** What a peer that said nothing in time gets: an empty SETTINGS (the server preface), then
 *  GOAWAY with last stream 0 and SETTINGS_TIMEOUT (0x4), as the engine sends it. */
const SETTINGS_TIMEOUT = Uint8Array.from([
  ...[0, 0, 0, 0x4, 0, 0, 0, 0, 0],
  ...[0, 0, 8, 0x7, 0, 0, 0, 0, 0],
  ...[0, 0, 0, 0, 0, 0, 0, 0x4],
]);
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
/** How long a timed-out socket may take to take our last words and close. */
const LINGER_MS = 2000;

export type FirstBytes =
  | { kind: 'h2'; bytes: Uint8Array }
  /** An upgrade: what the engine reads first (upgradePrelude), and the bytes after the request head. */
  | { kind: 'h2c'; prelude: Uint8Array; rest: Uint8Array }
  | { kind: 'http1' };

/**
 * Waits for what a connection sends first and says what it is. The socket is paused when
 * `decided` runs, with HTTP/1.x's bytes put back for node's parser. An HTTP/1.x head with
 * an Upgrade field is waited for whole (clients send it in one write) to see whether it
 * asks for h2c, when `h2c` allows it (cleartext only: RFC 7540 §3.2). A connection that
 * sends nothing decisive within `timeoutMs` gets GOAWAY SETTINGS_TIMEOUT (or a 408, when
 * what it sent began a request line) and is closed; one that fails is destroyed; then
 * `decided` never runs.
 */
export function sniff(socket: net.Socket, timeoutMs: number, h2c: boolean, decided: (first: FirstBytes) => void): void {
  let got: Buffer | undefined;
  let reads = 0;
  const timer = setTimeout(() => expire(), timeoutMs);
  // Until the new owner has its own: a reset mid-check must not be an uncaught error.
  const onError = () => socket.destroy();
  const stop = () => {
    clearTimeout(timer);
    socket.pause();
    socket.off('data', onData);
    socket.off('close', stop);
    socket.off('error', onError);
  };
  // Nothing decisive in time: answered as each protocol answers a peer that is too slow to
  // start (an HTTP/2 server: its SETTINGS, then GOAWAY SETTINGS_TIMEOUT; HTTP/1.1: 408), then closed.
  const expire = () => {
    stop();
    socket.on('error', () => socket.destroy());
    const preface =
      got !== undefined &&
      got.compare(PREFACE, 0, Math.min(got.length, PREFACE.length), 0, Math.min(got.length, PREFACE.length)) === 0;
    const http1 = got !== undefined && !preface && REQUEST_LINE_SO_FAR.test(got.toString('latin1'));
    socket.end(http1 ? REQUEST_TIMEOUT : SETTINGS_TIMEOUT);
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  const decide = (first: FirstBytes) => {
    stop();
    decided(first);
  };
  // HTTP/1.x: the bytes go back for node's parser, once this listener is off (unshift
  // re-emits them at once to whoever listens).
  const http1 = (bytes: Buffer) => {
    stop();
    socket.unshift(bytes);
    decided({ kind: 'http1' });
  };
  const onData = (chunk: Buffer) => {
    got = got ? Buffer.concat([got, chunk]) : chunk;
    reads++;
    const room = got.length < MAX_HEAD && reads < MAX_READS;
    const n = Math.min(got.length, PREFACE.length);
    if (got.compare(PREFACE, 0, n, 0, n) === 0) {
      if (got.length < PREFACE.length) return; // a preface so far: wait for the rest
      return decide({ kind: 'h2', bytes: got });
    }
    const lineEnd = got.indexOf('\r\n');
    if (lineEnd < 0) {
      const viable = REQUEST_LINE_SO_FAR.exec(got.toString('latin1'));
      const version = viable?.[1];
      if (viable && (version === undefined || 'HTTP/1.1'.startsWith(version) || /^HTTP\/1\.[0-9]$/.test(version))) {
        if (room) return; // not whole yet
        return http1(got); // a long line: node answers it (414, 431, 408)
      }
      return decide({ kind: 'h2', bytes: got }); // a TLS ClientHello, binary: at once
    }
    if (!REQUEST_LINE.test(got.toString('latin1', 0, lineEnd))) return decide({ kind: 'h2', bytes: got });
    // A head that names an upgrade is waited for whole, to see whether it asks for h2c; any
    // other goes to node at once (its head timeout answers a dribbled one with 408).
    if (h2c && room && headEnd(got) < 0 && UPGRADE_FIELD.test(got.toString('latin1'))) return;
    const request = h2c ? parseH2cUpgrade(got) : null;
    const prelude = request && upgradePrelude(request);
    if (request && prelude) return decide({ kind: 'h2c', prelude, rest: request.rest });
    http1(got);
  };
  socket.on('data', onData);
  socket.on('close', stop);
  socket.on('error', onError);
}
