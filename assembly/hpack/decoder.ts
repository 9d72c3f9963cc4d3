// The HPACK decoder (RFC 7541 §3, §6): header block in, flat field list (field-list.ts)
// out, appended to a caller's ByteBuffer. Nothing is allocated per field: literals are
// decoded (Huffman included) straight into the output, and an entry is added to the
// dynamic table by copying it from there.
//
// Failures. decode() answers a DecodeStatus; `error` then holds a static message naming
// the fault. After MALFORMED or OUT_OF_MEMORY the decoder's state is undefined: HTTP/2
// treats any decoding error as a connection error of type COMPRESSION_ERROR, and the
// decoder must not be used again. LIST_TOO_LARGE is the exception: the block was decoded
// to its end (so the dynamic table stays in step with the peer's encoder) but the fields
// from the one that crossed SETTINGS_MAX_HEADER_LIST_SIZE on were dropped, not buffered;
// the decoder stays usable and the connection layer can refuse just that stream.
import { ByteBuffer } from '../util/bytes';
import { decodeInteger, intEnd, INT_OVERFLOW } from './integer';
import { decodeString, stringEnd, stringLen, STR_OK } from './string';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table';
import {
  STATIC_TABLE_LENGTH,
  staticNameLen,
  staticNamePtr,
  staticValueLen,
  staticFlatLen,
  staticFlatPtr,
} from './static-table';
import { copyBytes } from './copy';
import { FIELD_HEADER, FLAG_NEVER_INDEX, writeFieldHeader } from './field-list';
import { Msg, msg } from '../util/messages';

export const enum DecodeStatus {
  OK = 0,
  /** The block breaks RFC 7541 (COMPRESSION_ERROR); the decoder is unusable. */
  MALFORMED = 1,
  /** The header list exceeds maxHeaderListSize; the block was consumed, fields dropped. */
  LIST_TOO_LARGE = 2,
  /** The output could not grow; the decoder is unusable. */
  OUT_OF_MEMORY = 3,
}

export const ERR_INDEX_ZERO = Msg.HPACK_INDEX_ZERO;
export const ERR_INDEX_RANGE = Msg.HPACK_INDEX_RANGE;
export const ERR_INT_OVERFLOW = Msg.HPACK_INT_OVERFLOW;
export const ERR_INT_TRUNCATED = Msg.HPACK_INT_TRUNCATED;
export const ERR_STR_TRUNCATED = Msg.HPACK_STR_TRUNCATED;
export const ERR_HUFF_EOS = Msg.HPACK_HUFF_EOS;
export const ERR_HUFF_PADDING_LONG = Msg.HPACK_HUFF_PADDING_LONG;
export const ERR_HUFF_PADDING_BAD = Msg.HPACK_HUFF_PADDING_BAD;
export const ERR_UPDATE_TOO_LARGE = Msg.HPACK_UPDATE_TOO_LARGE;
export const ERR_UPDATE_NOT_FIRST = Msg.HPACK_UPDATE_NOT_FIRST;
export const ERR_UPDATE_REQUIRED = Msg.HPACK_UPDATE_REQUIRED;
export const ERR_UPDATE_ABOVE_LOWERED = Msg.HPACK_UPDATE_ABOVE_LOWERED;
export const ERR_LIST_TOO_LARGE = Msg.HPACK_LIST_TOO_LARGE;
export const ERR_OUT_OF_MEMORY = 'hpack: out of memory for the decoded header list';

// decodeString's codes 1..6 → messages (7, out of memory, has its own path).
const STRING_ERRORS: StaticArray<Msg> = [
  0,
  ERR_INT_TRUNCATED,
  ERR_INT_OVERFLOW,
  ERR_STR_TRUNCATED,
  ERR_HUFF_EOS,
  ERR_HUFF_PADDING_LONG,
  ERR_HUFF_PADDING_BAD,
];

export const DEFAULT_MAX_TABLE_SIZE: u32 = 4096;
export const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 65536;

export class Decoder {
  /** The dynamic table (inspect `size`, `count`, `maxSize`; index with `entry(i)`). */
  readonly table: DynamicTable;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest size update the peer may send. */
  maxTableSize: u32;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE, counted as RFC 9113 §6.5.2 does. */
  maxHeaderListSize: u32;
  /** The message of the last failure, "" when none. Static: never freed. */
  error: string = '';

