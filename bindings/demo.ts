// `npm start`: a short tour of what h2wasm does today, printed in a few readable lines.
// (It grows with the library: the loopback client/server exchange arrives with the ABI.)
import { HpackDecoder, HpackEncoder, HpackError, defaultModule } from './index.js';

const requests: [string, string][][] = [
  [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/'], ['user-agent', 'h2wasm-demo/0.1'], ['accept', 'text/html']],
  [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/style.css'], ['user-agent', 'h2wasm-demo/0.1'], ['accept', 'text/css']],
  [[':method', 'POST'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/login'], ['user-agent', 'h2wasm-demo/0.1'], ['authorization', 'Bearer s3cr3t']],
];

const raw = (fields: [string, string][]) => fields.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
const ex = defaultModule().exports;
console.log(`h2wasm demo — module ABI ${ex.h2_version() >> 16}.${ex.h2_version() & 0xffff}, ${ex.memory.buffer.byteLength / 1024} KiB of linear memory`);

const encoder = new HpackEncoder();
const decoder = new HpackDecoder();
for (const fields of requests) {
  const block = encoder.encode(fields);
  const back = decoder.decode(block);
  const same = JSON.stringify(back) === JSON.stringify(fields);
  console.log(
    `HPACK ${fields[0][1].padEnd(4)} ${fields[3][1].padEnd(10)} ${String(raw(fields)).padStart(3)} B as text → ${String(block.length).padStart(3)} B encoded, ` +
      `decoded ${same ? 'identically' : 'DIFFERENTLY'}; table now ${decoder.tableLength} entries / ${decoder.tableSize} B`,
  );
}
console.log(`The authorization value was sent never-indexed: it is not in the table (${decoder.tableLength} entries, none of them the token).`);

try {
  decoder.decode(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x0f));
} catch (e) {
  console.log(`A corrupt block is refused with a clear error: ${e instanceof HpackError ? e.message : String(e)}`);
}
encoder.free();
decoder.free();
