// Finishes compiling a module's client path ahead of its first connection. V8 compiles a
// wasm function lazily, at its first call (Liftoff, on the main thread), so a module fresh
// from WebAssembly.compile is mostly uncompiled: the first handshake of a process paid
// ~1.3 ms compiling its functions (bench/latency.mjs, issue #20). The compiled code belongs
// to the module, shared by every instance, so running one client handshake and one request
// here, in a scratch instance against canned server frames, leaves it compiled for all.
// The raw exports only: no JavaScript of the bindings runs, nothing is kept.
import { H2_IO, TASK } from './abi.js';

/** What the scratch client reads: the server's SETTINGS (the values servers commonly send,
 *  so that applying each is compiled too), a connection WINDOW_UPDATE and the ACK of ours,
 *  then the response to its GET on stream 1 (HEADERS :status 200 and a content-type, DATA "ok"). */
const HANDSHAKE_FRAMES = Uint8Array.of(
  ...[0, 0, 30, 4, 0, 0, 0, 0, 0], // SETTINGS:
  ...[0, 1, 0, 0, 0x10, 0], // HEADER_TABLE_SIZE 4096
  ...[0, 2, 0, 0, 0, 0], // ENABLE_PUSH 0
  ...[0, 3, 0, 0, 0, 100], // MAX_CONCURRENT_STREAMS 100
  ...[0, 4, 0, 0x10, 0, 0], // INITIAL_WINDOW_SIZE 1 MiB
  ...[0, 6, 0, 1, 0, 0], // MAX_HEADER_LIST_SIZE 64 KiB
  ...[0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0x0f, 0, 1], // WINDOW_UPDATE stream 0, +983041
  ...[0, 0, 0, 4, 1, 0, 0, 0, 0], // SETTINGS ACK
);
const RESPONSE_FRAMES = Uint8Array.of(
  // HEADERS, END_HEADERS: :status 200 (indexed), content-type: text/plain (Huffman)
  ...[0, 0, 10, 1, 4, 0, 0, 0, 1, 0x88, 0x5f, 0x87, 0x49, 0x7c, 0xa5, 0x8a, 0xe8, 0x19, 0xaa],
  ...[0, 0, 2, 0, 1, 0, 0, 0, 1, 0x6f, 0x6b], // DATA, END_STREAM: "ok"
);

/** Runs a client handshake and a GET in a scratch instance of `module`; true when it got
 *  through to the body. Never throws: a module without the client exports (a test
 *  harness's) is left as it is. */
export function warmUp(module: WebAssembly.Module): boolean {
  let inbox: Uint8Array | undefined = HANDSHAKE_FRAMES;
  let waker = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let ex: any;
  const fail = () => H2_IO.ERROR;
  try {
    const instance = new WebAssembly.Instance(module, {
      h2_host: {
        io_read: (_ud: number, ctx: number, buf: number, len: number) => {
          if (!inbox) {
            waker = ex.h2_context_waker(ctx);
            return H2_IO.PENDING;
          }
          const n = Math.min(inbox.length, len >>> 0);
          new Uint8Array(ex.memory.buffer, buf >>> 0, n).set(inbox.subarray(0, n));
          inbox = n < inbox.length ? inbox.subarray(n) : undefined;
          return n;
        },
        io_write: (_ud: number, _ctx: number, _buf: number, len: number) => len,
        body_read: fail,
        send_data: fail,
        headers_foreach: () => 1,
        informational: () => {},
      },
    });
    ex = instance.exports;
    const exec = ex.h2_executor_new();
    let conn = 0;
    let response = 0;
    let chunk = 0;
    /** One poll round as the runtime runs it; keeps what the tasks hold. */
    const round = () => {
      ex.h2_executor_set_time(exec, 0n);
      for (let task: number; (task = ex.h2_executor_poll(exec)) !== 0;) {
        ex.h2_task_userdata(task);
        const type = ex.h2_task_type(task);
        const value = ex.h2_task_value(task);
        if (type === TASK.CLIENTCONN) conn = value;
        else if (type === TASK.RESPONSE) response = value;
        ex.h2_task_free(task);
      }
      ex.h2_executor_next_deadline(exec);
    };
    const push = (task: number) => {
      ex.h2_task_set_userdata(task, 1);
      ex.h2_executor_push(exec, task);
    };
    const io = ex.h2_io_new();
    ex.h2_io_set_userdata(io, 1);
    const opts = ex.h2_clientconn_options_new();
    ex.h2_clientconn_options_exec(opts, exec);
    push(ex.h2_clientconn_handshake(io, opts));
    round();
    if (!conn) return false;
    push(ex.h2_clientconn_poll_close(conn));
    const req = ex.h2_request_new();
    const target = 'httplocalhost/';
    const p = ex.h2_alloc(target.length) >>> 0;
    new Uint8Array(ex.memory.buffer, p, target.length).set(Array.from(target, (c) => c.charCodeAt(0)));
    ex.h2_request_set_uri_parts(req, p, 4, p + 4, 9, p + 13, 1);
    ex.h2_free(p);
    push(ex.h2_clientconn_send(conn, req));
    round();
    inbox = RESPONSE_FRAMES;
    if (waker) ex.h2_waker_wake(waker);
    round();
    if (!response) return false;
    ex.h2_response_status(response);
    const fields = ex.h2_response_headers(response);
    ex.h2_headers_fields(fields);
    ex.h2_headers_fields_len(fields);
    const body = ex.h2_response_body(response);
    ex.h2_response_free(response);
    if (!body) return false;
    // As the client reads a small body: what came with the head, in the call.
    const area = ex.h2_alloc(64) >>> 0;
    chunk = ex.h2_body_read(body, area, 64);
    ex.h2_free(area);
    ex.h2_body_is_end(body);
    ex.h2_body_free(body);
    return chunk === 2;
  } catch {
    return false; // not our module, or it refused: the first connection compiles what it calls
  }
}