  /** Set when maxTableSize was lowered below the table's size: the next block must start with an update. */
  private updateRequired: bool = false;
  /** The smallest maxTableSize since the last update seen (what the first update must not exceed). */
  private lowestSetting: u32 = 0;

  constructor(maxTableSize: u32 = DEFAULT_MAX_TABLE_SIZE, maxHeaderListSize: u32 = DEFAULT_MAX_HEADER_LIST_SIZE) {
    this.maxTableSize = maxTableSize;
    this.maxHeaderListSize = maxHeaderListSize;
    this.table = new DynamicTable(maxTableSize, false);
  }

  /**
   * Applies a new SETTINGS_HEADER_TABLE_SIZE of ours (call when the peer acknowledged it).
   * When it is below the table's current maximum, the table shrinks now and the peer's
   * next block must begin with a size update ≤ n (RFC 7541 §4.2).
   */
  setMaxTableSize(n: u32): void {
    this.maxTableSize = n;
    if (n < this.table.maxSize) {
      this.lowestSetting = this.updateRequired ? min(this.lowestSetting, n) : n;
      this.updateRequired = true;
      this.table.setMaxSize(n);
    }
  }

  setMaxHeaderListSize(n: u32): void {
    this.maxHeaderListSize = n;
  }

  /** Frees the table's memory; the decoder must not be used afterwards. */
  dispose(): void {
    this.table.dispose();
  }

  /**
   * Decodes one complete header block [src, src+len) (the HEADERS/PUSH_PROMISE fragment and
   * all its CONTINUATIONs, joined) and appends its fields to `out`. On any status but OK,
   * `out` is left as it was.
   */
  decode(src: usize, len: u32, out: ByteBuffer): DecodeStatus {
    const start = out.len;
    const status = this.decodeBlock(src, len, out);
    if (status != DecodeStatus.OK) out.len = start;
    return status;
  }

