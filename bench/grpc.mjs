// gRPC unary calls/s: Connect-ES over h2wasm (createGrpcTransport, dist/bindings) against
// @grpc/grpc-js's own client, both calling the same server with the same message: one
// connection, 100 calls in flight, N calls or the time limit, whichever comes first. Two
// servers in turn: the @grpc/grpc-js Echo server (test/support/grpc-echo.ts), which one core
// holds to about what one client asks, so it bounds both; and a lean echo on h2wasm serve()
// (each request's message back as the EchoResponse: field 1 is `text` in both), fast enough
// that the clients set the pace: the ratio of record. The server on core 0, each client in a
// process of its own on core 1 (taskset) where it can; each also reports the CPU time it
// spent per call (user + system).
//
// The test service is TypeScript: esbuild bundles it (dependencies left as imports) into
// build/bench-grpc/ first.
//
//   node bench/grpc.mjs [--quick]
//   node bench/grpc.mjs --server grpc-js|h2wasm PORT          (a server)
//   node bench/grpc.mjs --worker ours|grpc-js URL N M SECONDS  (one client run; prints JSON)
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  root,
  quick,
  dist,
  pinNote,
  freePort,
  startServer,
  runTool,
  summary,
  ratio,
  fx,
  times,
  printCommands,
} from './lib.mjs';

const IN_FLIGHT = 100;
const TEXT = 'hello from the gRPC bench';
const bundled = join(root, 'build', 'bench-grpc');
const load = (name) => import(pathToFileURL(join(bundled, `${name}.js`)).href);

async function bundle() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(root, 'test', 'support', 'grpc-echo.ts'), join(root, 'test', 'support', 'grpc-echo-server.ts')],
    outdir: bundled,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
}

async function server(kind, port) {
  if (kind === 'grpc-js') {
    const { startEchoServer } = await load('grpc-echo-server');
    await startEchoServer(port);
    return;
  }
  const { serve } = await import(join(dist, 'index.js'));
  await serve({
    port,
    hostname: '127.0.0.1',
    // The request's one message, envelope and all, is a valid EchoResponse with the same text.
    handler: async (req, res) => {
      const parts = [];
      for await (const chunk of req.body()) parts.push(chunk);
      await res.respond(200, [['content-type', 'application/grpc+proto']], Buffer.concat(parts), [
        ['grpc-status', '0'],
      ]);
    },
  });
}

async function worker(kind, url, n, m, seconds) {
  let one;
  let close;
  if (kind === 'ours') {
    const { connect } = await import(join(dist, 'index.js'));
    const { createGrpcTransport } = await import(join(dist, 'grpc-transport.js'));
    const { createClient } = await import('@connectrpc/connect');
    const { EchoService } = await load('grpc-echo');
    const transport = createGrpcTransport({ baseUrl: url, connect });
    /** @type {any} the service's types stay in its TypeScript source */
    const client = createClient(EchoService, transport);
    one = async () => (await client.unary({ text: TEXT })).text === TEXT;
    close = () => transport.close();
  } else {
    const { echoGrpcJsClient, request } = await load('grpc-echo-server');
    const client = echoGrpcJsClient(url);
    const message = request(TEXT);
    one = () =>
      new Promise((resolve, reject) => client.Unary(message, (e, r) => (e ? reject(e) : resolve(r.text === TEXT))));
    close = () => client.close();
  }
  if (!(await one())) throw new Error(`${kind}: a wrong answer`); // connected, warmed up
  const deadline = performance.now() + seconds * 1000;
  let started = 0;
  let ok = 0;
  let failed = 0;
  let firstError;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loop = async () => {
    while (started < n && performance.now() < deadline) {
      started++;
      try {
        if (await one()) ok++;
        else failed++;
      } catch (e) {
        failed++;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: m }, loop));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.race([close(), new Promise((r) => setTimeout(r, 2000))]);
  process.stdout.write(
    JSON.stringify({ ok, failed, secs, cps: ok / secs, cpuUs: (cpu.user + cpu.system) / ok, firstError }) + '\n',
  );
  process.exit(0);
}

