import { describe, it, expect } from 'vitest';
import { loadModule } from '../support/wasm.js';

describe('host memory (h2_alloc / h2_free)', () => {
  it('hands out writable buffers and refuses frees of anything it did not hand out', () => {
    const ex = loadModule('h2wasm');
    const p = ex.h2_alloc(100) >>> 0;
    expect(p).not.toBe(0);
    new Uint8Array(ex.memory.buffer, p, 100).fill(7);
    expect(ex.h2_free(p + 4)).toBe(2); // foreign pointer: H2E_INVALID_ARG
    expect(ex.h2_free(p)).toBe(0);
    expect(ex.h2_free(p)).toBe(2); // double free is harmless
    expect(ex.h2_free(0)).toBe(2);
  });

  it('answers 0 instead of trapping when a request cannot be met', () => {
    const ex = loadModule('h2wasm');
    expect(ex.h2_alloc(0xffffffff) >>> 0).toBe(0);
    expect(ex.h2_alloc(16) >>> 0).not.toBe(0);
  });
});

// ---- Heap figures over the in-memory duplex (mem-host.ts) ---------------------------------
// Clients run in one instance and servers in another, wired through the io imports, so
// h2_heap_used of each instance counts one side only. Deterministic: no sockets, no timers.
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { MemHost, connectPair, pump, pushTask, TASK, WASM_PATH } from './mem-host.js';
import { buildHuffmanTables } from '../support/huffman-tables.js';

const KiB = 1024;
const U = { RESP: 1, CBODY: 2, ACCEPT: 3, SBODY: 4 };
const tag = (kind: number, i: number) => ((kind << 24) | i) >>> 0;

/** A client instance and a server instance, each with its executor. */
function world() {
  const ch = new MemHost();
  const sh = new MemHost();
  const cexec = ch.ex.h2_executor_new();
  const sexec = sh.ex.h2_executor_new();
  return { ch, sh, cexec, sexec };
}

/**
 * Runs `count` POSTs with small bodies (request and response) on one connection, at most
 * `concurrency` at a time, checking every response body. The server side accepts, reads
 * the body to the end and answers with a body through a send stream.
 */
function exchange(w: ReturnType<typeof world>, client: number, server: number, count: number, concurrency = 50) {
  const { ch, sh, cexec, sexec } = w;
  const c = ch.ex;
  const s = sh.ex;
  const reqBody = new TextEncoder().encode('ping-body-0123456789');
  const respBody = new TextEncoder().encode('pong-body-abcdefghijklmnop');
  let started = 0;
  let finished = 0;
  const cBodies = new Map<number, { body: number; got: number }>();
  const sBodies = new Map<number, { body: number; respond: number; got: number }>();
  let sIndex = 0;
  const start = () => {
    const i = started++;
    const req = c.h2_request_new();
    ch.with('POST', (p, n) => c.h2_request_set_method(req, p, n));
    ch.with(`http://mem/r/${i}`, (p, n) => c.h2_request_set_uri(req, p, n));
    const send = c.h2_request_send_stream(req);
    pushTask(ch, cexec, c.h2_clientconn_send(client, req), tag(U.RESP, i));
    ch.with(reqBody, (p, n) => {
      if (c.h2_send_stream_send_data(send, p, n, 1) !== 0) throw new Error('send_data');
    });
    c.h2_send_stream_free(send);
  };
  pushTask(sh, sexec, s.h2_serverconn_accept(server), tag(U.ACCEPT, 0));
  for (let k = 0; k < Math.min(concurrency, count); k++) start();
  pump(
    [
      [ch, cexec],
      [sh, sexec],
    ],
    (h, t, type, user) => {
      const kind = user >>> 24;
      const i = user & 0xffffff;
      const ex = h.ex;
      if (type === TASK.ERROR) {
        const err = ex.h2_task_value(t);
        throw new Error(`task ${kind}/${i} failed: code ${ex.h2_error_code(err)} reason ${ex.h2_error_reason(err)}`);
      }
      if (kind === U.RESP) {
        if (type !== TASK.RESPONSE) throw new Error(`response task type ${type}`);
        const resp = ex.h2_task_value(t);
        if (ex.h2_response_status(resp) !== 200) throw new Error('status');
        const body = ex.h2_response_body(resp);
        ex.h2_response_free(resp);
        cBodies.set(i, { body, got: 0 });
        pushTask(h, cexec, ex.h2_body_data(body), tag(U.CBODY, i));
      } else if (kind === U.CBODY) {
        const b = cBodies.get(i)!;
        if (type === TASK.BUF) {
          b.got += h.takeBuf(t).length;
          pushTask(h, cexec, ex.h2_body_data(b.body), tag(U.CBODY, i));
        } else {
          if (type !== TASK.EMPTY || b.got !== respBody.length) throw new Error(`client body ${i}: ${b.got} bytes`);
          ex.h2_body_free(b.body);
          cBodies.delete(i);
          finished++;
          if (started < count) start();
        }
      } else if (kind === U.ACCEPT) {
        if (type !== TASK.REQUEST) throw new Error(`accept task type ${type}`);
        const req = ex.h2_task_value(t);
        const j = sIndex++;
        const respond = ex.h2_request_respond(req);
        const body = ex.h2_request_body(req);
        ex.h2_request_free(req);
        sBodies.set(j, { body, respond, got: 0 });
        pushTask(h, sexec, ex.h2_body_data(body), tag(U.SBODY, j));
        pushTask(h, sexec, ex.h2_serverconn_accept(server), tag(U.ACCEPT, 0));
      } else if (kind === U.SBODY) {
        const b = sBodies.get(i)!;
        if (type === TASK.BUF) {
          b.got += h.takeBuf(t).length;
          pushTask(h, sexec, ex.h2_body_data(b.body), tag(U.SBODY, i));
        } else {
          if (type !== TASK.EMPTY || b.got !== reqBody.length) throw new Error(`server body ${i}: ${b.got} bytes`);
          ex.h2_body_free(b.body);
          const resp = ex.h2_response_new();
          const send = ex.h2_respond_send_response(b.respond, resp, 0);
          if (!send) throw new Error(`send_response: ${ex.h2_last_result()}`);
          h.with(respBody, (p, n) => {
            if (ex.h2_send_stream_send_data(send, p, n, 1) !== 0) throw new Error('send_data');
          });
          ex.h2_send_stream_free(send);
          ex.h2_respond_free(b.respond);
          sBodies.delete(i);
        }
      }
      ex.h2_task_free(t);
    },
  );
  if (finished !== count) throw new Error(`exchange: ${finished} of ${count} finished`);
}

