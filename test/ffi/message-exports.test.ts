// Functional tests of the message-level exports at the ABI: what each does to a request or a
// response that crosses a real connection (two instances of the release module wired in
// memory), not only what it answers to bad arguments (test/ffi/safety.test.ts does that).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemHost, connectPair, pump, pushTask, answerText, open200, responseStart, TASK, H2E } from './mem-host.js';
import { H2_PSEUDO } from '../../bindings/abi.js';
import { ROOT } from '../support/wasm.js';

const ABSENT = 0xffffffff;
const CANCEL = 0x8;

/** Decodes a flat field list (u32 name_len, u32 value_len, u32 flags, name, value; little-endian). */
function unflatten(bytes: Uint8Array): [string, string][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const out: [string, string][] = [];
  for (let at = 0; at < bytes.length;) {
    const nl = view.getUint32(at, true);
    const vl = view.getUint32(at + 4, true);
    at += 12;
    out.push([dec.decode(bytes.subarray(at, at + nl)), dec.decode(bytes.subarray(at + nl, at + nl + vl))]);
    at += nl + vl;
  }
  return out;
}

function flatten(fields: [string, string][]): Uint8Array {
  const enc = new TextEncoder();
  const parts = fields.map(([n, v]) => [enc.encode(n), enc.encode(v)]);
  const out = new Uint8Array(parts.reduce((s, [n, v]) => s + 12 + n.length + v.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [n, v] of parts) {
    view.setUint32(at, n.length, true);
    view.setUint32(at + 4, v.length, true);
    out.set(n, at + 12);
    out.set(v, at + 12 + n.length);
    at += 12 + n.length + v.length;
  }
  return out;
}

/** headers ops on `h`'s instance, with strings copied in. */
function ops(h: MemHost, headers: number) {
  const ex = h.ex;
  const two = (a: string, b: string, fn: (pa: number, la: number, pb: number, lb: number) => number) =>
    h.with(a, (pa, la) => h.with(b, (pb, lb) => fn(pa, la, pb, lb)));
  return {
    add: (n: string, v: string) => two(n, v, (pa, la, pb, lb) => ex.h2_headers_add(headers, pa, la, pb, lb)),
    set: (n: string, v: string) => two(n, v, (pa, la, pb, lb) => ex.h2_headers_set(headers, pa, la, pb, lb)),
    remove: (n: string) => h.with(n, (p, l) => ex.h2_headers_remove(headers, p, l) >>> 0),
    count: () => ex.h2_headers_count(headers) >>> 0,
    /** [full length or ABSENT, what landed in a buffer of `cap`]. */
    get(n: string, index: number, cap = 64): [number, string] {
      const buf = ex.h2_alloc(Math.max(cap, 1)) >>> 0;
      try {
        const len = h.with(n, (p, l) => ex.h2_headers_get(headers, p, l, index, buf, cap)) >>> 0;
        return [len, len === ABSENT ? '' : Buffer.from(h.bytes(buf, Math.min(len, cap))).toString()];
      } finally {
        ex.h2_free(buf);
      }
    },
    fields: () => unflatten(h.bytes(ex.h2_headers_fields(headers), ex.h2_headers_fields_len(headers))),
    setAll: (fields: [string, string][]) => h.with(flatten(fields), (p, l) => ex.h2_headers_set_all(headers, p, l)),
  };
}

interface Answer {
  status: number;
  body: string;
  error: { code: number; reason: number } | null;
}

/**
 * One request from a client to a server of one instance. `build` fills the client's
 * request; `serve` answers the server's request (and frees it and its respond handle).
 */
function exchange(
  build: (h: MemHost, req: number) => void,
  serve: (h: MemHost, sreq: number) => void,
): { answer: Answer; h: MemHost } {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec);
  const req = ex.h2_request_new();
  build(h, req);
  pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), 1);
  pushTask(h, exec, ex.h2_serverconn_accept(pair.server), 2);
  const answer: Answer = { status: 0, body: '', error: null };
  let body = 0;
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === 2 && type === TASK.REQUEST) serve(h, ex.h2_task_value(t));
    else if (user === 1 && type === TASK.RESPONSE) {
      ({ status: answer.status, body } = responseStart(h, exec, t, 3));
    } else if (user === 1 && type === TASK.ERROR) {
      const err = ex.h2_task_value(t);
      answer.error = { code: ex.h2_error_code(err), reason: ex.h2_error_reason(err) };
      ex.h2_error_free(err);
    } else if (user === 3 && type === TASK.BUF) {
      answer.body += Buffer.from(h.takeBuf(t)).toString();
      pushTask(h, exec, ex.h2_body_data(body), 3);
    } else if (user === 3) {
      if (type === TASK.ERROR) {
        const err = ex.h2_task_value(t);
        answer.error = { code: ex.h2_error_code(err), reason: ex.h2_error_reason(err) };
        ex.h2_error_free(err);
      }
      ex.h2_body_free(body);
    }
    ex.h2_task_free(t);
  });
  return { answer, h };
}

