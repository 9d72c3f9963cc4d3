#!/usr/bin/env node
// The `h2wasm` command: `serve` (an HTTP/2 server on h2wasm), more to come.
// Errors are one clear line and a non-zero exit, never a stack trace.
import { readFileSync, statSync } from 'node:fs';
import { join, normalize, extname } from 'node:path';
import { createHash } from 'node:crypto';
import { serve, connect } from './node.js';
import { defaultModule } from './index.js';
import { FrameLogger } from './frames-debug.js';
import { isNotHttp2 } from './fetch.js';
import { http1Sender } from './http1-client.js';
import { runBench, formatBench, progressBar } from './bench-cli.js';
import { OPTION_KEYS, type ConnectionOptions, type IncomingRequest, type Responder } from './server-conn.js';
import { LIMIT_KEYS, type Limits } from './runtime.js';

/** Each command's usage, for `h2wasm help COMMAND` and `h2wasm COMMAND --help`. */
const COMMAND_USAGE: Record<string, string> = {
  serve: `  h2wasm serve [--port N] [--host 127.0.0.1] [--dir DIR] [--tls-cert FILE --tls-key FILE]
               [--http1=false] [--h2c-upgrade=false] [--set OPTION=VALUE]... [--limit NAME=VALUE]...
      HTTP/2 and HTTP/1.1 on one port (TLS: ALPN h2 or http/1.1; cleartext: the HTTP/2
      preface, HTTP/1.1, or its Upgrade: h2c); --http1=false serves HTTP/2 only;
      --h2c-upgrade=false answers Upgrade: h2c over HTTP/1.1.
      OPTION is any connection setting by name (README, "Options and limits"), e.g.
      --set idleTimeoutMs=60000 --set maxConcurrentStreams=250; NAME a limit of the
      process's memory budget: memoryBudget, sendBytes, recvBytes, streams, connections`,
  get: `  h2wasm get URL [-v] [-X METHOD] [-H 'name: value']... [-d DATA | -d @FILE] [-k]
      the response body (only the body) to stdout; -v logs every frame to stderr;
      -k accepts any TLS certificate; exit 0 on any response, 1 on an error`,
  bench: `  h2wasm bench URL [-n N] [-c C] [-m M] [-d SECONDS] [-k]
      like h2load: N requests (default 1000) over C connections (1) with M streams each
      (10), or for SECONDS; then req/s, throughput, latency percentiles, status codes`,
};

const USAGE = `usage:
${Object.values(COMMAND_USAGE).join('\n')}
  h2wasm help [COMMAND]
      this text, or one command's (also h2wasm COMMAND --help, or -h)
  h2wasm --version
      the version of h2wasm`;

/** Options that take a value, per command: `--help` after one of them is its value, not a request for help. */
const VALUE_OPTIONS: Record<string, string[]> = {
  serve: ['--port', '--host', '--dir', '--tls-cert', '--tls-key', '--set', '--limit', '--http1', '--h2c-upgrade'],
  get: ['-X', '--request', '-H', '--header', '-d', '--data'],
  bench: ['-n', '-c', '-m', '-d'],
};

function fail(message: string): never {
  process.stderr.write(`h2wasm: ${message}\n`);
  process.exit(1);
}

