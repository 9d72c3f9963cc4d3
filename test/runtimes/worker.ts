// The runtime suite's Worker (bundled by test/interop/runtimes.test.ts with the `workerd`
// condition, run by workerd): GET /client?origin=… answers clientChecks' JSON; GET
// /get?url=… one GET's status and body (or why it failed), over connect(); /fetch?url=…
// the same through the entry's fetch(); /grpc?origin=… grpcChecks' (a transport made and
// closed within the request: a session cannot outlive it); GET
// /bench?url=…&n=…&m=…&seconds=… clientLoop's (bench/client.mjs).
import { connect, createFetch, fetch } from 'h2wasm';
import { clientChecks, clientLoop, grpcChecks } from './checks.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const origin = url.searchParams.get('origin') ?? '';
    try {
      if (url.pathname === '/client') {
        // A fetch() pool for this request only (what the entry's docs say to do for many requests).
        const pooled = createFetch((o, options) => connect(o, options));
        return Response.json(await clientChecks({ connect: (u) => connect(u), fetch: pooled }, origin));
      }
      if (url.pathname === '/get') {
        // One GET over connect() (TLS when the URL says https:), answered as JSON.
        const session = connect(url.searchParams.get('url') ?? '');
        try {
          const res = await session.request({ path: '/index.html' });
          return Response.json({ status: res.status, body: await res.text() });
        } catch (e) {
          return Response.json({ failed: String((e as Error)?.message ?? e) });
        } finally {
          session.destroy();
        }
      }
      if (url.pathname === '/grpc') return Response.json(await grpcChecks((o) => connect(o), origin));
      if (url.pathname === '/fetch') {
        // The entry's own fetch(), once per request: nothing may outlive the request.
        const res = await fetch(url.searchParams.get('url') ?? '');
        return Response.json({ status: res.status, body: await res.text() });
      }
      if (url.pathname === '/bench') {
        const q = (k: string) => Number(url.searchParams.get(k));
        return Response.json(
          await clientLoop({ connect }, url.searchParams.get('url') ?? '', q('n'), q('m'), q('seconds')),
        );
      }
      return new Response('not found\n', { status: 404 });
    } catch (e) {
      return Response.json({ error: String((e as Error)?.stack ?? e) }, { status: 500 });
    }
  },
};