/** A connection with one request, freed: the lazily built tables (Huffman decoding) stay. */
function warmUp(w: ReturnType<typeof world>) {
  buildHuffmanTables(w.ch.ex);
  buildHuffmanTables(w.sh.ex);
  const pair = connectPair(w.ch, w.cexec, w.sh, w.sexec);
  exchange(w, pair.client, pair.server, 1);
  teardown(w, pair);
}

/** Frees both connections, closes the duplex and lets both executors drop them. */
function teardown(w: ReturnType<typeof world>, pair: { client: number; server: number; cud: number; sud: number }) {
  expect(w.ch.ex.h2_clientconn_free(pair.client)).toBe(0);
  expect(w.sh.ex.h2_serverconn_free(pair.server)).toBe(0);
  w.ch.close(pair.cud);
  w.sh.close(pair.sud);
  pump(
    [
      [w.ch, w.cexec],
      [w.sh, w.sexec],
    ],
    (h, t) => h.ex.h2_task_free(t),
  );
}

describe('heap use returns to where it started (h2_heap_used, in-memory duplex)', () => {
  it('1,000 client connections opened and freed leave the heap within 64 KiB', () => {
    const w = world();
    const { ch, sh } = w;
    warmUp(w); // lazily built tables (the Huffman decoding tables) stay
    const c0 = ch.ex.h2_heap_used() >>> 0;
    const s0 = sh.ex.h2_heap_used() >>> 0;
    const handles0 = ch.ex.h2_handle_count();
    for (let i = 0; i < 1000; i++) teardown(w, connectPair(ch, w.cexec, sh, w.sexec));
    const c1 = ch.ex.h2_heap_used() >>> 0;
    const s1 = sh.ex.h2_heap_used() >>> 0;
    console.log(
      `heap after 1,000 client connections opened and freed: client ${c0} -> ${c1} bytes, server ${s0} -> ${s1} bytes`,
    );
    expect(Math.abs(c1 - c0)).toBeLessThan(64 * KiB);
    expect(Math.abs(s1 - s0)).toBeLessThan(64 * KiB);
    expect(ch.ex.h2_handle_count()).toBe(handles0);
  }, 60000);

  it('10,000 requests with small bodies on one connection: idle size kept, heap back after the free', () => {
    const w = world();
    const { ch, sh } = w;
    warmUp(w);
    const c0 = ch.ex.h2_heap_used() >>> 0;
    const s0 = sh.ex.h2_heap_used() >>> 0;
    const pair = connectPair(ch, w.cexec, sh, w.sexec);
    exchange(w, pair.client, pair.server, 100); // warm-up: HPACK tables, buffers at their working size
    const cIdle = ch.ex.h2_heap_used() >>> 0;
    const sIdle = sh.ex.h2_heap_used() >>> 0;
    exchange(w, pair.client, pair.server, 10000);
    const cAfter = ch.ex.h2_heap_used() >>> 0;
    const sAfter = sh.ex.h2_heap_used() >>> 0;
    teardown(w, pair);
    const c1 = ch.ex.h2_heap_used() >>> 0;
    const s1 = sh.ex.h2_heap_used() >>> 0;
    console.log(
      `heap over 10,000 requests on one connection: client idle ${cIdle} -> ${cAfter}, freed ${c0} -> ${c1}; server idle ${sIdle} -> ${sAfter}, freed ${s0} -> ${s1} bytes`,
    );
    expect(Math.abs(cAfter - cIdle)).toBeLessThan(64 * KiB);
    expect(Math.abs(sAfter - sIdle)).toBeLessThan(64 * KiB);
    expect(Math.abs(c1 - c0)).toBeLessThan(64 * KiB);
    expect(Math.abs(s1 - s0)).toBeLessThan(64 * KiB);
  }, 120000);

  it("garbage is collected at the safe points on its own: 20,000 requests grow neither side's linear memory by more than 4 MiB", () => {
    // The minimal runtime collects only at safe points (assembly/util/gc.ts). Nothing here
    // calls h2_heap_used (which collects) between the first and last measure, so a
    // collector that never ran would show as growth: each request leaves garbage behind.
    const w = world();
    const { ch, sh } = w;
    warmUp(w);
    const pair = connectPair(ch, w.cexec, sh, w.sexec);
    exchange(w, pair.client, pair.server, 100);
    const c0 = ch.ex.memory.buffer.byteLength;
    const s0 = sh.ex.memory.buffer.byteLength;
    exchange(w, pair.client, pair.server, 20000);
    const c1 = ch.ex.memory.buffer.byteLength;
    const s1 = sh.ex.memory.buffer.byteLength;
    teardown(w, pair);
    console.log(`linear memory over 20,000 requests: client ${c0} -> ${c1}, server ${s0} -> ${s1} bytes`);
    expect(c1 - c0).toBeLessThanOrEqual(4 << 20);
    expect(s1 - s0).toBeLessThanOrEqual(4 << 20);
  }, 120000);

  it('figures: module size, heap per idle connection and per open stream', () => {
    const raw = readFileSync(WASM_PATH);
    console.log(
      `module size: ${raw.length} bytes raw, ${gzipSync(raw).length} bytes gzip (build/h2wasm.wasm, release)`,
    );

    // Per idle connection: 100 handshaken pairs, clients in one instance, servers in the other.
    const w = world();
    const { ch, sh } = w;
    warmUp(w);
    const c0 = ch.ex.h2_heap_used() >>> 0;
    const s0 = sh.ex.h2_heap_used() >>> 0;
    const N = 100;
    const pairs = Array.from({ length: N }, () => connectPair(ch, w.cexec, sh, w.sexec));
    const perClient = ((ch.ex.h2_heap_used() >>> 0) - c0) / N;
    const perServer = ((sh.ex.h2_heap_used() >>> 0) - s0) / N;
    console.log(
      `heap per idle client connection: ${Math.round(perClient)} bytes; per idle server connection: ${Math.round(perServer)} bytes (${N} connections)`,
    );
    expect(perClient).toBeGreaterThan(0);
    expect(perServer).toBeGreaterThan(0);
    for (const p of pairs) teardown(w, p);

    // Per open stream: 1,000 requests whose bodies never end, accepted by the server.
    const S = 1000;
    const pair = connectPair(ch, w.cexec, sh, w.sexec, [[3, 2000n]]); // MAX_CONCURRENT_STREAMS
    exchange(w, pair.client, pair.server, 10);
    const cBase = ch.ex.h2_heap_used() >>> 0;
    const sBase = sh.ex.h2_heap_used() >>> 0;
    const c = ch.ex;
    const s = sh.ex;
    const sends: number[] = [];
    const accepted: number[] = [];
    pushTask(sh, w.sexec, s.h2_serverconn_accept(pair.server), 1);
    for (let i = 0; i < S; i++) {
      const req = c.h2_request_new();
      ch.with('POST', (p, n) => c.h2_request_set_method(req, p, n));
      ch.with(`http://mem/open/${i}`, (p, n) => c.h2_request_set_uri(req, p, n));
      sends.push(c.h2_request_send_stream(req));
      pushTask(ch, w.cexec, c.h2_clientconn_send(pair.client, req), 2);
    }
    const responseTasks: number[] = [];
    pump(
      [
        [ch, w.cexec],
        [sh, w.sexec],
      ],
      (h, t, type) => {
        if (h === sh && type === TASK.REQUEST) {
          // ours (user 1), or the one exchange() left pending
          accepted.push(s.h2_task_value(t));
          s.h2_task_free(t);
          pushTask(sh, w.sexec, s.h2_serverconn_accept(pair.server), 1);
        } else responseTasks.push(t);
      },
    );
    expect(accepted.length).toBe(S);
    expect(sends.every((x) => c.h2_send_stream_stream_id(x) !== 0)).toBe(true);
    const perStreamClient = ((c.h2_heap_used() >>> 0) - cBase) / S;
    const perStreamServer = ((s.h2_heap_used() >>> 0) - sBase) / S;
    console.log(
      `heap per open stream: client ${Math.round(perStreamClient)} bytes, server ${Math.round(perStreamServer)} bytes (${S} streams on one connection, request bodies unfinished; server holds each request)`,
    );
    expect(perStreamClient).toBeGreaterThan(0);
    expect(perStreamServer).toBeGreaterThan(0);
    for (const x of sends) c.h2_send_stream_free(x);
    for (const r of accepted) s.h2_request_free(r);
    teardown(w, pair);
  }, 60000);
});