function parseArgs(
  argv: string[],
  spec: Record<string, 'value' | 'flag' | 'list'>,
): Record<string, string | boolean | string[]> {
  const out: Record<string, string | boolean | string[]> = {};
  // `--name=value` is `--name value`.
  argv = argv.flatMap((a) => (/^--[\w-]+=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const kind = spec[a];
    if (!kind) fail(`unknown option ${a}\n${USAGE}`);
    if (kind === 'flag') out[a] = true;
    else {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      const v = argv[++i];
      out[a] = kind === 'list' ? [...((out[a] as string[] | undefined) ?? []), v] : v;
    }
  }
  return out;
}

/**
 * `name=value` pairs of `flag` (--set, --limit) whose names are `names`: values are whole
 * numbers (or true / false where `booleans`). A value the module refuses fails serve().
 */
function parsePairs(
  flag: string,
  pairs: string[] = [],
  names: string[],
  booleans: boolean,
): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const pair of pairs) {
    const m = /^(\w+)=(.+)$/.exec(pair);
    if (!m || !names.includes(m[1])) fail(`bad ${flag} ${pair} (names: ${names.join(', ')})`);
    const v = booleans && m[2] === 'true' ? true : booleans && m[2] === 'false' ? false : Number(m[2]);
    if (typeof v === 'number' && !(Number.isInteger(v) && v >= 0))
      fail(`bad ${flag} ${pair}: a whole number${booleans ? ', true or false' : ''}`);
    out[m[1]] = v;
  }
  return out;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.txt': 'text/plain',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
};

