// The minimal node:http2 file server the exhaustion suite compares against: what a user
// writes from node's documentation (respondWithFile), nothing tuned. Prints its port.
//   node node-files.mjs DIR
import http2 from 'node:http2';
import { join, normalize } from 'node:path';

const dir = process.argv[2];
const server = http2.createServer();
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  if (headers[':method'] !== 'GET') {
    stream.on('data', () => {});
    stream.on('end', () => {
      if (!stream.destroyed) stream.respond({ ':status': 200 }, { endStream: true });
    });
    return;
  }
  const file = join(dir, normalize(String(headers[':path'])).replace(/^(\.\.[/\\])+/, ''));
  stream.respondWithFile(
    file,
    {},
    {
      onError: () => {
        if (!stream.destroyed) stream.respond({ ':status': 404 }, { endStream: true });
      },
    },
  );
});
server.on('sessionError', () => {});
server.listen(0, '127.0.0.1', () =>
  console.log(`port ${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`),
);
process.on('SIGTERM', () => process.exit(0));
