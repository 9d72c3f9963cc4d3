// The cleartext HTTP/1.1 `Upgrade: h2c` handshake (RFC 7540 §3.2; RFC 9113 deprecates it,
// some clients still send it: curl --http2, nghttp -u). The engine is given what a client
// with prior knowledge would have sent: the preface, the HTTP2-Settings as a SETTINGS
// frame and the upgraded request as HEADERS on stream 1 (half-closed, as §3.2 says). Two
// byte filters finish the disguise: the client's own preface, which follows the 101, is
// taken off its bytes, and the engine's SETTINGS ACK for the settings that came in the
// header is taken off ours (the 101 acknowledges them; nghttp2 treats an ACK for nothing
// as a connection error). No `node:` import: the server adapter brings the socket.
import { CONNECTION_FIELDS, requestTarget } from './http-fields.js';

export const PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export const SWITCHING_PROTOCOLS = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

/** A field line: token name, colon right after it, value of visible characters, SP and HTAB. */
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t \x21-\x7e\x80-\xff]*)$/;

/** The largest header block we put in one HEADERS frame (SETTINGS_MAX_FRAME_SIZE's floor). */
const MAX_BLOCK = 16_384;

export interface H2cRequest {
  /** The upgraded request as HTTP/2 fields: pseudo-headers first. */
  fields: [string, string][];
  /** The HTTP2-Settings payload, decoded. */
  settings: Uint8Array;
  /** Bytes after the request head (the client's preface, if it did not wait for the 101). */
  rest: Uint8Array;
}

/** Where the request head in `bytes` ends (after its blank line), or -1. */
export function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++)
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  return -1;
}

/**
 * The request in `bytes` when it asks for h2c as the spec allows us to accept it: HTTP/1.1,
 * `Upgrade` naming h2c, one HTTP2-Settings listed in `Connection`, and no body (a body
 * would have to be read whole before the switch; such a request is answered over HTTP/1.1,
 * which §3.2 lets a server do with any upgrade). null for anything else.
 */
export function parseH2cUpgrade(bytes: Uint8Array): H2cRequest | null {
  const end = headEnd(bytes);
  if (end < 0) return null;
  const lines = latin1(bytes.subarray(0, end - 4)).split('\r\n');
  const line = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.1$/.exec(lines[0]);
  if (!line || line[1] === 'CONNECT') return null;
  const head: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    // As strict as node's parser (RFC 9112 §5): a token, a colon, a value of visible
    // characters, spaces and tabs. Anything else is not taken here: node's parser answers it.
    const field = FIELD_LINE.exec(lines[i]);
    if (!field) return null;
    head.push([field[1].toLowerCase(), field[2].trim()]);
  }
  const tokens = (name: string) =>
    head
      .filter(([n]) => n === name)
      .flatMap(([, v]) => v.split(','))
      .map((t) => t.trim().toLowerCase());
  const connection = tokens('connection');
  const settingsFields = head.filter(([n]) => n === 'http2-settings');
  if (!tokens('upgrade').includes('h2c') || settingsFields.length !== 1) return null;
  if (!connection.includes('upgrade') || !connection.includes('http2-settings')) return null;
  if (head.some(([n, v]) => n === 'transfer-encoding' || (n === 'content-length' && v !== '0'))) return null;
  const settings = base64url(settingsFields[0][1]);
  if (!settings || settings.length % 6 !== 0) return null;
  const target = requestTarget(line[2], head.find(([n]) => n === 'host')?.[1] ?? '');
  if (!target) return null;
  const { authority, path } = target;
  const fields: [string, string][] = [
    [':method', line[1]],
    [':scheme', 'http'],
    [':path', path],
  ];
  if (authority) fields.push([':authority', authority]);
  for (const [n, v] of head) {
    if (CONNECTION_FIELDS.has(n) || connection.includes(n)) continue;
    if (n === 'te' && v.toLowerCase() !== 'trailers') continue;
    fields.push([n, v]);
  }
  return { fields, settings, rest: bytes.subarray(end) };
}

