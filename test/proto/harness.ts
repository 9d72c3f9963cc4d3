// Test harness for assembly/proto: compiled to build/test/proto.wasm. Each unit of the
// connection layer keeps its exports in its own delimited section below.

// --- message validation ---
// Drives one MessageValidator (assembly/proto/message.ts); used by test/proto/message.test.ts.
// `alloc`/`free` are a plain allocator over the module heap for test input (putBytes).
import { MessageValidator } from '../../assembly/proto/message';

export function alloc(n: u32): usize {
  return heap.alloc(n);
}
export function free(p: usize): void {
  heap.free(p);
}

const mv = new MessageValidator();

export function msg_validate_request(ptr: usize, len: u32, enableConnectProtocol: bool): bool {
  return mv.validateRequest(ptr, len, enableConnectProtocol);
}
export function msg_validate_push_promise(ptr: usize, len: u32): bool {
  return mv.validatePushPromise(ptr, len);
}
export function msg_validate_response(ptr: usize, len: u32, requestMethod: u8): bool {
  return mv.validateResponse(ptr, len, requestMethod);
}
export function msg_validate_trailers(ptr: usize, len: u32): bool {
  return mv.validateTrailers(ptr, len);
}
export function msg_set_reject_host_mismatch(on: bool): void {
  mv.rejectHostMismatch = on;
}

/** errorMessage as a pointer to its UTF-16 code units and their byte length. */
export function msg_error_ptr(): usize {
  return changetype<usize>(mv.errorMessage);
}
export function msg_error_bytes(): u32 {
  return (<u32>mv.errorMessage.length) << 1;
}
export function msg_error_index(): i32 {
  return mv.errorIndex;
}

export function msg_kind(): u8 {
  return mv.kind;
}
export function msg_pseudo(): u32 {
  return mv.pseudo;
}
export function msg_field_count(): u32 {
  return mv.fieldCount;
}
export function msg_method(): u8 {
  return mv.method;
}
export function msg_status(): i32 {
  return mv.status;
}
export function msg_is_informational(): bool {
  return mv.isInformational;
}
export function msg_is_connect(): bool {
  return mv.isConnect;
}
export function msg_has_protocol(): bool {
  return mv.hasProtocol;
}
export function msg_has_authority(): bool {
  return mv.hasAuthority;
}
export function msg_has_host(): bool {
  return mv.hasHost;
}
export function msg_te_trailers(): bool {
  return mv.teTrailers;
}
export function msg_content_length(): i64 {
  return mv.contentLength;
}
export function msg_expected_data_length(): i64 {
  return mv.expectedDataLength;
}

/** Control data spans: 0 method, 1 scheme, 2 path, 3 authority, 4 protocol, 5 host. */
export function msg_span_ptr(which: i32): usize {
  switch (which) {
    case 0:
      return mv.methodPtr;
    case 1:
      return mv.schemePtr;
    case 2:
      return mv.pathPtr;
    case 3:
      return mv.authorityPtr;
    case 4:
      return mv.protocolPtr;
    case 5:
      return mv.hostPtr;
  }
  return 0;
}
export function msg_span_len(which: i32): u32 {
  switch (which) {
    case 0:
      return mv.methodLen;
    case 1:
      return mv.schemeLen;
    case 2:
      return mv.pathLen;
    case 3:
      return mv.authorityLen;
    case 4:
      return mv.protocolLen;
    case 5:
      return mv.hostLen;
  }
  return 0;
}
// --- end message validation ---

// --- rate limit ---
// One RateLimit (assembly/proto/rate-limit.ts) at a time; used by test/proto/rate-limit.test.ts.
import { RateLimit } from '../../assembly/proto/rate-limit';

let limit = new RateLimit(0, 0, 0);
export function rl_new(burst: u32, rate: u32, now: i64): void {
  limit = new RateLimit(burst, rate, now);
}
export function rl_update(now: i64): void {
  limit.update(now);
}
export function rl_drain(n: u32): bool {
  return limit.drain(n);
}
export function rl_available(): u32 {
  return limit.available;
}
// --- end rate limit ---

// --- pending queue ---
// One PendingQueue (assembly/proto/pending-queue.ts) over streams made here, named by
// their index; used by test/proto/pending-queue.test.ts.
import { PendingQueue } from '../../assembly/proto/pending-queue';
import { Stream } from '../../assembly/proto/stream';

