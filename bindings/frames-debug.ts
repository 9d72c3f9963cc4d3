// A frame logger for `h2wasm get -v`, in the style of `nghttp -v`: fed the raw bytes of
// both directions (the transport's sink for what we send, the socket for what we
// receive), it parses frames and decodes header blocks with one HPACK decoder per
// direction, mirroring each peer's decoder state. No `node:` import.
import { HpackDecoder } from './hpack.js';
import type { H2Module } from './loader.js';

const TYPES = [
  'DATA',
  'HEADERS',
  'PRIORITY',
  'RST_STREAM',
  'SETTINGS',
  'PUSH_PROMISE',
  'PING',
  'GOAWAY',
  'WINDOW_UPDATE',
  'CONTINUATION',
];
const ERRORS = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];
const SETTINGS: Record<number, string> = {
  1: 'SETTINGS_HEADER_TABLE_SIZE',
  2: 'SETTINGS_ENABLE_PUSH',
  3: 'SETTINGS_MAX_CONCURRENT_STREAMS',
  4: 'SETTINGS_INITIAL_WINDOW_SIZE',
  5: 'SETTINGS_MAX_FRAME_SIZE',
  6: 'SETTINGS_MAX_HEADER_LIST_SIZE',
  8: 'SETTINGS_ENABLE_CONNECT_PROTOCOL',
  9: 'SETTINGS_NO_RFC7540_PRIORITIES',
};
const PREFACE_LEN = 24;
const INDENT = '          ';

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
const errName = (code: number) => `${ERRORS[code] ?? 'UNKNOWN'}(${hex2(code)})`;

function flagNames(type: number, flags: number): string[] {
  const out: string[] = [];
  if ((type === 4 || type === 6) && flags & 0x1) out.push('ACK');
  if ((type === 0 || type === 1) && flags & 0x1) out.push('END_STREAM');
  if ((type === 1 || type === 5 || type === 9) && flags & 0x4) out.push('END_HEADERS');
  if ((type === 0 || type === 1 || type === 5) && flags & 0x8) out.push('PADDED');
  if (type === 1 && flags & 0x20) out.push('PRIORITY');
  return out;
}

/** One direction's parser state. */
class Direction {
  pending = new Uint8Array(0);
  prefaceLeft: number;
  block: Uint8Array[] = [];
  readonly decoder: HpackDecoder;
  constructor(
    readonly label: 'send' | 'recv',
    hasPreface: boolean,
    module?: H2Module,
  ) {
    this.prefaceLeft = hasPreface ? PREFACE_LEN : 0;
    this.decoder = new HpackDecoder(module);
    this.decoder.setMaxHeaderListSize(0xffffffff);
  }
}

export class FrameLogger {
  private readonly send: Direction;
  private readonly recv: Direction;
  private readonly start = Date.now();

  /**
   * `client`: the bytes we send open with the connection preface. `out` gets whole lines.
   * `module`: the instance the HPACK decoders live in (not one whose call is on the stack:
   * the logger is fed from inside io_write).
   */
  constructor(
    private readonly out: (line: string) => void,
    client = true,
    module?: H2Module,
  ) {
    this.send = new Direction('send', client, module);
    this.recv = new Direction('recv', !client, module);
  }

  /** Feeds bytes that went out ('send') or came in ('recv'). */
  feed(direction: 'send' | 'recv', bytes: Uint8Array): void {
    const d = direction === 'send' ? this.send : this.recv;
    let data = bytes;
    if (d.prefaceLeft > 0) {
      const skip = Math.min(d.prefaceLeft, data.length);
      if (d.prefaceLeft === PREFACE_LEN && skip > 0) this.line(d, 'client connection preface');
      d.prefaceLeft -= skip;
      data = data.subarray(skip);
    }
    if (data.length === 0) return;
    let buf: Uint8Array;
    if (d.pending.length === 0) buf = data;
    else {
      buf = new Uint8Array(d.pending.length + data.length);
      buf.set(d.pending, 0);
      buf.set(data, d.pending.length);
    }
    let at = 0;
    for (let guard = 0; guard < 1_000_000 && buf.length - at >= 9; guard++) {
      const len = (buf[at] << 16) | (buf[at + 1] << 8) | buf[at + 2];
      if (buf.length - at < 9 + len) break;
      const type = buf[at + 3];
      const flags = buf[at + 4];
      const id = (((buf[at + 5] & 0x7f) << 24) | (buf[at + 6] << 16) | (buf[at + 7] << 8) | buf[at + 8]) >>> 0;
      this.frame(d, type, flags, id, buf.subarray(at + 9, at + 9 + len));
      at += 9 + len;
    }
    d.pending = at === buf.length ? new Uint8Array(0) : buf.slice(at);
  }