/** Answers 200 with `text` through a send stream. */
function answerWith(text: string) {
  return (h: MemHost, sreq: number) => answerText(h, sreq, text);
}

describe('the ABI version', () => {
  it('h2_version is the package version as major << 16 | minor', () => {
    const [major, minor] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
      .version.split('.')
      .map(Number);
    expect(new MemHost().ex.h2_version() >>> 0).toBe(((major << 16) | minor) >>> 0);
  });
});

describe('headers', () => {
  it('add, get (by index, truncated to the buffer), set, remove and count, then sent on a request', () => {
    let seen: [string, string][] = [];
    const { answer } = exchange(
      (h, req) => {
        const hd = ops(h, h.ex.h2_request_headers(req));
        hd.add('X-Tag', 'one');
        hd.add('x-tag', 'two');
        hd.add('accept', 'text/plain');
        expect(hd.count()).toBe(3);
        expect(hd.get('x-tag', 0)).toEqual([3, 'one']);
        expect(hd.get('X-TAG', 1)).toEqual([3, 'two']);
        expect(hd.get('x-tag', 2)[0]).toBe(ABSENT);
        expect(hd.get('accept', 0, 4)).toEqual([10, 'text']); // full length, the first 4 bytes
        expect(hd.set('x-tag', 'only')).toBe(H2E.OK);
        expect(hd.count()).toBe(2);
        expect(hd.get('x-tag', 0)).toEqual([4, 'only']);
        expect(hd.add('x-gone', 'a')).toBe(H2E.OK);
        expect(hd.add('x-gone', 'b')).toBe(H2E.OK);
        expect(hd.remove('X-Gone')).toBe(2);
        expect(hd.remove('x-gone')).toBe(0);
        expect(hd.fields()).toEqual([
          ['accept', 'text/plain'],
          ['x-tag', 'only'],
        ]);
      },
      (h, sreq) => {
        seen = h.headers(h.ex.h2_request_headers(sreq));
        answerWith('ok')(h, sreq);
      },
    );
    expect(answer.status).toBe(200);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['accept', 'text/plain'],
        ['x-tag', 'only'],
      ]),
    );
    expect(seen.filter(([n]) => n === 'x-gone')).toEqual([]);
  });

  it('set_all replaces the contents with a flat field list, names lowercased; fields reads it back', () => {
    const h = new MemHost();
    const hd = ops(h, h.ex.h2_headers_new());
    hd.add('old', 'x');
    expect(
      hd.setAll([
        ['Content-Type', 'text/html'],
        ['x-b', ''],
        ['x-b', 'second'],
      ]),
    ).toBe(H2E.OK);
    expect(hd.count()).toBe(3);
    expect(hd.fields()).toEqual([
      ['content-type', 'text/html'],
      ['x-b', ''],
      ['x-b', 'second'],
    ]);
    expect(hd.get('old', 0)[0]).toBe(ABSENT);
    expect(hd.get('x-b', 1)).toEqual([6, 'second']);
  });
});

