// Assembly of one field block from HEADERS or PUSH_PROMISE plus CONTINUATION frames
// (RFC 9113 §4.3, §6.10). The frame decoder already guarantees nothing is interleaved;
// this enforces the limits before anything is buffered past them (CVE-2024-27316): the
// number of CONTINUATION frames and the encoded size.

/** Encoded bytes we accept per block beyond the header-list limit (HPACK overhead is small). */
const ENCODED_SLACK: u32 = 1024;

import { ByteBuffer } from '../util/bytes';
import { Msg, msg } from '../util/messages';

export class FieldBlock {
  type: u8 = 0;
  streamId: u32 = 0;
  promisedId: u32 = 0;
  endStream: bool = false;
  /** Why begin/append failed (a static string). */
  error: string = '';
  private continuations: u32 = 0;
  private buf: ByteBuffer = new ByteBuffer();
  // When the whole block came in one frame, it is decoded in place: no copy.
  private inPlacePtr: usize = 0;
  private inPlaceLen: u32 = 0;

  constructor(
    public maxContinuations: u32,
    public maxBytes: u32,
  ) {}

  @inline get ptr(): usize {
    return this.inPlacePtr != 0 ? this.inPlacePtr : this.buf.ptr;
  }
  @inline get len(): u32 {
    return this.inPlacePtr != 0 ? this.inPlaceLen : this.buf.len;
  }

  /**
   * First fragment (from HEADERS or PUSH_PROMISE), kept in place: valid until the next
   * decoder push, so a block without END_HEADERS must be held (hold()) before then.
   */
  begin(type: u8, streamId: u32, promisedId: u32, endStream: bool, frag: usize, len: u32): bool {
    this.type = type;
    this.streamId = streamId;
    this.promisedId = promisedId;
    this.endStream = endStream;
    this.continuations = 0;
    this.buf.clear();
    this.inPlacePtr = frag == 0 ? changetype<usize>(EMPTY) : frag;
    this.inPlaceLen = len;
    return this.checkSize(len);
  }

  /**
   * The block goes on in CONTINUATION frames: copy the first fragment into our buffer now.
   * The decoder's payload is only valid until its next push, and the next read may reuse
   * that memory (the host's read buffer, or the decoder's own for a frame split across
   * reads), so it cannot wait for the CONTINUATION.
   */
  hold(): bool {
    if (this.inPlacePtr == 0) return true;
    const buf = this.buf;
    if (!buf.reserve(this.inPlaceLen)) {
      this.error = 'out of memory buffering a field block';
      return false;
    }
    buf.pushBytes(this.inPlacePtr, this.inPlaceLen);
    this.inPlacePtr = 0;
    this.inPlaceLen = 0;
    return true;
  }

  /** A CONTINUATION fragment: the block moves into our buffer from here on. */
  append(frag: usize, len: u32): bool {
    if (++this.continuations > this.maxContinuations) {
      this.error = msg(Msg.TOO_MANY_CONTINUATION_FRAMES);
      return false;
    }
    const buf = this.buf;
    if (this.inPlacePtr != 0) {
      if (!this.checkSize(this.inPlaceLen + len) || !buf.reserve(this.inPlaceLen)) return false;
      buf.pushBytes(this.inPlacePtr, this.inPlaceLen);
      this.inPlacePtr = 0;
      this.inPlaceLen = 0;
    }
    if (!this.checkSize(buf.len + len) || !buf.reserve(len)) return false;
    buf.pushBytes(frag, len);
    return true;
  }

  private checkSize(total: u32): bool {
    const limit = <u64>this.maxBytes + <u64>ENCODED_SLACK;
    if (<u64>total > limit) {
      this.error = msg(Msg.FIELD_BLOCK_LARGER_THAN);
      return false;
    }
    return true;
  }

  clear(): void {
    this.buf.clear();
    this.inPlacePtr = 0;
    this.inPlaceLen = 0;
  }

  dispose(): void {
    this.buf.dispose();
  }
}

const EMPTY: StaticArray<u8> = [0];
