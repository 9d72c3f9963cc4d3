// h2_serverconn_poll_requests + h2_serverconn_take_requests: every waiting request in one
// call, each as its respond handle, its body handle (0 when nothing more will arrive), its
// stream id and its head as a flat field list — no request handle, no task per request.
// Client and server are two connections of one instance over the in-memory duplex.
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, TASK } from './mem-host.js';
import { fieldList, readFieldList } from '../support/frames.js';
import { H2E } from '../../bindings/abi.js';

const U = { READY: 1, BODY: 2, ACCEPT: 3, SEND: 100 };

interface Taken {
  respond: number;
  body: number;
  streamId: number;
  head: [string, string][];
}

/** Parses take_requests' output. */
function parse(bytes: Uint8Array): Taken[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Taken[] = [];
  for (let at = 0; at < bytes.length;) {
    const len = dv.getUint32(at + 12, true);
    out.push({
      respond: dv.getUint32(at, true),
      body: dv.getUint32(at + 4, true),
      streamId: dv.getUint32(at + 8, true),
      head: readFieldList(bytes.subarray(at + 16, at + 16 + len)),
    });
    at += 16 + len;
  }
  return out;
}

/** A client and a server on one instance, and `n` requests sent (POST /upload-i when `posts` has i). */
function setUp(paths: string[], posts: Map<number, string> = new Map()) {
  const h = new MemHost();
  const ex = h.ex;
  const exec = ex.h2_executor_new();
  const pair = connectPair(h, exec, h, exec);
  const handlesBefore = ex.h2_handle_count();
  const uploads: number[] = [];
  paths.forEach((path, i) => {
    const req = ex.h2_request_new();
    h.with(posts.has(i) ? 'POST' : 'GET', (p, n) => ex.h2_request_set_method(req, p, n));
    h.with(`http://check${path}`, (p, n) => ex.h2_request_set_uri(req, p, n));
    h.with('check', (np, nn) =>
      h.with(`v${i}`, (vp, vn) => ex.h2_headers_add(ex.h2_request_headers(req), np, nn, vp, vn)),
    );
    if (posts.has(i)) uploads.push(ex.h2_request_send_stream(req));
    pushTask(h, exec, ex.h2_clientconn_send(pair.client, req), U.SEND + i);
  });
  // The uploads' bytes, after the heads.
  let k = 0;
  for (const [, text] of posts) {
    const s = uploads[k++];
    h.with(text, (p, n) => expect(ex.h2_send_stream_send_data(s, p, n, 1)).toBe(H2E.OK));
    ex.h2_send_stream_free(s);
  }
  return { h, ex, exec, pair, handlesBefore };
}

/** Runs until quiet; takes what arrives with take_requests (buffer of `cap` bytes). */
function serve(env: ReturnType<typeof setUp>, cap: number, answer: (t: Taken) => void) {
  const { h, ex, exec, pair } = env;
  const responses = new Map<number, { status: number; body: string }>();
  const buf = ex.h2_alloc(Math.max(cap, 1));
  // Server bodies by task userdata SERVER_BODY + i; client bodies by CLIENT_BODY + i.
  const serverBodies: { taken: Taken; text: string }[] = [];
  const clientBodies: { body: number; request: number; text: string }[] = [];
  pushTask(h, exec, ex.h2_serverconn_poll_requests(pair.server), U.READY);
  pump([[h, exec]], (_h, t, type, user) => {
    if (user === U.READY && type === TASK.REQUEST) {
      expect(ex.h2_task_value(t)).toBe(0);
      const n = ex.h2_serverconn_take_requests(pair.server, buf, cap);
      for (const taken of parse(h.bytes(buf, n))) {
        if (!taken.body) {
          answer(taken);
          continue;
        }
        serverBodies.push({ taken, text: '' });
        pushTask(h, exec, ex.h2_body_data(taken.body), SERVER_BODY + serverBodies.length - 1);
      }
      if (n > 0) pushTask(h, exec, ex.h2_serverconn_poll_requests(pair.server), U.READY);
    } else if (user >= SERVER_BODY && user < CLIENT_BODY) {
      const b = serverBodies[user - SERVER_BODY];
      if (type === TASK.BUF) {
        b.text += Buffer.from(h.takeBuf(t)).toString();
        pushTask(h, exec, ex.h2_body_data(b.taken.body), user);
      } else {
        ex.h2_body_free(b.taken.body);
        answer({ ...b.taken, head: [...b.taken.head, ['x-received', b.text]] });
      }
    } else if (user >= U.SEND && user < SERVER_BODY && type === TASK.RESPONSE) {
      const resp = ex.h2_task_value(t);
      responses.set(user - U.SEND, { status: ex.h2_response_status(resp), body: '' });
      const body = ex.h2_response_body(resp);
      ex.h2_response_free(resp);
      clientBodies.push({ body, request: user - U.SEND, text: '' });
      pushTask(h, exec, ex.h2_body_data(body), CLIENT_BODY + clientBodies.length - 1);
    } else if (user >= CLIENT_BODY) {
      const c = clientBodies[user - CLIENT_BODY];
      if (type === TASK.BUF) {
        c.text += Buffer.from(h.takeBuf(t)).toString();
        pushTask(h, exec, ex.h2_body_data(c.body), user);
      } else {
        responses.get(c.request)!.body = c.text;
        ex.h2_body_free(c.body);
      }
    }
    ex.h2_task_free(t);
  });
  ex.h2_free(buf);
  return responses;
}