describe('requests', () => {
  it('set_uri_parts sets :scheme, :authority and :path as the server receives them', () => {
    const pseudo: string[] = [];
    const { answer } = exchange(
      (h, req) => {
        const ex = h.ex;
        h.with('https', (ps, ls) =>
          h.with('example.test:8443', (pa, la) =>
            h.with('/p/q?x=1', (pp, lp) => expect(ex.h2_request_set_uri_parts(req, ps, ls, pa, la, pp, lp)).toBe(0)),
          ),
        );
      },
      (h, sreq) => {
        const buf = h.ex.h2_alloc(64) >>> 0;
        for (const which of [H2_PSEUDO.SCHEME, H2_PSEUDO.AUTHORITY, H2_PSEUDO.PATH]) {
          const n = h.ex.h2_request_pseudo(sreq, which, buf, 64) >>> 0;
          pseudo.push(Buffer.from(h.bytes(buf, n)).toString());
        }
        h.ex.h2_free(buf);
        answerWith('ok')(h, sreq);
      },
    );
    expect(answer.status).toBe(200);
    expect(pseudo).toEqual(['https', 'example.test:8443', '/p/q?x=1']);
  });
});

describe('respond', () => {
  it('stream_id is the request stream id; reset ends it with the reason the client then sees', () => {
    let id = 0;
    const { answer } = exchange(
      () => {},
      (h, sreq) => {
        const respond = h.ex.h2_request_respond(sreq);
        h.ex.h2_request_free(sreq);
        id = h.ex.h2_respond_stream_id(respond);
        expect(h.ex.h2_respond_reset(respond, CANCEL)).toBe(H2E.OK);
        h.ex.h2_respond_free(respond);
      },
    );
    expect(id).toBe(1);
    expect(answer.status).toBe(0);
    expect(answer.error).not.toBeNull();
    expect(answer.error!.reason).toBe(CANCEL);
  });
});

describe('respond poll_reset', () => {
  /** The server's poll_reset task outcome when the client does `client` to its request stream. */
  function pollReset(client: 'reset' | 'wait'): { type: number; value: number } {
    const h = new MemHost();
    const ex = h.ex;
    const exec = ex.h2_executor_new();
    const pair = connectPair(h, exec, h, exec);
    const req = ex.h2_request_new();
    h.with('POST', (p, n) => ex.h2_request_set_method(req, p, n));
    const upload = ex.h2_request_send_stream(req);
    pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), 1);
    pushTask(h, exec, ex.h2_serverconn_accept(pair.server), 2);
    let respond = 0;
    const outcome = { type: -1, value: -1 };
    pump([[h, exec]], (_h, t, type, user) => {
      if (user === 2 && type === TASK.REQUEST) {
        const sreq = ex.h2_task_value(t);
        respond = ex.h2_request_respond(sreq);
        ex.h2_request_free(sreq);
        pushTask(h, exec, ex.h2_respond_poll_reset(respond), 4);
        if (client === 'reset') ex.h2_send_stream_send_reset(upload, CANCEL);
        else {
          // Answered and ended both ways: the stream closes normally.
          h.with('', (p, n) => ex.h2_send_stream_send_data(upload, p, n, 1));
          ex.h2_respond_send_response(respond, ex.h2_response_new(), 1);
        }
      } else if (user === 4) {
        outcome.type = type;
        outcome.value = ex.h2_task_value(t);
      } else if (user === 1 && type === TASK.ERROR) ex.h2_error_free(ex.h2_task_value(t));
      else if (user === 1 && type === TASK.RESPONSE) ex.h2_response_free(ex.h2_task_value(t));
      ex.h2_task_free(t);
    });
    ex.h2_send_stream_free(upload);
    ex.h2_respond_free(respond);
    return outcome;
  }

  it("yields RESET with the client's reason when the client resets the stream", () => {
    expect(pollReset('reset')).toEqual({ type: TASK.RESET, value: CANCEL });
  });

  it('yields EMPTY when the stream closes normally', () => {
    expect(pollReset('wait')).toEqual({ type: TASK.EMPTY, value: 0 });
  });
});

