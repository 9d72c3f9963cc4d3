// An HTTP/2 server in Bun with h2wasm's serve() (HTTP/1.1 on the same port too): answers
// every request with a line of text. Ctrl-C closes it gracefully.
//   bun server.ts [PORT]     (default 8080; 0 picks a free port)
import { serve } from 'h2wasm';

const port = Number(process.argv[2] ?? 8080);
const server = await serve({
  port,
  hostname: '127.0.0.1',
  fetch: (req) =>
    new Response(`hello from Bun: ${req.method} ${new URL(req.url).pathname}\n`, {
      headers: { 'content-type': 'text/plain' },
    }),
});
console.log(`listening on ${server.url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    await server.close(); // GOAWAY; requests in flight finish
    process.exit(0);
  });