  private line(d: Direction, text: string): void {
    const t = ((Date.now() - this.start) / 1000).toFixed(3).padStart(7);
    this.out(`[${t}] ${d.label} ${text}`);
  }

  private frame(d: Direction, type: number, flags: number, id: number, p: Uint8Array): void {
    const name = TYPES[type] ?? `UNKNOWN(${hex2(type)})`;
    this.line(d, `${name} frame <length=${p.length}, flags=${hex2(flags)}, stream_id=${id}>`);
    const fl = flagNames(type, flags);
    if (fl.length) this.out(`${INDENT}; ${fl.join(' | ')}`);
    const u32 = (o: number) => ((p[o] << 24) | (p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3]) >>> 0;
    const padded = (type === 0 || type === 1 || type === 5) && (flags & 0x8) !== 0;
    let s = padded ? 1 : 0;
    const e = p.length - (padded && p.length > 0 ? p[0] : 0);
    switch (type) {
      case 1: // HEADERS
        if (flags & 0x20) {
          this.out(
            `${INDENT}(padlen=${padded ? p[0] : 0}, dep_stream_id=${u32(s) & 0x7fffffff}, weight=${p[s + 4] + 1}, exclusive=${p[s] >> 7})`,
          );
          s += 5;
        }
        this.headerFragment(d, p.subarray(s, Math.max(s, e)), (flags & 0x4) !== 0);
        break;
      case 5: // PUSH_PROMISE
        this.out(`${INDENT}(padlen=${padded ? p[0] : 0}, promised_stream_id=${u32(s) & 0x7fffffff})`);
        this.headerFragment(d, p.subarray(s + 4, Math.max(s + 4, e)), (flags & 0x4) !== 0);
        break;
      case 9: // CONTINUATION
        this.headerFragment(d, p, (flags & 0x4) !== 0);
        break;
      case 3: // RST_STREAM
        if (p.length >= 4) this.out(`${INDENT}(error_code=${errName(u32(0))})`);
        break;
      case 4: // SETTINGS
        if (!(flags & 1)) {
          this.out(`${INDENT}(niv=${Math.floor(p.length / 6)})`);
          for (let o = 0; o + 6 <= p.length; o += 6) {
            const k = (p[o] << 8) | p[o + 1];
            const v = u32(o + 2);
            this.out(`${INDENT}[${SETTINGS[k] ?? 'UNKNOWN'}(${hex2(k)}):${v}]`);
            // The peer's HEADER_TABLE_SIZE bounds what the other direction's encoder may use.
            if (k === 1) (d === this.send ? this.recv : this.send).decoder.setMaxTableSize(v);
          }
        }
        break;
      case 6: // PING
        this.out(`${INDENT}(opaque_data=${[...p].map((b) => b.toString(16).padStart(2, '0')).join('')})`);
        break;
      case 7: // GOAWAY
        if (p.length >= 8) {
          const debug = new TextDecoder().decode(p.subarray(8));
          this.out(
            `${INDENT}(last_stream_id=${u32(0) & 0x7fffffff}, error_code=${errName(u32(4))}, opaque_data(${p.length - 8})=[${debug}])`,
          );
        }
        break;
      case 8: // WINDOW_UPDATE
        if (p.length >= 4) this.out(`${INDENT}(window_size_increment=${u32(0) & 0x7fffffff})`);
        break;
    }
  }

  private headerFragment(d: Direction, fragment: Uint8Array, end: boolean): void {
    d.block.push(fragment.slice());
    if (!end) return;
    const parts = d.block;
    d.block = [];
    let total = 0;
    for (const b of parts) total += b.length;
    const block = new Uint8Array(total);
    let at = 0;
    for (const b of parts) {
      block.set(b, at);
      at += b.length;
    }
    try {
      for (const [name, value] of d.decoder.decode(block)) this.out(`${INDENT}${name}: ${value}`);
    } catch (e) {
      this.out(`${INDENT}(header block not decoded: ${(e as Error).message})`);
    }
  }

  free(): void {
    this.send.decoder.free();
    this.recv.decoder.free();
  }
}
