// What the runtime suites check inside Deno, Bun and workerd, written once: the script
// imports h2wasm by its package name, so each runtime picks its own entry through the
// package's export conditions, and the results come back as JSON for the vitest suite
// (test/interop/runtimes.test.ts) to compare with what it knows (file hashes, sizes).
import type { ClientSession, H2Fetch } from 'h2wasm';
import { createGrpcTransport } from 'h2wasm/grpc';
import { createClient } from '@connectrpc/connect';
import { EchoService, runEchoCalls, type EchoCallsResult } from '../support/grpc-echo.js';

export interface H2Client {
  connect(url: string): ClientSession;
  fetch: H2Fetch;
}

export const UPLOAD_BYTES = 10 << 20;
export const CONCURRENT = 100;

export async function sha256(bytes: BufferSource): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `n` random bytes (getRandomValues takes at most 64 KiB a call). */
function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

/**
 * Against nghttpd (`--echo-upload`) at `origin`: a GET of /index.html over connect(); a
 * download of /big.bin through fetch() (its hash); an upload that nghttpd echoes (both
 * hashes); CONCURRENT GETs started at once on one connect() session.
 */
export async function clientChecks(h2: H2Client, origin: string): Promise<Record<string, unknown>> {
  const session = h2.connect(origin);
  try {
    const res = await session.request({ path: '/index.html' });
    const get = { status: res.status, body: await res.text() };

    const started = Date.now();
    const big = await h2.fetch(`${origin}/big.bin`);
    const bytes = await big.arrayBuffer();
    const download = {
      status: big.status,
      bytes: bytes.byteLength,
      sha256: await sha256(bytes),
      ms: Date.now() - started,
    };

    const sent = randomBytes(UPLOAD_BYTES);
    const echo = await h2.fetch(`${origin}/upload`, { method: 'POST', body: sent });
    const back = await echo.arrayBuffer();
    const upload = {
      status: echo.status,
      bytes: back.byteLength,
      sent: await sha256(sent),
      echoed: await sha256(back),
    };

    // Every head first, bodies after: all CONCURRENT responses are open on this one session at once.
    const heads = await Promise.all(Array.from({ length: CONCURRENT }, () => session.request({ path: '/index.html' })));
    const open = session.activeRequests;
    const bodies = await Promise.all(heads.map((r) => r.text()));
    const ok = heads.filter((r, i) => r.status === 200 && bodies[i] === get.body).length;
    const concurrent = { ok, open };
    return { get, download, upload, concurrent };
  } finally {
    await session.close();
    await h2.fetch.close();
  }
}

/**
 * The client bench's loop (as bench/node-client.mjs): `n` GETs of `url` over one session,
 * `m` in flight, bodies read and discarded, stopping after `seconds` at most.
 */
export async function clientLoop(
  h2: Pick<H2Client, 'connect'>,
  url: string,
  n: number,
  m: number,
  seconds: number,
): Promise<{ ok: number; failed: number; secs: number; rps: number }> {
  const u = new URL(url);
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const session = h2.connect(u.origin);
  let started = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (started < n && performance.now() < deadline) {
      started++;
      try {
        const res = await session.request({ path: u.pathname });
        for await (const chunk of res.body) void chunk;
        if (res.status === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: m }, worker));
  const secs = (performance.now() - t0) / 1000;
  session.destroy();
  return { ok, failed, secs, rps: ok / secs };
}

/**
 * A unary, a server-streaming (100 messages), a client-streaming and an interleaved bidi call
 * to the grpc-js Echo server at `origin`, through the Connect-ES transport over h2wasm
 * (runEchoCalls checks each answer and throws on a wrong one).
 */
export async function grpcChecks(connect: (origin: string) => ClientSession, origin: string): Promise<EchoCallsResult> {
  const transport = createGrpcTransport({ baseUrl: origin, connect });
  try {
    return await runEchoCalls(createClient(EchoService, transport), 100);
  } finally {
    await transport.close();
  }
}
