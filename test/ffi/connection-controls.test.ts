// Connection controls after the handshake, at the ABI, on both roles: new SETTINGS
// (nghttp2_submit_settings), reading ours as acknowledged and the peer's
// (nghttp2_session_get_local_settings / _remote_settings, h2's max_concurrent_*_streams),
// and the connection's receive window target (h2's set_target_window_size).
import { describe, it, expect } from 'vitest';
import { MemHost, connectPair, pump, pushTask, open200, TASK, H2E } from './mem-host.js';
import { H2_OPT } from '../../bindings/abi.js';
import { FRAME, parseFrames, concat } from '../support/frames.js';

const UNLIMITED = 0xffffffff;

function pair(clientOpts: [number, bigint][] = [], serverOpts: [number, bigint][] = []) {
  const h = new MemHost();
  const exec = h.ex.h2_executor_new();
  const p = connectPair(h, exec, h, exec, serverOpts, clientOpts);
  const settle = () => pump([[h, exec]], (_h, t) => h.ex.h2_task_free(t));
  return { h, ex: h.ex, exec, ...p, settle };
}

describe('SETTINGS after the handshake', () => {
  it('a server lowers MAX_CONCURRENT_STREAMS: the client reads it as its send limit, the server as acknowledged', () => {
    const { ex, client, server, settle } = pair();
    const MCS = H2_OPT.MAX_CONCURRENT_STREAMS;
    const SERVER_DEFAULT = 100;
    expect(ex.h2_serverconn_local_setting(server, MCS)).toBe(SERVER_DEFAULT);
    expect(ex.h2_clientconn_remote_setting(client, MCS)).toBe(SERVER_DEFAULT);
    expect(ex.h2_serverconn_submit_setting(server, MCS, 7n)).toBe(H2E.OK);
    // Not acknowledged yet: it does not bind the client.
    expect(ex.h2_serverconn_local_setting(server, MCS)).toBe(SERVER_DEFAULT);
    settle();
    expect(ex.h2_clientconn_remote_setting(client, MCS)).toBe(7);
    expect(ex.h2_clientconn_max_concurrent_streams(client)).toBe(7);
    expect(ex.h2_serverconn_local_setting(server, MCS)).toBe(7);
    // The other direction is untouched.
    expect(ex.h2_clientconn_local_setting(client, MCS) >>> 0).toBe(UNLIMITED);
    expect(ex.h2_serverconn_remote_setting(server, MCS) >>> 0).toBe(UNLIMITED);
  });

  it('a client raises its stream window by SETTINGS and its connection window by target: the server may send more at once', () => {
    /** The capacity a server send stream gets for a 200,000-byte reservation (under the send-buffer cap). */
    function serverCapacity(raiseStream: boolean, raiseConnection: boolean): number {
      // The client's connection window starts at the RFC's 65,535 bytes, as its stream windows do.
      const { h, ex, exec, client, server, settle } = pair([[H2_OPT.CONNECTION_WINDOW, 65_535n]]);
      if (raiseStream) {
        expect(ex.h2_clientconn_submit_setting(client, H2_OPT.INITIAL_WINDOW_SIZE, 1n << 20n)).toBe(H2E.OK);
      }
      if (raiseConnection) expect(ex.h2_clientconn_set_target_window_size(client, 1 << 20)).toBe(H2E.OK);
      settle();
      if (raiseStream) {
        expect(ex.h2_clientconn_local_setting(client, H2_OPT.INITIAL_WINDOW_SIZE)).toBe(1 << 20);
        expect(ex.h2_serverconn_remote_setting(server, H2_OPT.INITIAL_WINDOW_SIZE)).toBe(1 << 20);
      }
      const req = ex.h2_request_new();
      pushTask(h, exec, ex.h2_clientconn_send(client, req), 1);
      pushTask(h, exec, ex.h2_serverconn_accept(server), 2);
      let capacity = -1;
      pump([[h, exec]], (_h, t, type, user) => {
        if (user === 2 && type === TASK.REQUEST) {
          const send = open200(h, ex.h2_task_value(t));
          ex.h2_send_stream_reserve_capacity(send, 200_000);
          capacity = ex.h2_send_stream_capacity(send);
          ex.h2_send_stream_free(send);
        } else if (user === 1 && type === TASK.RESPONSE) ex.h2_response_free(ex.h2_task_value(t));
        else if (user === 1 && type === TASK.ERROR) ex.h2_error_free(ex.h2_task_value(t));
        ex.h2_task_free(t);
      });
      return capacity;
    }
    expect(serverCapacity(false, false)).toBe(65_535);
    expect(serverCapacity(true, false)).toBe(65_535); // the connection window still binds
    expect(serverCapacity(false, true)).toBe(65_535); // the stream window still binds
    expect(serverCapacity(true, true)).toBe(200_000);
  });

  it('a server raises its windows the same way: the client may then upload more at once', () => {
    function uploadCapacity(raise: boolean): number {
      const { h, ex, exec, client, server, settle } = pair([], [[H2_OPT.CONNECTION_WINDOW, 65_535n]]);
      if (raise) {
        expect(ex.h2_serverconn_submit_setting(server, H2_OPT.INITIAL_WINDOW_SIZE, 1n << 20n)).toBe(H2E.OK);
        expect(ex.h2_serverconn_set_target_window_size(server, 1 << 20)).toBe(H2E.OK);
        settle();
      }
      const req = ex.h2_request_new();
      h.with('POST', (p, n) => ex.h2_request_set_method(req, p, n));
      const upload = ex.h2_request_send_stream(req);
      pushTask(h, exec, ex.h2_clientconn_send(client, req), 1);
      settle();
      ex.h2_send_stream_reserve_capacity(upload, 200_000);
      const capacity = ex.h2_send_stream_capacity(upload);
      ex.h2_send_stream_free(upload);
      return capacity;
    }
    expect(uploadCapacity(false)).toBe(65_535);
    expect(uploadCapacity(true)).toBe(200_000);
  });

  it('refuses what the peer would have to reject, keys that are not SETTINGS, and a fifth unacknowledged frame', () => {
    const { ex, client, server, settle } = pair();
    expect(ex.h2_serverconn_submit_setting(server, H2_OPT.MAX_FRAME_SIZE, 100n)).toBe(H2E.INVALID_ARG);
    expect(ex.h2_serverconn_submit_setting(server, H2_OPT.INITIAL_WINDOW_SIZE, 1n << 31n)).toBe(H2E.INVALID_ARG);
    expect(ex.h2_serverconn_submit_setting(server, H2_OPT.ENABLE_PUSH, 1n)).toBe(H2E.INVALID_ARG); // a server may not
    expect(ex.h2_serverconn_submit_setting(server, H2_OPT.CONNECTION_WINDOW, 1n << 20n)).toBe(H2E.INVALID_ARG);
    expect(ex.h2_serverconn_local_setting(server, H2_OPT.CONNECTION_WINDOW)).toBe(0);
    expect(ex.h2_clientconn_set_target_window_size(client, 0)).toBe(H2E.INVALID_ARG);
    expect(ex.h2_clientconn_set_target_window_size(client, 2 ** 31)).toBe(H2E.INVALID_ARG);
    for (let i = 0; i < 4; i++)
      expect(ex.h2_clientconn_submit_setting(client, H2_OPT.HEADER_TABLE_SIZE, BigInt(1000 + i))).toBe(H2E.OK);
    expect(ex.h2_clientconn_submit_setting(client, H2_OPT.HEADER_TABLE_SIZE, 2000n)).toBe(H2E.LIMIT_EXCEEDED);
    settle();
    expect(ex.h2_clientconn_local_setting(client, H2_OPT.HEADER_TABLE_SIZE)).toBe(1003);
    expect(ex.h2_clientconn_submit_setting(client, H2_OPT.HEADER_TABLE_SIZE, 2000n)).toBe(H2E.OK);
  });

  it('answers CLOSED once the connection is going away', () => {
    const { ex, server, settle } = pair();
    expect(ex.h2_serverconn_abrupt_shutdown(server, 0)).toBe(H2E.OK);
    settle();
    expect(ex.h2_serverconn_submit_setting(server, H2_OPT.MAX_CONCURRENT_STREAMS, 1n)).toBe(H2E.CLOSED);
  });
});