const SERVER_BODY = 1000;
const CLIENT_BODY = 2000;

/** Answers with the path, the check header and what the body held, in one call. */
function echo(ex: MemHost['ex'], h: MemHost) {
  return (t: Taken) => {
    const get = (name: string) => t.head.find(([n]) => n === name)?.[1] ?? '';
    const text = `${get(':method')} ${get(':path')} ${get('check')} ${get('x-received')} #${t.streamId}`;
    h.with(fieldList([]), (fp, fn) =>
      h.with(text, (bp, bn) => expect(ex.h2_respond_send_whole(t.respond, 200, fp, fn, bp, bn)).toBe(H2E.OK)),
    );
    ex.h2_respond_free(t.respond);
  };
}

describe('h2_serverconn_take_requests', () => {
  it('hands over every waiting request in one call: heads flat, pseudo-headers first, bodies where there are', () => {
    const env = setUp(['/a', '/b', '/upload', '/c'], new Map([[2, 'posted bytes']]));
    const heads: Taken[] = [];
    const answer = echo(env.ex, env.h);
    const responses = serve(env, 64 * 1024, (t) => {
      heads.push(t);
      answer(t);
    });
    expect(heads.map((t) => t.streamId)).toEqual([1, 3, 7, 5]); // the POST answered once its body ended
    expect(heads[0].head.slice(0, 4).map(([n]) => n)).toEqual([':method', ':scheme', ':authority', ':path']);
    expect(heads[0].head).toContainEqual(['check', 'v0']);
    expect([...responses.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, { status: 200, body: 'GET /a v0  #1' }],
      [1, { status: 200, body: 'GET /b v1  #3' }],
      [2, { status: 200, body: 'POST /upload v2 posted bytes #5' }],
      [3, { status: 200, body: 'GET /c v3  #7' }],
    ]);
    // GETs come without a body handle; the POST with one.
    expect(heads.filter((t) => t.body === 0).length).toBe(3);
    // Everything taken was let go: the handles live are those from before the requests,
    // and the poll_requests task still waiting for more.
    expect(env.ex.h2_handle_count()).toBe(env.handlesBefore + 1);
  });

  it('takes only what fits; the rest stays queued for the next call, or for h2_serverconn_accept', () => {
    const env = setUp(['/first', '/second', '/third']);
    const { h, ex, exec, pair } = env;
    pump([[h, exec]], (_h, t) => ex.h2_task_free(t)); // let the requests arrive
    const buf = ex.h2_alloc(4096);
    // Too small for one: nothing taken, nothing lost.
    expect(ex.h2_serverconn_take_requests(pair.server, buf, 20)).toBe(0);
    const one = ex.h2_serverconn_take_requests(pair.server, buf, 4096);
    const all = parse(h.bytes(buf, one));
    expect(all.map((t) => t.head.find(([n]) => n === ':path')?.[1])).toEqual(['/first', '/second', '/third']);
    // Room for one record exactly: the next call takes none, the queue is empty.
    all.forEach((t) => ex.h2_respond_free(t.respond));
    expect(ex.h2_serverconn_take_requests(pair.server, buf, 4096)).toBe(0);
    ex.h2_free(buf);
  });

  it('keeps the order over many requests taken a few at a time, by both paths (the queue compacts as it goes)', () => {
    const paths = Array.from({ length: 300 }, (_, i) => `/r${i}`);
    const env = setUp(paths);
    const { h, ex, exec, pair } = env;
    pump([[h, exec]], (_h, t) => ex.h2_task_free(t));
    const buf = ex.h2_alloc(4096);
    const seen: string[] = [];
    let turn = 0;
    for (;;) {
      // Every fifth turn by h2_serverconn_accept, the others by take_requests with room for ~3.
      if (turn++ % 5 === 4) {
        let got = false;
        pushTask(h, exec, ex.h2_serverconn_accept(pair.server), U.ACCEPT);
        pump([[h, exec]], (_h, t, type, user) => {
          if (user === U.ACCEPT && type === TASK.REQUEST) {
            const req = ex.h2_task_value(t);
            const n = ex.h2_request_pseudo(req, 3, buf, 64);
            seen.push(Buffer.from(h.bytes(buf, n)).toString());
            ex.h2_respond_free(ex.h2_request_respond(req));
            ex.h2_request_free(req);
            got = true;
          }
          ex.h2_task_free(t);
        });
        if (!got) break;
        continue;
      }
      const n = ex.h2_serverconn_take_requests(pair.server, buf, 400);
      if (n === 0) break;
      for (const t of parse(h.bytes(buf, n))) {
        seen.push(t.head.find(([name]) => name === ':path')![1]);
        ex.h2_respond_free(t.respond);
      }
    }
    expect(seen.length).toBe(paths.length);
    expect(seen).toEqual(paths);
    ex.h2_free(buf);
  });

  it('leaves a request that did not fit to h2_serverconn_accept, whose request reads as before', () => {
    const env = setUp(['/only']);
    const { h, ex, exec, pair } = env;
    pump([[h, exec]], (_h, t) => ex.h2_task_free(t));
    const small = ex.h2_alloc(16);
    expect(ex.h2_serverconn_take_requests(pair.server, small, 16)).toBe(0);
    ex.h2_free(small);
    let path = '';
    let check = '';
    pushTask(h, exec, ex.h2_serverconn_accept(pair.server), U.ACCEPT);
    pump([[h, exec]], (_h, t, type, user) => {
      if (user === U.ACCEPT && type === TASK.REQUEST) {
        const req = ex.h2_task_value(t);
        const buf = ex.h2_alloc(64);
        const n = ex.h2_request_pseudo(req, 3, buf, 64);
        path = Buffer.from(h.bytes(buf, n)).toString();
        ex.h2_free(buf);
        check = Object.fromEntries(h.headers(ex.h2_request_headers(req))).check;
        ex.h2_request_free(req);
      }
      ex.h2_task_free(t);
    });
    expect(path).toBe('/only');
    expect(check).toBe('v0');
  });

  it('answers 0 for a bad handle or range, and poll_requests ends EMPTY once no more can come (the connection shut)', () => {
    const env = setUp([]);
    const { h, ex, exec, pair } = env;
    expect(ex.h2_serverconn_take_requests(0, 0, 0)).toBe(0);
    expect(ex.h2_serverconn_take_requests(pair.server, 0xfffffff0, 64)).toBe(0);
    expect(ex.h2_serverconn_poll_requests(0)).toBe(0);
    pushTask(h, exec, ex.h2_serverconn_poll_requests(pair.server), U.READY);
    ex.h2_serverconn_abrupt_shutdown(pair.server, 0);
    let last = -1;
    pump([[h, exec]], (_h, t, type, user) => {
      if (user === U.READY) last = type;
      ex.h2_task_free(t);
    });
    expect(last).toBe(TASK.EMPTY);
  });
});
