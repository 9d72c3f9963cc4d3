// h2wasm in a browser: plain ES modules, no bundler. The package's browser entry
// (dist/bindings/browser.js, no `node:` imports) compiles the module as it loads; a Runtime
// per side binds the module's io imports to in-memory Transports, whose Sinks we wire to
// wherever the bytes go, and connect() runs over a socket the page opens (a WebSocket).
//
// 1. In memory: an h2wasm client and an h2wasm server, each on its own Runtime (its own
//    module instance and executor), joined by two transports whose sinks push into each
//    other. A GET, then a POST with request trailers answered with response trailers.
// 2. Over a WebSocket-to-TCP bridge (serve.mjs /tcp?port=N): the same client against a
//    real nghttpd, when the helper was told its port (--nghttpd-port).
//
// Every result is a line in an <ol>; #status says "done" (or "failed: …") at the end.
import {
  Runtime,
  ClientSession,
  ServerConnection,
  compiledModule,
  connect,
  webSocketSocket,
} from '/dist/bindings/browser.js';

const statusEl = document.getElementById('status');

function logger(id) {
  const list = document.getElementById(id);
  return (text, cls) => {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    list.append(li);
  };
}

const fields = (list) => list.map(([k, v]) => `${k}: ${v}`).join(', ') || '(none)';

// ---- frame counting (the 9-octet frame header of RFC 9113 §4.1) -------------------------

const FRAME_NAMES = [
  'DATA',
  'HEADERS',
  'PRIORITY',
  'RST_STREAM',
  'SETTINGS',
  'PUSH_PROMISE',
  'PING',
  'GOAWAY',
  'WINDOW_UPDATE',
  'CONTINUATION',
];

/** Counts frames by type in one direction of a connection, fed the raw bytes. */
class FrameCounter {
  constructor(preface) {
    this.skip = preface ? 24 : 0; // the client's connection preface precedes its frames
    this.head = [];
    this.counts = new Map();
  }
  feed(bytes) {
    let i = 0;
    while (i < bytes.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head.push(bytes[i++]);
      if (this.head.length === 9) {
        const [a, b, c, type] = this.head;
        const name = FRAME_NAMES[type] ?? `0x${type.toString(16)}`;
        this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
        this.skip = (a << 16) | (b << 8) | c;
        this.head = [];
      }
    }
  }
  toString() {
    return [...this.counts].map(([k, v]) => `${k} ${v}`).join(', ') || '(none)';
  }
}

// ---- 1. client ⇄ server in memory ---------------------------------------------------------

/** The example server: GET answers with its path; POST echoes its body and trailers. */
async function handler(req, res) {
  if (req.method === 'GET') {
    await res.respond(
      200,
      [
        ['content-type', 'text/plain'],
        ['x-served-by', 'h2wasm (in the page)'],
      ],
      `hello from h2wasm: ${req.method} ${req.path}`,
    );
    return;
  }
  let body = '';
  const decoder = new TextDecoder();
  for await (const chunk of req.body()) body += decoder.decode(chunk, { stream: true });
  const trailers = await req.trailers();
  const seen = trailers.map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  await res.respond(
    200,
    [
      ['content-type', 'text/plain'],
      ['trailer', 'x-body-length, x-server-trailer'],
    ],
    `echo: ${body} (request trailers: ${seen})`,
    [
      ['x-body-length', String(new TextEncoder().encode(body).length)],
      ['x-server-trailer', 'done'],
    ],
  );
}