describe('abrupt shutdown with GOAWAY debug data, both roles', () => {
  /** What `role` writes when it shuts down with `reason` and `debug`: its GOAWAY frames. */
  function goawaysOf(role: 'client' | 'server', reason: number, debug: string) {
    const ch = new MemHost();
    const sh = new MemHost();
    const cexec = ch.ex.h2_executor_new();
    const sexec = sh.ex.h2_executor_new();
    const p = connectPair(ch, cexec, sh, sexec);
    const h = role === 'client' ? ch : sh;
    h.written = [];
    const fn =
      role === 'client' ? 'h2_clientconn_abrupt_shutdown_with_debug' : 'h2_serverconn_abrupt_shutdown_with_debug';
    const conn = role === 'client' ? p.client : p.server;
    const rc = h.with(debug, (ptr, n) => h.ex[fn](conn, reason, ptr, n));
    pump(
      [
        [ch, cexec],
        [sh, sexec],
      ],
      (x, t) => x.ex.h2_task_free(t),
    );
    const { frames } = parseFrames(concat(...h.written!));
    return {
      rc,
      goaways: frames
        .filter((f) => f.type === FRAME.GOAWAY)
        .map((f) => {
          const v = new DataView(f.payload.buffer, f.payload.byteOffset);
          return { code: v.getUint32(4), debug: new TextDecoder().decode(f.payload.subarray(8)) };
        }),
    };
  }

  it('a server: GOAWAY with the reason and the debug text on the wire', () => {
    expect(goawaysOf('server', 0xb, 'going down for maintenance')).toEqual({
      rc: H2E.OK,
      goaways: [{ code: 0xb, debug: 'going down for maintenance' }],
    });
  });

  it('a client: the same, and an empty text sends none', () => {
    expect(goawaysOf('client', 0x2, 'bye')).toEqual({ rc: H2E.OK, goaways: [{ code: 0x2, debug: 'bye' }] });
    expect(goawaysOf('client', 0x0, '')).toEqual({ rc: H2E.OK, goaways: [{ code: 0x0, debug: '' }] });
  });

  it('refuses more than 1 KiB of debug data', () => {
    expect(goawaysOf('server', 0x2, 'x'.repeat(1025))).toEqual({ rc: H2E.INVALID_ARG, goaways: [] });
  });
});
