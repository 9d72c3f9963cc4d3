// GET a URL with h2wasm's fetch() in Bun: HTTP/2 (h2c with prior knowledge for http:,
// ALPN h2 for https:), HTTP/1.1 for an origin that does not speak it. Prints the status,
// the protocol, the headers, the body's size and the trailers.
//   bun client.ts URL
import { fetch, h2wasmTrailers } from 'h2wasm';

const url = process.argv[2];
if (!url) {
  console.error('usage: bun client.ts URL');
  process.exit(2);
}

const res = await fetch(url);
const body = await res.bytes();
// fetch() keeps a session only for an origin that speaks HTTP/2 (else it asked over HTTP/1.1).
const protocol = fetch.sessions.has(new URL(res.url).origin) ? 'HTTP/2' : 'HTTP/1.1';
console.log(`status: ${res.status}`);
console.log(`protocol: ${protocol}`);
res.headers.forEach((value, name) => console.log(`header ${name}: ${value}`));
console.log(`body: ${body.length} bytes`);
for (const [name, value] of await h2wasmTrailers(res)) console.log(`trailer ${name}: ${value}`);
await fetch.close(); // the pooled connection, closed gracefully: the process can end