/** What the engine reads first: preface, SETTINGS (the header's), HEADERS of stream 1 with END_STREAM. */
export function upgradePrelude(req: H2cRequest): Uint8Array | null {
  const block = literalBlock(req.fields);
  if (block.length > MAX_BLOCK) return null;
  const out = new Uint8Array(PREFACE.length + 9 + req.settings.length + 9 + block.length);
  out.set(PREFACE, 0);
  let at = frameHeader(out, PREFACE.length, req.settings.length, 0x4, 0, 0);
  out.set(req.settings, at);
  at = frameHeader(out, at + req.settings.length, block.length, 0x1, 0x5, 1); // END_STREAM | END_HEADERS
  out.set(block, at);
  return out;
}

/**
 * Takes the client's connection preface off the front of its bytes. A client that sends
 * anything else has broken the upgrade (§3.5: the preface MUST follow the 101): `failed`
 * is called and nothing more passes.
 */
export function prefaceStripper(failed: () => void): (bytes: Uint8Array) => Uint8Array {
  let matched = 0;
  let broken = false;
  return (bytes) => {
    if (matched === PREFACE.length) return bytes;
    if (broken) return bytes.subarray(bytes.length);
    let i = 0;
    while (i < bytes.length && matched < PREFACE.length && bytes[i] === PREFACE[matched]) {
      i++;
      matched++;
    }
    if (i < bytes.length && matched < PREFACE.length) {
      broken = true;
      failed();
      return bytes.subarray(bytes.length);
    }
    return bytes.subarray(i);
  };
}

/** Takes the first SETTINGS ACK out of the engine's frames; the bytes before and after go unchanged. */
export function settingsAckDropper(): (bytes: Uint8Array) => Uint8Array {
  let done = false;
  let frameLeft = 0; // bytes of the current frame still to pass
  let held: Uint8Array | null = null; // a frame header split across writes
  return (input) => {
    if (done) return input;
    let bytes = input;
    if (held) {
      bytes = concat(held, input);
      held = null;
    }
    let at = 0;
    for (;;) {
      if (frameLeft > 0) {
        const n = Math.min(frameLeft, bytes.length - at);
        at += n;
        frameLeft -= n;
      }
      if (at === bytes.length) return bytes;
      if (bytes.length - at < 9) {
        held = bytes.slice(at);
        return bytes.subarray(0, at);
      }
      const length = (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2];
      if (bytes[at + 3] === 0x4 && (bytes[at + 4] & 0x1) !== 0) {
        done = true;
        return concat(bytes.subarray(0, at), bytes.subarray(at + 9 + length));
      }
      frameLeft = 9 + length;
    }
  };
}

function frameHeader(out: Uint8Array, at: number, length: number, type: number, flags: number, stream: number): number {
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  new DataView(out.buffer, out.byteOffset + at + 5, 4).setUint32(0, stream);
  return at + 9;
}

/**
 * HPACK: every field a literal without indexing and a new name, no Huffman (RFC 7541
 * §6.2.2): no table state. The fields were read as latin1, one char per byte: written back
 * the same way, their bytes reach the handler as they came (as over HTTP/1.1).
 */
function literalBlock(fields: [string, string][]): Uint8Array {
  const out: number[] = [];
  const string = (s: string) => {
    integer(out, s.length, 7, 0);
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
  };
  for (const [name, value] of fields) {
    out.push(0);
    string(name);
    string(value);
  }
  return Uint8Array.from(out);
}

/** RFC 7541 §5.1: `value` with an N-bit prefix, the first byte's high bits `high`. */
function integer(out: number[], value: number, bits: number, high: number): void {
  const max = (1 << bits) - 1;
  if (value < max) {
    out.push(high | value);
    return;
  }
  out.push(high | max);
  for (value -= max; value >= 128; value >>>= 7) out.push((value & 0x7f) | 0x80);
  out.push(value);
}

function base64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  try {
    const plain = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
    const b = atob(plain + '='.repeat((4 - (plain.length % 4)) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