async function cmdServe(argv: string[]): Promise<void> {
  const o = parseArgs(argv, {
    '--port': 'value',
    '--host': 'value',
    '--dir': 'value',
    '--tls-cert': 'value',
    '--tls-key': 'value',
    '--set': 'list',
    '--limit': 'list',
    '--http1': 'value',
    '--h2c-upgrade': 'value',
  });
  const http1 = o['--http1'] ?? 'true';
  if (http1 !== 'true' && http1 !== 'false') fail(`bad --http1 ${String(http1)}: true or false`);
  const h2cUpgrade = o['--h2c-upgrade'] ?? 'true';
  if (h2cUpgrade !== 'true' && h2cUpgrade !== 'false') fail(`bad --h2c-upgrade ${String(h2cUpgrade)}: true or false`);
  const settings = parsePairs(
    '--set',
    o['--set'] as string[] | undefined,
    Object.keys(OPTION_KEYS),
    true,
  ) as ConnectionOptions;
  const limits = parsePairs(
    '--limit',
    o['--limit'] as string[] | undefined,
    LIMIT_KEYS.map(([name]) => name),
    false,
  ) as Limits;
  const port = o['--port'] === undefined ? 8443 : Number(o['--port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${String(o['--port'])}`);
  const dir = o['--dir'] as string | undefined;
  // Checked here, before listening: otherwise every request would be a 404.
  if (dir !== undefined) {
    let st;
    try {
      st = statSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(
        `--dir ${dir}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such folder' : (code ?? (e as Error).message)}`,
      );
    }
    if (!st.isDirectory()) fail(`--dir ${dir}: is not a folder`);
  }
  if ((o['--tls-cert'] === undefined) !== (o['--tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    if (o['--tls-cert'])
      tls = { cert: readFileSync(o['--tls-cert'] as string), key: readFileSync(o['--tls-key'] as string) };
  } catch (e) {
    fail(`cannot read TLS files: ${(e as Error).message}`);
  }
  const server = await serve({
    port,
    hostname: (o['--host'] as string) ?? '127.0.0.1',
    tls,
    http1: http1 === 'true',
    h2cUpgrade: h2cUpgrade === 'true',
    handler: (req, res) => answer(req, res, dir),
    settings,
    limits,
    onError: (e) => process.stderr.write(`h2wasm: handler error: ${(e as Error).message}\n`),
    // At most one line per connection, for the streams its peer cut off mid-response.
    onStreamsLost: (n) =>
      process.stderr.write(`h2wasm: a connection ended with ${n} stream${n === 1 ? '' : 's'} cut off by the peer\n`),
  }).catch((e) => fail(`cannot listen: ${(e as Error).message}`));
  process.stderr.write(`h2wasm: serving ${server.url}${dir ? ` from ${dir}` : ''}\n`);
  // Graceful on the first signal (in-flight streams finish), but never held up for long:
  // a second signal, or 5 s, ends the process.
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    setTimeout(() => process.exit(0), 5000).unref();
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const TEXT: [string, string][] = [['content-type', 'text/plain']];

/**
 * The default app: files from --dir, else 200 with a short body for GET/HEAD and, for any
 * other method, the size and sha256 of what was uploaded. Every request is read to its end
 * before it is answered (as nghttpd does): a peer that keeps a GET's stream open — h2spec's
 * stream-state cases do — finds it open.
 */
function answer(req: IncomingRequest, res: Responder, dir?: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return answerUpload(req, res);
  if (!req.bodyEnded) return drain(req).then(() => answerGet(req, res, dir));
  return answerGet(req, res, dir); // no body to wait for: answered at once
}

function answerGet(req: IncomingRequest, res: Responder, dir?: string): Promise<void> {
  if (dir) return answerFile(req, res, dir);
  return res.respond(200, TEXT, req.method === 'HEAD' ? null : 'hello from h2wasm\n');
}

async function drain(req: IncomingRequest): Promise<void> {
  for await (const _ of req.body()) void _;
}

async function answerFile(req: IncomingRequest, res: Responder, dir: string): Promise<void> {
  const path = decodeURIComponent(req.path.split('?')[0]);
  const file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
  try {
    const st = statSync(file);
    if (st.isFile()) {
      const type: [string, string] = ['content-type', TYPES[extname(file)] ?? 'application/octet-stream'];
      // GET: zero-copy, each frame's data read from the file into the frame, never into the module.
      if (req.method === 'GET') return res.respondWithFile(file, [type]);
      return res.respond(200, [['content-length', String(st.size)], type], null);
    }
  } catch {
    // fall through to 404
  }
  return res.respond(404, TEXT, 'not found\n');
}

/** What arrived, by size and hash, so a client can verify an upload byte for byte. */
async function answerUpload(req: IncomingRequest, res: Responder): Promise<void> {
  let received = 0;
  const hash = createHash('sha256');
  for await (const chunk of req.body()) {
    received += chunk.length;
    hash.update(chunk);
  }
  const body = req.method === 'POST' ? `received ${received} bytes\n` : 'hello from h2wasm\n';
  return res.respond(200, [...TEXT, ['x-received-sha256', hash.digest('hex')]], body);
}

/** `h2wasm get`: one request, like `nghttp URL`: the body to stdout, frames to stderr with -v. */
async function cmdGet(argv: string[]): Promise<void> {
  let url: string | undefined;
  let verbose = false;
  let insecure = false;
  let method: string | undefined;
  let data: string | undefined;
  const headers: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '-k' || a === '--insecure') insecure = true;
    else if (a === '-X' || a === '--request') method = value();
    else if (a === '-d' || a === '--data') data = value();
    else if (a === '-H' || a === '--header') {
      const h = value();
      const colon = h.indexOf(':', 1); // ':authority: x' style names start with a colon
      if (colon < 0) fail(`bad header ${JSON.stringify(h)} (want 'name: value')`);
      headers.push([h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim()]);
    } else if (a.startsWith('-')) fail(`unknown option ${a}\n${USAGE}`);
    else if (url === undefined) url = a;
    else fail(`unexpected argument ${a}\n${USAGE}`);
  }
  if (!url) fail(`get needs a URL\n${USAGE}`);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    fail(`bad URL ${url}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    fail(`unsupported URL scheme ${target.protocol} (http: or https:)`);
  let body: Uint8Array | undefined;
  if (data !== undefined) {
    if (data.startsWith('@')) {
      try {
        body = readFileSync(data.slice(1));
      } catch (e) {
        fail(`cannot read ${data.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    } else body = new TextEncoder().encode(data);
  }
  const logger = verbose
    ? new FrameLogger((line) => process.stderr.write(`${line}\n`), true, defaultModule())
    : undefined;
  const session = connect(
    target,
    {
      rejectUnauthorized: !insecure,
      onBytes: logger ? (dir, bytes) => logger.feed(dir, bytes) : undefined,
    },
    { offerHttp1: true },
  );
  const toStdout = async (res: { body: AsyncIterable<Uint8Array>; trailers(): Promise<unknown> }) => {
    for await (const chunk of res.body) {
      if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
    }
    await res.trailers();
  };
  let http1: string | undefined; // why, when the origin turned out to speak HTTP/1.1
  try {
    await session.ready;
  } catch (e) {
    if (!isNotHttp2(e)) {
      session.destroy();
      fail(describe(e, target));
    }
    http1 = (e as Error).message;
  }
  if (http1 !== undefined) {
    // The same request over HTTP/1.1 (node:http / node:https): a -H ':authority: x' is its Host.
    if (verbose) process.stderr.write(`h2wasm: ${http1}: it speaks HTTP/1.1, the request went over HTTP/1.1\n`);
    const send = http1Sender();
    try {
      await toStdout(
        await send({
          method: method ?? (body ? 'POST' : 'GET'),
          url: target.href,
          headers: headers.flatMap(([k, v]): [string, string][] =>
            k === ':authority' ? [['host', v]] : k.startsWith(':') ? [] : [[k, v]],
          ),
          body,
          tls: { rejectUnauthorized: !insecure },
        }),
      );
    } catch (e) {
      fail(`over HTTP/1.1: ${describe(e, target)}`);
    }
    send.close?.();
    return;
  }
  try {
    await toStdout(
      await session.request({
        method: method ?? (body ? 'POST' : 'GET'),
        path: target.pathname + target.search,
        headers,
        body,
      }),
    );
  } catch (e) {
    session.destroy();
    fail(describe(e, target));
  }
  await session.close();
}

/**
 * One line for an error, without a stack: `get` and `bench` say the same thing for the same
 * failure (refused, unresolvable, reset, TLS).
 */
function describe(e: unknown, url: URL): string {
  const err = e as (NodeJS.ErrnoException & { reason?: string }) | undefined;
  const where = url.host;
  const message = (err?.message ?? String(e)).replace(/^h2wasm: /, '').trimEnd();
  // OpenSSL's reason: on the error (code ERR_SSL_…, when TLS fails on a read), or only in
  // its raw line (code EPROTO, when it fails on a write: "write EPROTO …:error:0A00010B:SSL
  // routines:ssl3_get_record:wrong version number:…").
  const tlsReason = err?.reason ?? /:SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
  // What came back is not a TLS record: most often an http:// server asked with https://.
  if (tlsReason && /wrong version number/i.test(tlsReason))
    return `TLS handshake failed: ${where} does not speak TLS (is it an http:// URL?)`;
  // The peer closed (FIN) before the handshake finished; Node says ECONNRESET.
  if (/before secure TLS connection was established/.test(message))
    return `TLS handshake failed: ${where} closed the connection during the handshake`;
  switch (err?.code) {
    case 'ECONNREFUSED':
      return `connection refused (${where})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname}`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    case 'ETIMEDOUT':
      return `connection to ${where} timed out`;
  }
  if (typeof err?.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO/.test(err.code))
    return `TLS: ${message} (use -k to accept it)`;
  // Any other OpenSSL failure (an alert from the server, no shared cipher…): its reason, not the raw line.
  if (tlsReason) return `TLS error with ${where}: ${tlsReason}`;
  if (/handshake with .* failed/.test(message))
    return `${message} (not an HTTP/2 server? http: URLs need h2c with prior knowledge)`;
  return message;
}

async function cmdBench(argv: string[]): Promise<void> {
  const url = argv.find((a, i) => !a.startsWith('-') && !['-n', '-c', '-m', '-d'].includes(argv[i - 1]));
  if (!url) fail(`bench needs a URL\n${usageOf('bench')}`);
  const o = parseArgs(
    argv.filter((a) => a !== url),
    { '-n': 'value', '-c': 'value', '-m': 'value', '-d': 'value', '-k': 'flag' },
  );
  const num = (k: string, d: number, min: number) => {
    if (o[k] === undefined) return d;
    const v = Number(o[k]);
    if (!Number.isFinite(v) || v < min) fail(`bad ${k} ${String(o[k])}`);
    return v;
  };
  const seconds = num('-d', 0, 0);
  const options = {
    url,
    requests: num('-n', seconds > 0 ? Number.MAX_SAFE_INTEGER : 1000, 1),
    connections: num('-c', 1, 1),
    streams: num('-m', 10, 1),
    seconds,
    insecure: o['-k'] === true,
  };
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    fail(`bad URL ${url}`);
  }
  const tty = process.stderr.isTTY;
  let last = 0;
  const result = await runBench(options, (done, total, elapsed) => {
    const bar = progressBar(done, Number.isFinite(total) && total < Number.MAX_SAFE_INTEGER ? total : done, elapsed);
    if (tty) process.stderr.write(`\r${bar}`);
    else if (elapsed - last >= 1000) {
      last = elapsed;
      process.stderr.write(`${bar}\n`);
    }
  }).catch((e) => fail(describe(e, target)));
  const finalBar = progressBar(result.done + result.failed, result.done + result.failed, result.elapsedMs);
  process.stderr.write(tty ? `\r${finalBar}\n` : `${finalBar}\n`);
  process.stdout.write(`${formatBench(options, result)}\n`);
  if (result.done === 0) process.exit(1);
}

/** package.json's version: at the package root, seen from dist/bindings/ (as published) or bindings/. */
function version(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'h2wasm' && pkg.version) return pkg.version;
    } catch {
      // not there: the other layout
    }
  }
  fail('cannot find the package.json of h2wasm');
}