let pq = new PendingQueue();
const pqStreams: Stream[] = [];
export function pq_new(streams: i32): void {
  pq = new PendingQueue();
  pqStreams.length = 0;
  for (let i = 0; i < streams; i++) {
    const s = new Stream(true, 65535, 65535);
    s.id = <u32>i;
    pqStreams.push(s);
  }
}
export function pq_enqueue(i: i32): void {
  pq.enqueue(pqStreams[i]);
}
export function pq_leave(i: i32): void {
  pq.leave(pqStreams[i]);
}
/** The index of the stream dequeued, -1 when none waits. */
export function pq_dequeue(): i32 {
  const s = pq.dequeue();
  return s == null ? -1 : <i32>s.id;
}
export function pq_count(): u32 {
  return pq.count;
}
export function pq_waits(i: i32): bool {
  return pq.has(pqStreams[i]);
}
// --- end pending queue ---

// --- GOAWAY state ---
// One GoAway (assembly/proto/go-away.ts); used by test/proto/go-away.test.ts.
import { GoAway } from '../../assembly/proto/go-away';

let ga = new GoAway();
export function ga_new(): void {
  ga = new GoAway();
}
export function ga_send(last: u32): void {
  ga.send(last);
}
export function ga_announce(): void {
  ga.announce();
}
export function ga_receive(last: u32): void {
  ga.receive(last);
}
export function ga_ignores(id: u32): bool {
  return ga.ignores(id);
}
export function ga_peer_last(): u32 {
  return ga.peerLastId;
}
export function ga_either(): bool {
  return ga.either;
}
// --- end GOAWAY state ---

// --- counts ---
// One Counts (assembly/proto/counts.ts) over streams made here (Stream imported above),
// named by their index; used by test/proto/counts.test.ts.
import { Counts } from '../../assembly/proto/counts';

let counts = new Counts();
const ctStreams: Stream[] = [];
export function ct_new(): void {
  counts = new Counts();
  ctStreams.length = 0;
}
/** A stream of ours (`local`) or of the peer's, not counted yet; returns its index. */
export function ct_stream(local: bool): i32 {
  ctStreams.push(new Stream(local, 65535, 65535));
  return ctStreams.length - 1;
}
export function ct_activate(i: i32): void {
  counts.activate(ctStreams[i]);
}
export function ct_deactivate(i: i32): void {
  counts.deactivate(ctStreams[i]);
}
export function ct_active_local(): u32 {
  return counts.activeLocal;
}
export function ct_active_remote(): u32 {
  return counts.activeRemote;
}
export function ct_may_open_local(peerMax: u32): bool {
  return counts.mayOpenLocal(peerMax);
}
export function ct_accepts_remote(acked: u32, configured: u32): bool {
  return counts.acceptsRemote(acked, configured);
}
export function ct_queue_control_reply(max: u32): bool {
  return counts.queueControlReply(max);
}
export function ct_control_replies_written(): void {
  counts.controlRepliesWritten();
}
/** The connection adds to `buffered` and `assigned` itself (sendData, assignCapacity). */
export function ct_add_buffered(n: u32): void {
  counts.buffered += n;
}
export function ct_add_assigned(n: u32): void {
  counts.assigned += n;
}
export function ct_may_buffer(len: u32, max: u32): bool {
  return counts.mayBuffer(len, max);
}
export function ct_unframed(): u64 {
  return counts.unframed;
}
export function ct_buffer_room(max: u32): i64 {
  return counts.bufferRoom(max);
}
export function ct_add_unreleased(n: u32): void {
  counts.addUnreleased(n);
}
export function ct_release(n: u32): void {
  counts.release(n);
}
export function ct_unreleased(): u64 {
  return counts.unreleased;
}
// --- end counts ---

// --- connection engine ---
export * from './engine-harness';

// --- receive window ---
// One RecvWindow (assembly/proto/flow.ts); used by test/proto/flow.test.ts.
import { RecvWindow } from '../../assembly/proto/flow';

let rw = new RecvWindow(65535);
export function rw_new(target: u32): void {
  rw = new RecvWindow(target);
}
export function rw_receive(n: u32): bool {
  return rw.receive(n);
}
export function rw_release(n: u32): u32 {
  return rw.release(n);
}
export function rw_set_target(n: u32): u32 {
  return rw.setTarget(n);
}
export function rw_window(): i64 {
  return rw.window;
}
