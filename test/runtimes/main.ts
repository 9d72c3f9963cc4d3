// The runtime suites' script for Deno and Bun (`deno run -A --sloppy-imports main.ts …`,
// `bun main.ts …`): `client ORIGIN` prints clientChecks' JSON; `serve` starts serve() on
// 127.0.0.1, prints {"url"} and serves until its stdin closes; `get URL CA_FILE` prints one
// GET's status and body over TLS (ALPN h2, the CA given); `grpc ORIGIN` prints grpcChecks'.
import { readFileSync } from 'node:fs';
import { connect, fetch, serve } from 'h2wasm';
import { clientChecks, grpcChecks } from './checks.js';

const [command, arg, caFile] = process.argv.slice(2);
if (command === 'client') {
  console.log(JSON.stringify(await clientChecks({ connect: (u) => connect(u), fetch }, arg)));
} else if (command === 'grpc') {
  console.log(JSON.stringify(await grpcChecks((origin) => connect(origin), arg)));
} else if (command === 'get') {
  const u = new URL(arg);
  const session = connect(u.origin, { ca: readFileSync(caFile) });
  const res = await session.request({ path: u.pathname });
  console.log(JSON.stringify({ status: res.status, body: await res.text() }));
  await session.close();
} else if (command === 'serve') {
  const server = await serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (req) =>
      new Response(`hello from ${new URL(req.url).pathname}\n`, { headers: { 'content-type': 'text/plain' } }),
  });
  console.log(JSON.stringify({ url: server.url }));
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
} else {
  console.error('usage: main.ts client ORIGIN | grpc ORIGIN | get URL CA_FILE | serve');
  process.exit(2);
}