// Bodies freed unread, and bodies read after their stream closed (found by the soak):
// whatever the host can no longer release goes back to the connection window, and the
// receive buffers go back to the heap. 100 responses of 16,000 bytes are 1.6 MB on a
// 1 MiB connection window: a leak of window stalls the connection before the end.
describe('received bytes the host lets go of', () => {
  const RESPONSES = 100;
  const SIZE = 16000;
  /** `read`: how many bufs the client takes before freeing the body (release: h2_body_release them). */
  function run(manual: boolean, read: number, release: boolean) {
    const { ch, sh, cexec, sexec } = world();
    const pair = connectPair(ch, cexec, sh, sexec, [], manual ? [[101, 1n]] : []);
    const cx = ch.ex;
    const sx = sh.ex;
    const payload = new Uint8Array(SIZE).fill(0x71);
    let done = 0;
    let heapAfterFirst = 0;
    const bodies = new Map<number, { body: number; bufs: number }>();
    const send = (i: number) => {
      const req = cx.h2_request_new();
      ch.with('http://x/r', (p, n) => cx.h2_request_set_uri(req, p, n));
      pushTask(ch, cexec, cx.h2_clientconn_send(pair.client, req), tag(U.RESP, i));
    };
    pushTask(sh, sexec, sx.h2_serverconn_accept(pair.server), tag(U.ACCEPT, 0));
    send(0);
    const finish = (i: number) => {
      cx.h2_body_free(bodies.get(i)!.body);
      bodies.delete(i);
      if (++done === 1) heapAfterFirst = cx.h2_heap_used() >>> 0;
      if (done < RESPONSES) send(done);
    };
    pump(
      [
        [ch, cexec],
        [sh, sexec],
      ],
      (h, t, type, user) => {
        const kind = user >>> 24;
        const i = user & 0xffffff;
        if (h === sh && kind === U.ACCEPT && type === TASK.REQUEST) {
          const sreq = sx.h2_task_value(t);
          const respond = sx.h2_request_respond(sreq);
          sx.h2_request_free(sreq);
          const s = sx.h2_respond_send_response(respond, sx.h2_response_new(), 0);
          sh.with(payload, (p, n) => expect(sx.h2_send_stream_send_data(s, p, n, 1)).toBe(0));
          sx.h2_send_stream_free(s);
          sx.h2_respond_free(respond);
          pushTask(sh, sexec, sx.h2_serverconn_accept(pair.server), tag(U.ACCEPT, 0));
        } else if (h === ch && kind === U.RESP) {
          expect(type).toBe(TASK.RESPONSE);
          const resp = cx.h2_task_value(t);
          const body = cx.h2_response_body(resp);
          cx.h2_response_free(resp);
          bodies.set(i, { body, bufs: 0 });
          if (read === 0) finish(i);
          else pushTask(ch, cexec, cx.h2_body_data(body), tag(U.CBODY, i));
        } else if (h === ch && kind === U.CBODY) {
          const b = bodies.get(i)!;
          if (type === TASK.BUF) {
            const buf = cx.h2_task_value(t);
            const n = cx.h2_buf_len(buf);
            cx.h2_buf_free(buf);
            if (manual && release) expect(cx.h2_body_release(b.body, n)).toBe(0);
            if (++b.bufs < read) pushTask(ch, cexec, cx.h2_body_data(b.body), tag(U.CBODY, i));
            else finish(i);
          } else finish(i);
        }
        h.ex.h2_task_free(t);
      },
    );
    expect(done, 'every response arrived: no window was lost').toBe(RESPONSES);
    expect((cx.h2_heap_used() >>> 0) - heapAfterFirst, 'nothing kept per response').toBeLessThan(8 * KiB);
  }

  it('freed unread (automatic release)', () => run(false, 0, false));
  it('freed unread (manual release)', () => run(true, 0, false));
  it('read to the end after the stream closed (automatic release)', () => run(false, 100, false));
  it('read to the end and released by hand after the stream closed (manual release)', () => run(true, 100, true));
  it('read, then freed without releasing (manual release)', () => run(true, 100, false));
});
