#!/usr/bin/env node
// The browser example's helper: serves the page, the module and the compiled bindings
// from this repository, and bridges WebSockets to TCP so the page's h2wasm client can
// talk to a real HTTP/2 server (nghttpd) on this machine.
//
//   node examples/browser/serve.mjs [--port N] [--nghttpd-port N] [--bundle DIR]
//
//   GET /                     examples/browser/index.html
//   GET /main.js              examples/browser/main.js
//   GET /config.json          { "nghttpdPort": N | null }
//   GET /build/h2wasm.wasm    the module (application/wasm, for compileStreaming)
//   GET /dist/bindings/*.js   the TypeScript host, compiled (ES modules)
//   GET /bundle/NAME.(js|html) with --bundle: a page and its script bundled into DIR (the
//                             browser suite's gRPC page; the script finds the module at
//                             /build/h2wasm.wasm, two levels up from itself)
//   WS  /tcp?port=N           a byte pipe to 127.0.0.1:N: binary frames each way (RFC 6455)
//
// Node's standard library only. The WebSocket server is the minimum RFC 6455 asks of
// one: the handshake, masked client frames (fragments, ping/pong, close), unmasked binary
// frames out. Listens on 127.0.0.1 only and connects to 127.0.0.1 only.
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0 || v > 65535) {
    console.error(`serve.mjs: ${name} needs a port number (0-65535)`);
    process.exit(2);
  }
  return v;
}
const port = flag('--port', 8080);
const nghttpdPort = flag('--nghttpd-port', null);
const bundleAt = process.argv.indexOf('--bundle');
const bundleDir = bundleAt > 0 ? process.argv[bundleAt + 1] : null;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** URL path → file on disk, for the few paths this helper serves (null otherwise). */
function fileFor(path) {
  if (path === '/' || path === '/index.html') return join(HERE, 'index.html');
  if (path === '/main.js') return join(HERE, 'main.js');
  if (path === '/build/h2wasm.wasm') return join(ROOT, 'build', 'h2wasm.wasm');
  const m = /^\/dist\/bindings\/([a-z0-9-]+\.js)$/.exec(path);
  if (m) return join(ROOT, 'dist', 'bindings', m[1]);
  const b = /^\/bundle\/([a-z0-9-]+\.(?:js|html))$/.exec(path);
  if (b && bundleDir) return join(bundleDir, b[1]);
  return null;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (url.pathname === '/config.json') {
    res
      .writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' })
      .end(JSON.stringify({ nghttpdPort }));
    return;
  }
  const file = fileFor(url.pathname);
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  try {
    const body = await readFile(file);
    const ext = file.slice(file.lastIndexOf('.'));
    res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found (build first: node scripts/build.mjs)\n`);
  }
});

// ---- WebSocket → TCP ------------------------------------------------------------------

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const key = req.headers['sec-websocket-key'];
  const target = Number(url.searchParams.get('port'));
  const refuse = (status, why) => {
    socket.end(
      `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${why.length + 1}\r\n\r\n${why}\n`,
    );
  };
  if (url.pathname !== '/tcp' || String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string') {
    refuse('400 Bad Request', 'expected a WebSocket upgrade on /tcp?port=N');
    return;
  }
  if (!Number.isInteger(target) || target < 1 || target > 65535) {
    refuse('400 Bad Request', 'port must be 1-65535');
    return;
  }
  if (req.headers['sec-websocket-version'] !== '13') {
    socket.end('HTTP/1.1 426 Upgrade Required\r\nsec-websocket-version: 13\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  socket.setNoDelay(true);
  const tcp = net.connect({ host: '127.0.0.1', port: target });
  tcp.setNoDelay(true);
  let open = false;
  tcp.once('connect', () => {
    open = true;
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
    );
    bridge(socket, tcp, head);
  });
  tcp.once('error', (e) => {
    if (!open) refuse('502 Bad Gateway', `127.0.0.1:${target}: ${e.message}`);
  });
  socket.on('error', () => tcp.destroy());
});

/** One WebSocket frame, server to client (never masked). */
function frame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode; // FIN
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

const MAX_FRAME = 16 << 20;

/** Pipes WebSocket binary frames to the TCP socket and TCP bytes back as binary frames. */
function bridge(ws, tcp, head) {
  let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  let closing = false;
  const close = (code = 1000) => {
    if (closing) return;
    closing = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    if (!ws.destroyed) ws.end(frame(0x8, payload));
    tcp.end();
  };

  tcp.on('data', (d) => {
    if (!ws.write(frame(0x2, d))) tcp.pause();
  });
  ws.on('drain', () => tcp.resume());
  tcp.on('drain', () => ws.resume());
  tcp.on('end', () => close(1000));
  tcp.on('error', () => close(1011));
  ws.on('close', () => tcp.destroy());

  const onData = (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 2) {
      const opcode = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(MAX_FRAME)) {
          close(1009);
          ws.destroy();
          return;
        }
        len = Number(big);
        at = 10;
      }
      if (!masked) {
        close(1002);
        return;
      } // RFC 6455 §5.1: client frames are masked
      if (len > MAX_FRAME) {
        close(1009);
        return;
      }
      if (buf.length < at + 4 + len) return;
      const mask = buf.subarray(at, at + 4);
      const payload = Buffer.from(buf.subarray(at + 4, at + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      buf = buf.subarray(at + 4 + len);
      if (opcode === 0x2 || opcode === 0x0 || opcode === 0x1) {
        // Binary (and its continuations): the bytes are a stream, so fragments need no reassembly.
        if (!closing && payload.length && !tcp.write(payload)) ws.pause();
      } else if (opcode === 0x8) {
        close(1000);
        return;
      } else if (opcode === 0x9) {
        ws.write(frame(0xa, payload));
      } // 0xA pong: nothing to do
    }
  };
  ws.on('data', onData);
  if (buf.length) {
    const first = buf;
    buf = Buffer.alloc(0);
    onData(first);
  }
}

server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  console.log(
    `browser example: http://127.0.0.1:${actual}/${nghttpdPort ? ` (nghttpd on 127.0.0.1:${nghttpdPort})` : ''}`,
  );
});
// Upgraded sockets are not the HTTP server's to close: on a signal, just go.
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
