// The runtime suite's Worker (bundled by test/interop/runtimes.test.ts with the `workerd`
// condition, run by workerd): GET /client?origin=… answers clientChecks' JSON; GET
// /bench?url=…&n=…&m=…&seconds=… clientLoop's (bench/runtimes.mjs).
import { connect, fetch } from 'h2wasm';
import { clientChecks, clientLoop } from './checks.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const origin = url.searchParams.get('origin') ?? '';
    try {
      if (url.pathname === '/client')
        return Response.json(await clientChecks({ connect: (u) => connect(u), fetch }, origin));
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