if (process.argv[2] === '--server') {
  await server(process.argv[3], Number(process.argv[4]));
} else if (process.argv[2] === '--worker') {
  const [, , , kind, url, n, m, seconds] = process.argv;
  await worker(kind, url, Number(n), Number(m), Number(seconds));
} else {
  const calls = quick ? 5000 : 200000;
  const limitS = quick ? 10 : 60;
  await bundle();
  const rows = [];
  for (const [serverName, serverKind] of [
    ['h2wasm serve() echo', 'h2wasm'],
    ['@grpc/grpc-js server', 'grpc-js'],
  ]) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const srv = await startServer(
      0,
      process.execPath,
      [fileURLToPath(import.meta.url), '--server', serverKind, String(port)],
      port,
    );
    try {
      for (const [name, kind] of [
        ['Connect-ES over h2wasm', 'ours'],
        ['@grpc/grpc-js client', 'grpc-js'],
      ]) {
        const r = runTool(
          1,
          process.execPath,
          [fileURLToPath(import.meta.url), '--worker', kind, url, String(calls), String(IN_FLIGHT), String(limitS)],
          (limitS + 30) * 1000,
        );
        let j = {};
        try {
          j = JSON.parse(r.stdout.trim().split('\n').pop());
        } catch {
          /* failed run */
        }
        const note = r.timedOut
          ? 'killed at the time limit'
          : r.status !== 0
            ? r.stderr.trim().split('\n').pop()
            : (j.firstError ?? '');
        rows.push({ server: serverName, name, cps: j.cps ?? NaN, cpuUs: j.cpuUs ?? NaN, ok: j.ok ?? 0, note });
      }
    } finally {
      await srv.stop();
    }
  }

  const cps = (server, name) => rows.find((r) => r.server === server && r.name === name)?.cps;
  console.log(
    `### gRPC unary calls/s: one connection, ${IN_FLIGHT} calls in flight, ${calls} calls${quick ? ' (--quick)' : ''}`,
  );
  console.log(
    `${pinNote('the server on core 0, the client on core 1')}; each client stops after ${limitS} s at most; message: EchoRequest { text: ${JSON.stringify(TEXT)} }.\n`,
  );
  console.log('| server | client | calls/s | ÷ @grpc/grpc-js client | client CPU µs/call | succeeded |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.server} | ${r.name} | ${Number.isFinite(r.cps) ? Math.round(r.cps) : 'failed'} | ${fx(ratio(r.cps, cps(r.server, '@grpc/grpc-js client')))} | ${fx(r.cpuUs, 1)} | ${r.ok}/${calls}${r.note ? ` (${r.note})` : ''} |`,
    );
  }
  printCommands();

  const lean = 'h2wasm serve() echo';
  const ours = cps(lean, 'Connect-ES over h2wasm');
  const peer = cps(lean, '@grpc/grpc-js client');
  const rg = ratio(ours, peer);
  const bounded = ratio(
    cps('@grpc/grpc-js server', 'Connect-ES over h2wasm'),
    cps('@grpc/grpc-js server', '@grpc/grpc-js client'),
  );
  summary({
    bench: `gRPC unary calls/s, 1 connection × ${IN_FLIGHT} in flight, ${calls} calls (a lean h2wasm echo server; and the grpc-js server)`,
    ours: Number.isFinite(ours) ? `${Math.round(ours)} calls/s` : 'failed',
    peers: `@grpc/grpc-js client ${Number.isFinite(peer) ? Math.round(peer) : '–'}`,
    ratio: `${times(rg)} @grpc/grpc-js (${times(bounded)} against the grpc-js server, which bounds both)`,
    goal: '≥ 1× @grpc/grpc-js client',
    met: Number.isFinite(rg) ? (rg >= 1 ? 'yes' : 'no') : '–',
  });
}
