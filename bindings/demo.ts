// `npm start`: an h2wasm server and an h2wasm client on loopback — a GET, a streamed POST
// with trailers both ways, and a cancelled request — each told in a line or two.
import { connect, serve, H2StreamError } from './index.js';

const say = (line: string) => console.log(line);

const server = await serve({
  port: 0,
  handler: async (req, res) => {
    if (req.path === '/slow') {
      // Never finishes on its own: the client cancels it.
      await res.respond(
        200,
        [['content-type', 'text/plain']],
        (async function* () {
          for (let i = 0; i < 50; i++) {
            yield new TextEncoder().encode(`tick ${i}\n`);
            await new Promise((r) => setTimeout(r, 20));
          }
        })(),
      );
      return;
    }
    let bytes = 0;
    for await (const chunk of req.body()) bytes += chunk.length;
    const trailers = await req.trailers();
    const body =
      req.method === 'POST'
        ? `got ${bytes} bytes${trailers.length ? `, trailers ${trailers.map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}\n`
        : 'hello from the h2wasm server\n';
    await res.respond(200, [['content-type', 'text/plain']], body, [['x-served-by', 'h2wasm']]);
  },
});
say(`server  listening on ${server.url} (h2c, one wasm module instance)`);

const session = connect(server.url);
await session.ready;

const get = await session.request({ path: '/' });
say(
  `GET /   → ${get.status} ${JSON.stringify((await get.text()).trim())}, trailers ${JSON.stringify(await get.trailers())}`,
);

async function* upload() {
  for (let i = 0; i < 8; i++) yield new Uint8Array(64 * 1024).fill(i);
}
const post = await session.request({
  method: 'POST',
  path: '/upload',
  body: upload(),
  trailers: [['x-checksum', 'demo']],
});
say(`POST    → ${post.status} ${JSON.stringify((await post.text()).trim())} (512 KiB streamed, paced by flow control)`);

const controller = new AbortController();
const slow = await session.request({ path: '/slow', signal: controller.signal });
let ticks = 0;
try {
  for await (const chunk of slow.body) {
    ticks += new TextDecoder().decode(chunk).split('\n').filter(Boolean).length;
    if (ticks >= 3) controller.abort();
  }
} catch (e) {
  const kind = e instanceof H2StreamError ? 'stream error' : (e as Error).name;
  say(`cancel  → stopped after ${ticks} ticks: ${kind} (RST_STREAM CANCEL sent, the connection carries on)`);
}

const again = await session.request({ path: '/' });
say(`GET /   → ${again.status} again on the same connection; PING round trip ${Math.round(await session.ping())} ms`);

await session.close();
await server.close();
say('done    client and server closed gracefully (GOAWAY, in-flight streams finished)');
