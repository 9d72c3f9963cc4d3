// What HTTP/1.1 and HTTP/2 messages share and where they differ, in one place for the
// server, the client, fetch and the h2c upgrade. No `node:` import.

/** Fields of an HTTP/1.1 message that belong to its connection, not to the message; HTTP/2
 *  has none of them (RFC 9113 §8.2.2) and carries the host as :authority. */
export const CONNECTION_FIELDS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);

/** Fields as a WHATWG Headers (appended to `into`), leaving out a value Headers refuses. */
export function webHeaders(fields: Iterable<[string, string]>, into = new Headers()): Headers {
  for (const [k, v] of fields) {
    try {
      into.append(k, v);
    } catch {
      /* a value Headers refuses */
    }
  }
  return into;
}

/** Statuses whose response never has a body (RFC 9110 §6.4.1). */
export const NO_BODY_STATUS = new Set([204, 304]);

/** node's flat [name, value, …] list as pairs with lower-case names. */
export function rawPairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

/**
 * An HTTP/1.1 request target (RFC 9112 §3.2) as HTTP/2's :authority and :path: origin-form
 * as it is with the Host field; absolute-form reduced to its authority and path; null for a
 * target that is neither (asterisk-form and authority-form have no :path of this kind).
 */
export function requestTarget(target: string, host: string): { authority: string; path: string } | null {
  if (target.startsWith('/')) return { authority: host, path: target };
  if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) return null;
  const u = new URL(target);
  return { authority: u.host, path: u.pathname + u.search };
}

/** Where a client connects for `url`: its host (IPv6 without brackets) and port, and
 *  whether it is TLS. Only http: and https: (anything else is a TypeError). */
export function socketAddress(url: string | URL): { url: URL; secure: boolean; host: string; port: number } {
  const u = typeof url === 'string' ? new URL(url) : url;
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:')
    throw new TypeError(`h2wasm: unsupported URL scheme ${u.protocol} (http: or https:)`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { url: u, secure, host, port: Number(u.port) || (secure ? 443 : 80) };
}