/** Whether `argv` (a command's arguments) asks for help: `--help` or `-h` where an option may stand. */
function asksHelp(cmd: string, argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') return true;
    if (VALUE_OPTIONS[cmd].includes(argv[i])) i++; // its value, whatever it looks like
  }
  return false;
}

/** The usage of `cmd`, if it is a command (not just any key of an object: `constructor`). */
const usageOf = (cmd: string): string | undefined =>
  Object.hasOwn(COMMAND_USAGE, cmd) ? `usage:\n${COMMAND_USAGE[cmd]}` : undefined;

function printUsage(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  // Help that was asked for is the output: stdout, exit 0. No arguments at all is a usage
  // error: the usage to stderr and exit 1, as before.
  if (cmd === '--help' || cmd === '-h') return printUsage(USAGE);
  if (cmd === 'help') {
    if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h') return printUsage(USAGE);
    if (rest.length > 1) fail(`help takes one command, not ${rest.join(' ')}\n${USAGE}`);
    const usage = usageOf(rest[0]);
    if (usage) return printUsage(usage);
    if (rest[0] === 'help' || rest[0] === 'version') return printUsage(USAGE);
    fail(`unknown command ${rest[0]}\n${USAGE}`);
  }
  if (cmd === '--version' || cmd === 'version') {
    if (rest.length > 0) fail(`unexpected argument ${rest[0]}`);
    process.stdout.write(`h2wasm ${version()}\n`);
    return;
  }
  const usage = usageOf(cmd);
  if (usage && asksHelp(cmd, rest)) return printUsage(usage);
  if (cmd === 'serve') return cmdServe(rest);
  if (cmd === 'bench') return cmdBench(rest);
  if (cmd === 'get') {
    process.on('unhandledRejection', (e) => fail((e as Error)?.message ?? String(e)));
    process.on('uncaughtException', (e) => fail(e.message));
    return cmdGet(rest);
  }
  if (cmd) fail(`unknown command ${cmd}\n${USAGE}`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(1);
}

main().catch((e) => fail((e as Error).message));