  private decodeBlock(src: usize, len: u32, out: ByteBuffer): DecodeStatus {
    const start = out.len;
    const end = src + <usize>len;
    const limit = <u64>this.maxHeaderListSize;
    const table = this.table;
    let p = src;
    let listSize: u64 = 0;
    let tooLarge = false;
    let fieldSeen = false;
    while (p < end) {
      const b = <u32>load<u8>(p);
      let nameLen: u32;
      let valueLen: u32;
      if (b >= 0x80) {
        // Indexed header field (§6.1).
        let index = b & 0x7f;
        if (index < 0x7f) {
          p++;
        } else {
          const v = decodeInteger(p, end, 7);
          if (v < 0) return this.intFail(v);
          index = <u32>v;
          p = intEnd;
        }
        if (this.updateRequired) return this.fail(ERR_UPDATE_REQUIRED);
        if (index == 0) return this.fail(ERR_INDEX_ZERO);
        // Once the list is over the limit, nothing more is kept: an index costs its lookup
        // only, not a copy (an HPACK bomb — one byte naming a 4 KB table entry, thousands of
        // times in a block — would otherwise cost a 4 KB copy per input byte).
        if (index <= STATIC_TABLE_LENGTH) {
          nameLen = staticNameLen(index);
          valueLen = staticValueLen(index);
          if (!tooLarge) {
            const n = staticFlatLen(index);
            if (!out.reserve(n)) return this.failOutOfMemory();
            copyBytes(out.ptr + <usize>out.len, staticFlatPtr(index), n);
            out.len += n;
          }
        } else {
          const d = index - STATIC_TABLE_LENGTH;
          if (d > table.count) return this.fail(ERR_INDEX_RANGE);
          const e = table.entry(d);
          nameLen = table.nameLen(e);
          valueLen = table.valueLen(e);
          if (!tooLarge) {
            if (!out.reserve(FIELD_HEADER + nameLen + valueLen)) return this.failOutOfMemory();
            const o = out.ptr + <usize>out.len;
            writeFieldHeader(o, nameLen, valueLen, 0);
            table.copyField(e, o + FIELD_HEADER);
            out.len += FIELD_HEADER + nameLen + valueLen;
          }
        }
      } else if (b >= 0x40 || b < 0x20) {
        // Literal with incremental indexing (§6.2.1), without indexing (§6.2.2) or
        // never indexed (§6.2.3).
        const indexing = b >= 0x40;
        const mask: u32 = indexing ? 0x3f : 0x0f;
        let index = b & mask;
        if (index < mask) {
          p++;
        } else {
          const v = decodeInteger(p, end, indexing ? 6 : 4);
          if (v < 0) return this.intFail(v);
          index = <u32>v;
          p = intEnd;
        }
        if (this.updateRequired) return this.fail(ERR_UPDATE_REQUIRED);
        if (!out.reserve(FIELD_HEADER)) return this.failOutOfMemory();
        const at = out.len;
        out.len += FIELD_HEADER;
        if (index == 0) {
          if (p >= end) return this.fail(ERR_STR_TRUNCATED);
          const s = decodeString(p, end, out);
          if (s != STR_OK) return this.stringFail(s);
          nameLen = stringLen;
          p = stringEnd;
        } else if (index <= STATIC_TABLE_LENGTH) {
          nameLen = staticNameLen(index);
          if (!out.reserve(nameLen)) return this.failOutOfMemory();
          copyBytes(out.ptr + <usize>out.len, staticNamePtr(index), nameLen);
          out.len += nameLen;
        } else {
          const d = index - STATIC_TABLE_LENGTH;
          if (d > table.count) return this.fail(ERR_INDEX_RANGE);
          const e = table.entry(d);
          nameLen = table.nameLen(e);
          if (!out.reserve(nameLen)) return this.failOutOfMemory();
          table.copyName(e, out.ptr + <usize>out.len);
          out.len += nameLen;
        }
        if (p >= end) return this.fail(ERR_STR_TRUNCATED);
        const s = decodeString(p, end, out);
        if (s != STR_OK) return this.stringFail(s);
        valueLen = stringLen;
        p = stringEnd;
        const o = out.ptr + <usize>at;
        writeFieldHeader(o, nameLen, valueLen, (b & 0xf0) == 0x10 ? FLAG_NEVER_INDEX : 0);
        if (indexing) {
          const np = o + FIELD_HEADER;
          table.add(np, nameLen, np + <usize>nameLen, valueLen, 0, 0);
        }
      } else {
        // Dynamic table size update (§6.3): only before the first field.
        if (fieldSeen) return this.fail(ERR_UPDATE_NOT_FIRST);
        let size = b & 0x1f;
        if (size < 0x1f) {
          p++;
        } else {
          const v = decodeInteger(p, end, 5);
          if (v < 0) return this.intFail(v);
          size = <u32>v;
          p = intEnd;
        }
        if (size > this.maxTableSize) return this.fail(ERR_UPDATE_TOO_LARGE);
        if (this.updateRequired) {
          if (size > this.lowestSetting) return this.fail(ERR_UPDATE_ABOVE_LOWERED);
          this.updateRequired = false;
        }
        table.setMaxSize(size);
        continue;
      }
      fieldSeen = true;
      listSize += <u64>nameLen + <u64>valueLen + <u64>ENTRY_OVERHEAD;
      if (listSize > limit) {
        // Keep decoding (the table must follow the peer's) but stop buffering fields.
        tooLarge = true;
        out.len = start;
      }
    }
    if (tooLarge) {
      out.len = start;
      this.error = msg(ERR_LIST_TOO_LARGE);
      return DecodeStatus.LIST_TOO_LARGE;
    }
    this.error = '';
    return DecodeStatus.OK;
  }

  private fail(message: Msg): DecodeStatus {
    this.error = msg(message);
    return DecodeStatus.MALFORMED;
  }

  // A literal, not msg(): reporting it must not allocate.
  private failOutOfMemory(): DecodeStatus {
    this.error = ERR_OUT_OF_MEMORY;
    return DecodeStatus.OUT_OF_MEMORY;
  }

  private intFail(v: i64): DecodeStatus {
    return this.fail(v == INT_OVERFLOW ? ERR_INT_OVERFLOW : ERR_INT_TRUNCATED);
  }

  private stringFail(code: i32): DecodeStatus {
    return code == 7 ? this.failOutOfMemory() : this.fail(unchecked(STRING_ERRORS[code]));
  }
}