async function inMemory(module, log) {
  const clientRt = new Runtime(module);
  const serverRt = new Runtime(module);
  const toServer = new FrameCounter(true);
  const toClient = new FrameCounter(false);
  // Each sink delivers to the other side's transport on a microtask: never inside the
  // io_write call that produced the bytes.
  let server;
  const client = clientRt.transport({
    write: (bytes) => {
      toServer.feed(bytes);
      queueMicrotask(() => server.transport.push(bytes));
      return true;
    },
    end: () => queueMicrotask(() => server.transport.end()),
  });
  server = serverRt.transport({
    write: (bytes) => {
      toClient.feed(bytes);
      queueMicrotask(() => client.transport.push(bytes));
      return true;
    },
    end: () => queueMicrotask(() => client.transport.end()),
  });
  const conn = new ServerConnection(serverRt, server.transport, server.io, {}, handler, (e) =>
    log(`server error: ${e}`, 'error'),
  );
  const session = new ClientSession(clientRt, client.transport, client.io, { scheme: 'http', authority: 'in-memory' });
  await session.ready;
  log('handshake: ok (client and server settings exchanged)');

  const get = await session.request({ method: 'GET', path: '/hello' });
  log(`GET /hello status: ${get.status}`);
  log(`GET /hello headers: ${fields(get.headers)}`);
  log(`GET /hello body: ${await get.text()}`);

  const post = await session.request({
    method: 'POST',
    path: '/echo',
    headers: { 'content-type': 'text/plain' },
    body: 'ping from the browser',
    trailers: { 'x-client-trailer': 'sent-after-body' },
  });
  log(`POST /echo status: ${post.status}`);
  log(`POST /echo headers: ${fields(post.headers)}`);
  log(`POST /echo body: ${await post.text()}`);
  log(`POST /echo trailers: ${fields(await post.trailers())}`);

  await session.close();
  await conn.done;
  log(`frames client→server: ${toServer}`);
  log(`frames server→client: ${toClient}`);
  log('in-memory: closed');
}

// ---- 2. client → nghttpd over the WebSocket bridge -------------------------------------

/** `socket` with each direction's bytes also fed to a frame counter. */
function counted(socket, sent, received) {
  const tap = (counter) =>
    new TransformStream({
      transform(chunk, controller) {
        counter.feed(chunk);
        controller.enqueue(chunk);
      },
    });
  const out = tap(sent);
  void out.readable.pipeTo(socket.writable).catch(() => {});
  return { readable: socket.readable.pipeThrough(tap(received)), writable: out.writable, close: socket.close };
}

async function overBridge(port, path, log) {
  const toServer = new FrameCounter(true);
  const toClient = new FrameCounter(false);
  // The bridge's WebSocket as the session's socket (the package's webSocketSocket).
  const bridge = () => counted(webSocketSocket(`ws://${location.host}/tcp?port=${port}`), toServer, toClient);
  const session = connect(`http://127.0.0.1:${port}`, { socket: bridge });
  await session.ready;
  log(`bridge: open (ws → 127.0.0.1:${port})`);
  await session.ready;
  const res = await session.request({ method: 'GET', path });
  log(`nghttpd GET ${path} status: ${res.status}`);
  log(`nghttpd GET ${path} headers: ${fields(res.headers.filter(([k]) => k !== 'date' && k !== 'last-modified'))}`);
  log(`nghttpd GET ${path} body: ${(await res.text()).trim()}`);
  await session.close();
  log(`frames client→nghttpd: ${toServer}`);
  log(`frames nghttpd→client: ${toClient}`);
}

// ---- main --------------------------------------------------------------------------------

async function main() {
  const memLog = logger('memory');
  const netLog = logger('nghttpd');
  // The entry compiled the module as it loaded (compileStreaming: a browser's main thread
  // may refuse a big synchronous compile); each Runtime instantiates it.
  const module = compiledModule();
  const probe = new Runtime(module);
  const v = probe.ex.h2_version();
  memLog(`module: h2wasm ABI ${v >>> 16}.${v & 0xffff}`);
  let ok = true;
  try {
    await inMemory(module, memLog);
  } catch (e) {
    ok = false;
    memLog(`error: ${e?.message ?? e}`, 'error');
  }

  const params = new URLSearchParams(location.search);
  const config = await fetch('/config.json').then(
    (r) => r.json(),
    () => ({}),
  );
  const port = Number(params.get('nghttpd') ?? config.nghttpdPort ?? 0);
  if (port > 0) {
    try {
      await overBridge(port, params.get('path') ?? '/index.html', netLog);
    } catch (e) {
      ok = false;
      netLog(`error: ${e?.message ?? e}`, 'error');
    }
  } else netLog('skipped: no nghttpd port (serve.mjs --nghttpd-port N, or ?nghttpd=N)');
  statusEl.textContent = ok ? 'done' : 'failed';
  document.body.dataset.state = ok ? 'done' : 'failed';
}

main().catch((e) => {
  statusEl.textContent = `failed: ${e?.message ?? e}`;
  document.body.dataset.state = 'failed';
});
