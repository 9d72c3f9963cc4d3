#!/usr/bin/env node
// The `h2wasm` command: `serve` (an HTTP/2 server on h2wasm), more to come.
// Errors are one clear line and a non-zero exit, never a stack trace.
import { readFileSync, statSync, createReadStream } from 'node:fs';
import { join, normalize, extname } from 'node:path';
import { serve } from './node.js';
import type { IncomingRequest, Responder } from './server-conn.js';

const USAGE = `usage:
  h2wasm serve [--port N] [--host 127.0.0.1] [--dir DIR] [--tls-cert FILE --tls-key FILE]`;

function fail(message: string): never {
  process.stderr.write(`h2wasm: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv: string[], spec: Record<string, 'value' | 'flag'>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const kind = spec[a];
    if (!kind) fail(`unknown option ${a}\n${USAGE}`);
    if (kind === 'flag') out[a] = true;
    else {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      out[a] = argv[++i];
    }
  }
  return out;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.txt': 'text/plain', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

async function cmdServe(argv: string[]): Promise<void> {
  const o = parseArgs(argv, { '--port': 'value', '--host': 'value', '--dir': 'value', '--tls-cert': 'value', '--tls-key': 'value' });
  const port = o['--port'] === undefined ? 8443 : Number(o['--port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${String(o['--port'])}`);
  const dir = o['--dir'] as string | undefined;
  if ((o['--tls-cert'] === undefined) !== (o['--tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    if (o['--tls-cert']) tls = { cert: readFileSync(o['--tls-cert'] as string), key: readFileSync(o['--tls-key'] as string) };
  } catch (e) {
    fail(`cannot read TLS files: ${(e as Error).message}`);
  }
  const server = await serve({
    port,
    hostname: (o['--host'] as string) ?? '127.0.0.1',
    tls,
    handler: (req, res) => answer(req, res, dir),
    onError: (e) => process.stderr.write(`h2wasm: handler error: ${(e as Error).message}\n`),
  }).catch((e) => fail(`cannot listen: ${(e as Error).message}`));
  process.stderr.write(`h2wasm: serving ${server.url}${dir ? ` from ${dir}` : ''}\n`);
  const stop = () => { server.close().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The default app: files from --dir, else 200 with a short body for GET/HEAD/POST. */
async function answer(req: IncomingRequest, res: Responder, dir?: string): Promise<void> {
  let received = 0;
  for await (const chunk of req.body()) received += chunk.length;
  if (dir && (req.method === 'GET' || req.method === 'HEAD')) {
    const path = decodeURIComponent(req.path.split('?')[0]);
    const file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    try {
      const st = statSync(file);
      if (st.isFile()) {
        const headers: [string, string][] = [['content-length', String(st.size)], ['content-type', TYPES[extname(file)] ?? 'application/octet-stream']];
        return res.respond(200, headers, req.method === 'HEAD' ? null : createReadStream(file));
      }
    } catch {
      // fall through to 404
    }
    return res.respond(404, [['content-type', 'text/plain']], 'not found\n');
  }
  const body = req.method === 'POST' ? `received ${received} bytes\n` : 'hello from h2wasm\n';
  return res.respond(200, [['content-type', 'text/plain']], req.method === 'HEAD' ? null : body);
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'serve') return cmdServe(rest);
  fail(cmd ? `unknown command ${cmd}\n${USAGE}` : USAGE);
}

main().catch((e) => fail((e as Error).message));
