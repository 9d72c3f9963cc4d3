// HTTP objects of the ABI: headers (a field list), requests, responses and bufs.
// Headers keep the flat field-list format the engine and HPACK use, so a message goes
// to and from the wire without re-encoding. Names are lowercased on the way in (HTTP/2
// requires it, §8.2.1), so a hyper client that sets "Host" ports unchanged.
import { ByteBuffer } from '../util/bytes';
import {
  FIELD_HEADER,
  fieldFlags,
  fieldName,
  fieldNameLen,
  fieldSize,
  fieldValue,
  fieldValueLen,
  nextField,
} from '../hpack';
import { Disposable } from './task';
import { HandleKind, handleNew, handleRelease } from './handles';

/** Most bytes one header list may take. */
export const HEADERS_LIMIT: u32 = 1 << 26;

export class Headers extends Disposable {
  handle: u32 = 0;
  list: ByteBuffer;

  /** Empty, or over `list` (a well-formed field list with lowercase names), taken. */
  constructor(list: ByteBuffer | null = null) {
    super();
    this.list = list != null ? list : new ByteBuffer(HEADERS_LIMIT);
  }

  dispose(): void {
    this.list.dispose();
  }

  /** The handle the host reads this through; created once, owned by the parent object. */
  borrowHandle(): u32 {
    if (this.handle == 0) this.handle = handleNew(HandleKind.HEADERS, this);
    return this.handle;
  }

  releaseHandle(): void {
    if (this.handle != 0) handleRelease(this.handle, HandleKind.HEADERS);
    this.handle = 0;
  }

  /** Appends a field, lowercasing the name. False past the size limit. */
  add(name: usize, nameLen: u32, value: usize, valueLen: u32, flags: u32): bool {
    const l = this.list;
    if (!l.reserve(FIELD_HEADER + nameLen + valueLen)) return false;
    const p = l.ptr + l.len;
    store<u32>(p, nameLen);
    store<u32>(p, valueLen, 4);
    store<u32>(p, flags, 8);
    for (let i: u32 = 0; i < nameLen; i++) {
      let c = load<u8>(name + i);
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      store<u8>(p + FIELD_HEADER + i, c);
    }
    memory.copy(p + FIELD_HEADER + nameLen, value, valueLen);
    l.len += FIELD_HEADER + nameLen + valueLen;
    return true;
  }

  /** Removes every field named `name` (compared lowercased); returns how many. */
  remove(name: usize, nameLen: u32): u32 {
    const l = this.list;
    let read: u32 = 0;
    let write: u32 = 0;
    let removed: u32 = 0;
    while (read < l.len) {
      const p = l.ptr + read;
      const size = fieldSize(p);
      if (nameIs(p, name, nameLen)) {
        removed++;
      } else {
        if (write != read) memory.copy(l.ptr + write, p, size);
        write += size;
      }
      read += size;
    }
    l.len = write;
    return removed;
  }

  /** Offset of the `index`-th field named `name`, or -1. */
  find(name: usize, nameLen: u32, index: u32): i64 {
    const l = this.list;
    let at: u32 = 0;
    let seen: u32 = 0;
    while (at < l.len) {
      const p = l.ptr + at;
      if (nameIs(p, name, nameLen)) {
        if (seen == index) return <i64>at;
        seen++;
      }
      at += fieldSize(p);
    }
    return -1;
  }

  count(): u32 {
    const l = this.list;
    let at: u32 = 0;
    let n: u32 = 0;
    while (at < l.len) {
      const p = l.ptr + at;
      at += fieldSize(p);
      n++;
    }
    return n;
  }

  /** Replaces the contents with a well-formed field list (names lowercased). */
  setAll(fields: usize, len: u32): bool {
    this.list.clear();
    const end = fields + <usize>len;
    for (let p = fields; p < end; p = nextField(p)) {
      if (!this.add(fieldName(p), fieldNameLen(p), fieldValue(p), fieldValueLen(p), fieldFlags(p))) return false;
    }
    return true;
  }

  copyFrom(fields: usize, len: u32): bool {
    const l = this.list;
    l.clear();
    if (!l.reserve(len)) return false;
    l.pushBytes(fields, len);
    return true;
  }
}

/** Does the field at `p` have the name [name, name+len) (ASCII case-insensitively)? */
function nameIs(p: usize, name: usize, len: u32): bool {
  if (fieldNameLen(p) != len) return false;
  const n = fieldName(p);
  for (let i: u32 = 0; i < len; i++) {
    const a = load<u8>(n + i);
    let b = load<u8>(name + i);
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (a != b) return false;
  }
  return true;
}

/** A byte buffer handed to the host (hyper_buf). */
export class Buf extends Disposable {
  constructor(public bytes: ByteBuffer) {
    super();
  }
  dispose(): void {
    this.bytes.dispose();
  }
}