describe('a response body from a data source', () => {
  it('response_set_body: the engine reads the source until it answers 0, and the client gets every byte', () => {
    const text = 'from a data source, '.repeat(5000); // 100,000 bytes: more than one window
    const SOURCE = 77;
    let pulls = 0;
    const { answer } = exchange(
      () => {},
      (h, sreq) => {
        const ex = h.ex;
        const bytes = new TextEncoder().encode(text);
        let at = 0;
        h.sources.set(SOURCE, (buf, len) => {
          pulls++;
          const n = Math.min(len, bytes.length - at, 7000);
          new Uint8Array(ex.memory.buffer, buf, n).set(bytes.subarray(at, at + n));
          at += n;
          return n;
        });
        const respond = ex.h2_request_respond(sreq);
        ex.h2_request_free(sreq);
        const resp = ex.h2_response_new();
        const body = ex.h2_body_new();
        ex.h2_body_set_userdata(body, SOURCE);
        expect(ex.h2_response_set_body(resp, body)).toBe(H2E.OK);
        expect(ex.h2_respond_send_response(respond, resp, 0)).toBe(0); // no send stream: the source is the body
        expect(ex.h2_last_result()).toBe(H2E.OK);
        ex.h2_respond_free(respond);
      },
    );
    expect(answer.error).toBeNull();
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(text.length);
    expect(answer.body).toBe(text);
    expect(pulls).toBeGreaterThan(text.length / 7000);
  });
});

describe('send stream capacity', () => {
  it('capacity is what was assigned, used up by sends, replaced (not added to) by a new reservation, 0 once ended', () => {
    const steps: Record<string, number> = {};
    const { answer } = exchange(
      () => {},
      (h, sreq) => {
        const ex = h.ex;
        const send = open200(h, sreq);
        steps.before = ex.h2_send_stream_capacity(send);
        expect(ex.h2_send_stream_reserve_capacity(send, 1000)).toBe(H2E.OK);
        steps.reserved = ex.h2_send_stream_capacity(send);
        h.with('x'.repeat(400), (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 0)).toBe(H2E.OK));
        steps.afterSend = ex.h2_send_stream_capacity(send);
        expect(ex.h2_send_stream_reserve_capacity(send, 100)).toBe(H2E.OK);
        steps.lowered = ex.h2_send_stream_capacity(send);
        expect(ex.h2_send_stream_reserve_capacity(send, 0)).toBe(H2E.OK);
        steps.cancelled = ex.h2_send_stream_capacity(send);
        expect(ex.h2_send_stream_reserve_capacity(send, 300)).toBe(H2E.OK);
        steps.again = ex.h2_send_stream_capacity(send);
        h.with('end', (p, n) => expect(ex.h2_send_stream_send_data(send, p, n, 1)).toBe(H2E.OK));
        steps.ended = ex.h2_send_stream_capacity(send);
        ex.h2_send_stream_free(send);
      },
    );
    expect(answer.body).toBe('x'.repeat(400) + 'end');
    expect(steps).toEqual({
      before: 0,
      reserved: 1000,
      afterSend: 600,
      lowered: 100,
      cancelled: 0,
      again: 300,
      ended: 0,
    });
  });
});

describe('bufs', () => {
  it('buf_copy holds its own copy of the bytes', () => {
    const h = new MemHost();
    const ex = h.ex;
    const src = ex.h2_alloc(5) >>> 0;
    new Uint8Array(ex.memory.buffer, src, 5).set(new TextEncoder().encode('hello'));
    const buf = ex.h2_buf_copy(src, 5);
    expect(buf).not.toBe(0);
    new Uint8Array(ex.memory.buffer, src, 5).fill(0x2a); // the source changes after the copy
    expect(ex.h2_buf_len(buf)).toBe(5);
    expect(Buffer.from(h.bytes(ex.h2_buf_bytes(buf), 5)).toString()).toBe('hello');
    expect(ex.h2_buf_free(buf)).toBe(H2E.OK);
    expect(ex.h2_free(src)).toBe(H2E.OK);
  });
});
