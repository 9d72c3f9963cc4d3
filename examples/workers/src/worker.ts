// A Cloudflare Worker that proxies every request to the HTTP/2 origin named by ORIGIN
// (wrangler.toml's [vars], or a binding in config.capnp) over h2wasm: h2c for http:, TLS
// with HTTP/2 by prior knowledge for https: (a Worker's TLS socket offers no ALPN; see the
// README). The body streams back as it comes; the response says which protocol the hop
// used (x-upstream-protocol), and the origin's trailers, which a Worker's Response cannot
// carry, are logged once the body has gone through.
//
// Its connect() handler serves HTTP/2 itself on a TCP socket that workerd hands it (a
// `tcp` socket in config.capnp; on Cloudflare, a connection another Worker forwards over a
// service binding).
import { connect, createFetch, h2wasmTrailers, serveStreamSocket } from 'h2wasm';
import type { StreamSocket } from 'h2wasm';

interface Env {
  ORIGIN: string;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const target = new URL(url.pathname + url.search, env.ORIGIN);
    // One fetch (one connection per origin) per request: Workers bind a socket to the request
    // that opened it, so a session pooled across requests fails the next request.
    const h2 = createFetch((origin, options) => connect(origin, options));
    let upstream: Response;
    try {
      const headers = new Headers(request.headers);
      headers.delete('host'); // the :authority is the origin's
      upstream = await h2(target, { method: request.method, headers, body: request.body, redirect: 'manual' });
    } catch (e) {
      await h2.close();
      return new Response(`upstream ${target.origin} failed: ${String(e)}\n`, { status: 502 });
    }
    const headers = new Headers(upstream.headers);
    // fetch keeps a session only for an origin that speaks HTTP/2 (else it asked over HTTP/1.1).
    headers.set('x-upstream-protocol', h2.sessions.has(target.origin) ? 'h2' : 'http/1.1');
    if (!upstream.body) {
      ctx.waitUntil(h2.close());
      return new Response(null, { status: upstream.status, headers });
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    ctx.waitUntil(
      upstream.body
        .pipeTo(writable)
        .then(async () => {
          const trailers = await h2wasmTrailers(upstream);
          if (trailers.length) console.log(`trailers of ${target.pathname}: ${JSON.stringify(trailers)}`);
        })
        .catch(() => {}) // the client went away: the upstream stream is reset
        .finally(() => h2.close()),
    );
    return new Response(readable, { status: upstream.status, headers });
  },

  /** An inbound TCP connection: HTTP/2 (h2c, prior knowledge) served by h2wasm on it. */
  async connect(socket: StreamSocket): Promise<void> {
    await serveStreamSocket(socket, {
      fetch: (req) => new Response(`hello over HTTP/2 from a Worker: ${req.method} ${new URL(req.url).pathname}\n`),
    });
  },
};
