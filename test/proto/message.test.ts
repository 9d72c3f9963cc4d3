// HTTP message validation (assembly/proto/message.ts): RFC 9113 §8.1–§8.5, RFC 8441 §4.
// Every rule has a test that breaks it (and checks the message) next to a valid control,
// so a rule that stops being enforced turns a test red.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModule, putBytes, ROOT, type Exports } from '../support/wasm.js';

// Mirrors of the AssemblyScript enums.
const Method = {
  NONE: 0,
  GET: 1,
  HEAD: 2,
  POST: 3,
  PUT: 4,
  DELETE: 5,
  CONNECT: 6,
  OPTIONS: 7,
  TRACE: 8,
  PATCH: 9,
  OTHER: 10,
};
const Kind = { REQUEST: 1, PUSH_PROMISE: 2, RESPONSE: 3, TRAILERS: 4 };

/** name, value (latin1: one char = one byte), optional flags. */
type Field = [string, string] | [string, string, number];

/** The HPACK decoder's flat output: u32 name_len, u32 value_len, u32 flags, name, value. */
function encode(fields: Field[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const [name, value, flags = 0] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    const h = Buffer.alloc(12);
    h.writeUInt32LE(n.length, 0);
    h.writeUInt32LE(v.length, 4);
    h.writeUInt32LE(flags, 8);
    parts.push(h, n, v);
  }
  return new Uint8Array(Buffer.concat(parts));
}

let ex: Exports;
beforeAll(() => {
  ex = loadModule('test/proto');
});

interface Result {
  ok: boolean;
  error: string;
  errorIndex: number;
  kind: number;
  fieldCount: number;
  method: number;
  status: number;
  informational: boolean;
  connect: boolean;
  hasProtocol: boolean;
  hasAuthority: boolean;
  hasHost: boolean;
  teTrailers: boolean;
  contentLength: bigint;
  expected: bigint;
  /** Control data read back from memory; undefined when absent. */
  span: { method?: string; scheme?: string; path?: string; authority?: string; protocol?: string; host?: string };
}

const SPANS = ['method', 'scheme', 'path', 'authority', 'protocol', 'host'] as const;

function readSpan(which: number): string | undefined {
  const p = ex.msg_span_ptr(which) >>> 0;
  const n = ex.msg_span_len(which) >>> 0;
  if (p === 0) return undefined;
  return Buffer.from(new Uint8Array(ex.memory.buffer, p, n)).toString('latin1');
}

function readError(): string {
  const p = ex.msg_error_ptr() >>> 0;
  const n = ex.msg_error_bytes() >>> 0;
  return Buffer.from(new Uint8Array(ex.memory.buffer, p, n)).toString('utf16le');
}

/** Runs one check over a field list; reads every result before the list is freed. */
function run(check: (ptr: number, len: number) => number, input: Field[] | Uint8Array): Result {
  const bytes = input instanceof Uint8Array ? input : encode(input);
  const ptr = putBytes(ex, bytes.length ? bytes : new Uint8Array(1), 'alloc');
  try {
    const ok = check(ptr, bytes.length) !== 0;
    const span: Result['span'] = {};
    SPANS.forEach((k, i) => {
      const s = readSpan(i);
      if (s !== undefined) span[k] = s;
    });
    return {
      ok,
      error: readError(),
      errorIndex: ex.msg_error_index(),
      kind: ex.msg_kind(),
      fieldCount: ex.msg_field_count() >>> 0,
      method: ex.msg_method(),
      status: ex.msg_status(),
      informational: ex.msg_is_informational() !== 0,
      connect: ex.msg_is_connect() !== 0,
      hasProtocol: ex.msg_has_protocol() !== 0,
      hasAuthority: ex.msg_has_authority() !== 0,
      hasHost: ex.msg_has_host() !== 0,
      teTrailers: ex.msg_te_trailers() !== 0,
      contentLength: ex.msg_content_length(),
      expected: ex.msg_expected_data_length(),
      span,
    };
  } finally {
    ex.free(ptr);
  }
}

const request = (f: Field[] | Uint8Array, enableConnectProtocol = false) =>
  run((p, n) => ex.msg_validate_request(p, n, enableConnectProtocol ? 1 : 0), f);
const response = (f: Field[] | Uint8Array, requestMethod = Method.NONE) =>
  run((p, n) => ex.msg_validate_response(p, n, requestMethod), f);
const trailers = (f: Field[] | Uint8Array) => run((p, n) => ex.msg_validate_trailers(p, n), f);
const pushPromise = (f: Field[] | Uint8Array) => run((p, n) => ex.msg_validate_push_promise(p, n), f);

/** Asserts a failure whose message matches. */
function rejects(r: Result, message: RegExp) {
  expect(r.error).toMatch(message);
  expect(r.ok).toBe(false);
}

function accepts(r: Result) {
  expect(r.error).toBe('');
  expect(r.ok).toBe(true);
}

const GET: Field[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];
const withField = (base: Field[], ...extra: Field[]): Field[] => [...base, ...extra];
/** The base list with the value of pseudo-header `name` replaced (or the field removed). */
function set(base: Field[], name: string, value: string | null): Field[] {
  const out: Field[] = [];
  for (const f of base) {
    if (f[0] !== name) out.push(f);
    else if (value !== null) out.push([name, value]);
  }
  return out;
}
const OK: Field[] = [[':status', '200']];

describe('valid requests', () => {
  it('accepts a minimal GET and exposes its control data', () => {
    const r = request(GET);
    accepts(r);
    expect(r.kind).toBe(Kind.REQUEST);
    expect(r.fieldCount).toBe(4);
    expect(r.method).toBe(Method.GET);
    expect(r.span).toEqual({ method: 'GET', scheme: 'https', authority: 'example.com', path: '/' });
    expect(r.contentLength).toBe(-1n);
    expect(r.expected).toBe(-1n);
    expect(r.connect).toBe(false);
    expect(r.hasProtocol).toBe(false);
    expect(r.status).toBe(0);
    expect(r.errorIndex).toBe(-1);
  });

  it('classifies methods (case-sensitive) and keeps the bytes of any other token', () => {
    const cases: [string, number][] = [
      ['GET', Method.GET],
      ['HEAD', Method.HEAD],
      ['POST', Method.POST],
      ['PUT', Method.PUT],
      ['DELETE', Method.DELETE],
      ['OPTIONS', Method.OPTIONS],
      ['TRACE', Method.TRACE],
      ['PATCH', Method.PATCH],
      ['PROPFIND', Method.OTHER],
      ['get', Method.OTHER],
      ['M-SEARCH', Method.OTHER],
      ['GETS', Method.OTHER],
      ['PUTT', Method.OTHER],
    ];
    for (const [m, e] of cases) {
      const r = request(set(GET, ':method', m));
      accepts(r);
      expect(r.method, m).toBe(e);
      expect(r.span.method).toBe(m);
    }
  });

  it('reads content-length and expects that much DATA', () => {
    const r = request(
      withField(set(GET, ':method', 'POST'), ['content-type', 'application/json'], ['content-length', '42']),
    );
    accepts(r);
    expect(r.method).toBe(Method.POST);
    expect(r.contentLength).toBe(42n);
    expect(r.expected).toBe(42n);
  });

  it('accepts pseudo-header fields in any order (Chrome and Firefox order them differently)', () => {
    accepts(
      request([
        [':path', '/'],
        [':authority', 'a.example'],
        [':scheme', 'https'],
        [':method', 'GET'],
      ]),
    );
  });

  it('accepts an asterisk-form OPTIONS (§8.3.1)', () => {
    const r = request(set(set(GET, ':method', 'OPTIONS'), ':path', '*'));
    accepts(r);
    expect(r.method).toBe(Method.OPTIONS);
    expect(r.span.path).toBe('*');
  });

  it('accepts a request without :authority (and without host)', () => {
    const r = request(set(GET, ':authority', null));
    accepts(r);
    expect(r.hasAuthority).toBe(false);
    expect(r.span.authority).toBeUndefined();
  });

  it('exposes host when a request carries it instead of :authority', () => {
    const r = request(withField(set(GET, ':authority', null), ['host', 'example.com:8443']));
    accepts(r);
    expect(r.hasHost).toBe(true);
    expect(r.span.host).toBe('example.com:8443');
  });

  it('lets schemes other than http/https carry any non-empty :path and userinfo', () => {
    accepts(
      request([
        [':method', 'GET'],
        [':scheme', 'ftp'],
        [':authority', 'user@ftp.example'],
        [':path', 'pub/x'],
      ]),
    );
    accepts(
      request([
        [':method', 'GET'],
        [':scheme', 'urn+x.y-z'],
        [':path', '*'],
      ]),
    );
  });

  it('accepts empty values, HTAB inside values, obs-text, and cookie crumbs (§8.2.3)', () => {
    accepts(
      request(
        withField(
          GET,
          ['x-empty', ''],
          ['x-tab', 'a\tb'],
          ['x-latin1', 'caf\xe9 \x80\xff'],
          ['cookie', 'a=b'],
          ['cookie', 'c=d'],
          ['cookie', 'e=f'],
        ),
      ),
    );
  });

  it('accepts every token character in a field name', () => {
    accepts(request(withField(GET, ["!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz", 'v'])));
  });

  it('ignores the HPACK indexing flags', () => {
    accepts(request(withField(GET, ['authorization', 'secret', 1], ['x-a', 'b', 2], ['x-c', 'd', 3])));
  });

  it('accepts te: trailers, in any case, and reports it', () => {
    let r = request(withField(GET, ['te', 'trailers']));
    accepts(r);
    expect(r.teTrailers).toBe(true);
    r = request(withField(GET, ['te', 'Trailers']));
    accepts(r);
    expect(request(GET).teTrailers).toBe(false);
  });
});

describe('real header lists', () => {
  it('curl', () => {
    const r = request([
      [':method', 'GET'],
      [':path', '/get?x=1'],
      [':scheme', 'https'],
      [':authority', 'httpbin.org'],
      ['user-agent', 'curl/8.5.0'],
      ['accept', '*/*'],
    ]);
    accepts(r);
    expect(r.span.path).toBe('/get?x=1');
  });

  it('Chrome', () => {
    accepts(
      request([
        [':method', 'GET'],
        [':authority', 'www.example.com'],
        [':scheme', 'https'],
        [':path', '/index.html?q=%20x'],
        ['sec-ch-ua', '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
        ['sec-ch-ua-mobile', '?0'],
        ['sec-ch-ua-platform', '"Linux"'],
        ['upgrade-insecure-requests', '1'],
        [
          'user-agent',
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
        ],
        ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
        ['sec-fetch-site', 'none'],
        ['sec-fetch-mode', 'navigate'],
        ['sec-fetch-user', '?1'],
        ['sec-fetch-dest', 'document'],
        ['accept-encoding', 'gzip, deflate, br, zstd'],
        ['accept-language', 'en-US,en;q=0.9'],
        ['cookie', 'session=abc123'],
        ['cookie', 'theme=dark'],
        ['priority', 'u=0, i'],
      ]),
    );
  });

  it('Firefox', () => {
    accepts(
      request([
        [':method', 'GET'],
        [':path', '/'],
        [':authority', 'example.org'],
        [':scheme', 'https'],
        ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'],
        ['accept', 'text/html'],
        ['accept-language', 'en-US,en;q=0.5'],
        ['accept-encoding', 'gzip, deflate, br'],
        ['upgrade-insecure-requests', '1'],
        ['te', 'trailers'],
      ]),
    );
  });

  it('Go net/http client', () => {
    accepts(
      request([
        [':authority', 'localhost:8443'],
        [':method', 'POST'],
        [':path', '/upload'],
        [':scheme', 'https'],
        ['content-type', 'application/octet-stream'],
        ['content-length', '1048576'],
        ['accept-encoding', 'gzip'],
        ['user-agent', 'Go-http-client/2.0'],
      ]),
    );
  });

  it('gRPC unary call: request, response headers and trailers', () => {
    const req = request([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/helloworld.Greeter/SayHello'],
      [':authority', 'localhost:50051'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['grpc-accept-encoding', 'identity,deflate,gzip'],
      ['grpc-timeout', '1S'],
      ['user-agent', 'grpc-node-js/1.10.0'],
    ]);
    accepts(req);
    expect(req.teTrailers).toBe(true);
    expect(req.span.scheme).toBe('http');
    accepts(
      response(
        [
          [':status', '200'],
          ['content-type', 'application/grpc'],
          ['grpc-accept-encoding', 'identity,deflate,gzip'],
        ],
        Method.POST,
      ),
    );
    const t = trailers([
      ['grpc-status', '0'],
      ['grpc-message', ''],
    ]);
    accepts(t);
    expect(t.fieldCount).toBe(2);
    expect(t.kind).toBe(Kind.TRAILERS);
  });

  it('nghttpd response', () => {
    const r = response(
      [
        [':status', '200'],
        ['server', 'nghttpd nghttp2/1.59.0'],
        ['content-length', '612'],
        ['cache-control', 'max-age=3600'],
        ['date', 'Mon, 01 Jan 2024 00:00:00 GMT'],
        ['last-modified', 'Sun, 31 Dec 2023 00:00:00 GMT'],
        ['etag', '"6590b4b0-264"'],
      ],
      Method.GET,
    );
    accepts(r);
    expect(r.status).toBe(200);
    expect(r.contentLength).toBe(612n);
    expect(r.expected).toBe(612n);
  });
});

describe('§8.2.1 field names (h2spec 8.1.2)', () => {
  it('rejects an uppercase name (h2spec 8.1.2 #1)', () => {
    const r = request(withField(GET, ['X-Custom', 'v']));
    rejects(r, /uppercase character in field name/);
    expect(r.errorIndex).toBe(4);
  });

  it('rejects uppercase in a pseudo-header name', () => {
    rejects(
      request([
        [':Method', 'GET'],
        [':scheme', 'https'],
        [':path', '/'],
      ]),
      /uppercase character in field name/,
    );
  });

  it('rejects 0x00–0x20 and 0x7f–0xff in a name', () => {
    for (const c of ['\x00', '\x01', '\t', '\n', '\r', ' ', '\x7f', '\x80', '\xff']) {
      rejects(request(withField(GET, [`x${c}y`, 'v'])), /invalid character in field name/);
    }
  });

  it('rejects non-token separators in a name (RFC 9110 §5.1)', () => {
    for (const c of ['"', '(', ')', ',', '/', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}']) {
      rejects(request(withField(GET, [`x${c}y`, 'v'])), /invalid character in field name/);
    }
  });

  it('rejects a colon anywhere but first', () => {
    rejects(request(withField(GET, ['x:y', 'v'])), /colon in field name/);
    rejects(
      request([
        [':method', 'GET'],
        ['::scheme', 'https'],
        [':path', '/'],
      ]),
      /colon in field name/,
    );
  });

  it('rejects an empty name', () => {
    rejects(request(withField(GET, ['', 'v'])), /empty field name/);
  });
});

describe('§8.2.1 at every offset (names and values are checked eight bytes at a time)', () => {
  const long = (n: number, at: number, c: string) =>
    'abcdefghijklmnopqrstuvwxyz-'
      .repeat(2)
      .slice(0, n)
      .split('')
      .map((x, i) => (i === at ? c : x))
      .join('');
  it('finds a bad byte in a name or value wherever it sits, and takes the good ones', () => {
    for (let n = 1; n <= 20; n++) {
      for (let at = 0; at < n; at++) {
        rejects(request(withField(GET, [long(n, at, 'A'), 'v'])), /uppercase character in field name/);
        rejects(request(withField(GET, [long(n, at, '\x7f'), 'v'])), /invalid character in field name/);
        rejects(request(withField(GET, [long(n, at, '\x80'), 'v'])), /invalid character in field name/);
        accepts(request(withField(GET, [long(n, at, '!'), 'v'])));
        accepts(request(withField(GET, [long(n, at, '9'), 'v'])));
        rejects(request(withField(GET, ['x-v', long(n, at, '\n')])), /NUL, CR or LF in field value/);
        rejects(request(withField(GET, ['x-v', long(n, at, '\x7f')])), /control character in field value/);
        rejects(request(withField(GET, ['x-v', long(n, at, '\x1f')])), /control character in field value/);
        const spaceMessage = at < n - 1 ? /invalid character in :path/ : /leading or trailing whitespace/;
        rejects(request(set(GET, ':path', '/' + long(n, at, ' '))), spaceMessage);
        accepts(request(set(GET, ':path', '/' + long(n, at, '\xff'))));
        accepts(request(withField(GET, ['x-v', long(n, at, '\xe9')])));
        if (at > 0 && at < n - 1) accepts(request(withField(GET, ['x-v', long(n, at, '\t')])));
      }
    }
  });
});

describe('§8.2.1 field values', () => {
  it('rejects NUL, CR and LF anywhere', () => {
    for (const v of ['a\x00b', 'a\rb', 'a\nb', '\n', 'ab\r']) {
      rejects(request(withField(GET, ['x-v', v])), /NUL, CR or LF in field value/);
    }
  });

  it('rejects leading or trailing SP and HTAB', () => {
    for (const v of [' a', 'a ', '\ta', 'a\t', ' ', '\t']) {
      rejects(request(withField(GET, ['x-v', v])), /leading or trailing whitespace in field value/);
    }
  });

  it('rejects other control characters and DEL (RFC 9110 §5.5)', () => {
    for (const v of ['a\x01b', 'a\x08', 'a\x0bb', 'a\x1fb', 'a\x7fb']) {
      rejects(request(withField(GET, ['x-v', v])), /control character in field value/);
    }
  });

  it('applies the value rules to pseudo-header values too', () => {
    rejects(request(set(GET, ':authority', 'example.com ')), /whitespace/);
    rejects(request(set(GET, ':path', '/a\r\nx: y')), /NUL, CR or LF/);
    rejects(response([[':status', '200\n']]), /NUL, CR or LF/);
  });

  it('applies the value rules to responses and trailers', () => {
    rejects(response(withField(OK, ['x-v', 'a\nb'])), /NUL, CR or LF/);
    rejects(trailers([['x-v', 'a ']]), /whitespace/);
  });
});

describe('§8.2.2 connection-specific fields', () => {
  for (const name of ['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade']) {
    it(`rejects ${name} in requests, responses and trailers`, () => {
      const msg = new RegExp(`connection-specific field: ${name}`);
      rejects(request(withField(GET, [name, 'x'])), msg);
      rejects(response(withField(OK, [name, 'x'])), msg);
      rejects(trailers([[name, 'x']]), msg);
    });
  }

  it('rejects connection: keep-alive (h2spec 8.1.2.2 #1)', () => {
    rejects(request(withField(GET, ['connection', 'keep-alive'])), /connection-specific/);
  });

  it('rejects te other than trailers (h2spec 8.1.2.2 #2)', () => {
    for (const v of ['trailers, deflate', 'gzip', 'trailers;q=1', '', 'trailer']) {
      rejects(request(withField(GET, ['te', v])), /te with a value other than trailers/);
    }
    rejects(request(withField(GET, ['te', 'trailers'], ['te', 'gzip'])), /te with a value other than trailers/);
  });

  it('holds te to the same rule in responses and trailers', () => {
    accepts(response(withField(OK, ['te', 'trailers'])));
    rejects(response(withField(OK, ['te', 'gzip'])), /te with/);
    rejects(trailers([['te', 'gzip']]), /te with/);
  });

  it('leaves names that merely start like one alone', () => {
    accepts(
      request(
        withField(GET, ['connections', 'x'], ['upgrade-insecure-requests', '1'], ['tee', 'x'], ['keep-alive-x', 'y']),
      ),
    );
  });
});

describe('§8.3 pseudo-header fields (h2spec 8.1.2.1, 8.1.2.3)', () => {
  it('rejects an unknown pseudo-header field (h2spec 8.1.2.1 #1)', () => {
    rejects(request(withField([[':test', 'x']], ...GET)), /unknown pseudo-header field/);
    rejects(request(withField(GET, [':', 'x'])), /unknown pseudo-header field/);
    rejects(
      response([
        [':status', '200'],
        [':foo', 'x'],
      ]),
      /unknown pseudo-header field/,
    );
  });

  it('rejects a response pseudo-header field in a request (h2spec 8.1.2.1 #2)', () => {
    rejects(request(withField(GET, [':status', '200'])), /response pseudo-header field :status in a request/);
  });

  it('rejects request pseudo-header fields in a response', () => {
    for (const name of [':method', ':scheme', ':authority', ':path', ':protocol']) {
      rejects(
        response([
          [':status', '200'],
          [name, 'x'],
        ]),
        /request pseudo-header field in a response/,
      );
    }
  });

  it('rejects a pseudo-header field in trailers (h2spec 8.1.2.1 #3)', () => {
    for (const name of [':status', ':method', ':path', ':foo']) {
      rejects(
        trailers([
          ['x-a', 'b'],
          [name, '200'],
        ]),
        /pseudo-header field in trailers/,
      );
    }
  });

  it('rejects a pseudo-header field after a regular field (h2spec 8.1.2.1 #4)', () => {
    const r = request([
      [':method', 'GET'],
      [':scheme', 'https'],
      ['x-a', 'b'],
      [':path', '/'],
    ]);
    rejects(r, /pseudo-header field after a regular field/);
    expect(r.errorIndex).toBe(3);
    rejects(
      response([
        ['x-a', 'b'],
        [':status', '200'],
      ]),
      /after a regular field/,
    );
  });

  it('rejects duplicated pseudo-header fields (h2spec 8.1.2.3 #5–#7)', () => {
    for (const [name, v] of [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/'],
      [':authority', 'example.com'],
    ]) {
      rejects(request([...GET, [name, v]]), new RegExp(`duplicate ${name}`));
    }
    rejects(
      response([
        [':status', '200'],
        [':status', '200'],
      ]),
      /duplicate :status/,
    );
  });

  it('rejects a request missing :method, :scheme or :path (h2spec 8.1.2.3 #2–#4)', () => {
    rejects(request(set(GET, ':method', null)), /missing :method/);
    rejects(request(set(GET, ':scheme', null)), /missing :scheme/);
    rejects(request(set(GET, ':path', null)), /missing :path/);
    rejects(request([]), /missing :method/);
  });

  it('rejects an empty :path (h2spec 8.1.2.3 #1), for any scheme', () => {
    rejects(request(set(GET, ':path', '')), /empty :path/);
    rejects(
      request([
        [':method', 'GET'],
        [':scheme', 'foo'],
        [':path', ''],
      ]),
      /empty :path/,
    );
  });

  it('requires an absolute path for http and https (§8.3.1), scheme case ignored', () => {
    for (const scheme of ['http', 'https', 'HTTPS', 'Http']) {
      rejects(request(set(set(GET, ':scheme', scheme), ':path', 'index.html')), /:path not starting with '\/'/);
      rejects(request(set(set(GET, ':scheme', scheme), ':path', 'http://example.com/')), /:path not starting/);
    }
    accepts(request(set(GET, ':path', '//double/slash?q')));
  });

  it('allows :path "*" only with OPTIONS for http and https (§8.3.1)', () => {
    rejects(request(set(GET, ':path', '*')), /:path '\*' with a method other than OPTIONS/);
    rejects(request(set(GET, ':path', '*x')), /not starting with/);
  });

  it('rejects SP and controls in :path', () => {
    rejects(request(set(GET, ':path', '/a b')), /invalid character in :path/);
    rejects(request(set(GET, ':path', '/a\tb')), /invalid character in :path/);
  });

  it('rejects a :method that is not a token', () => {
    for (const m of ['', 'GE T', 'GET(', 'G\xe9T']) rejects(request(set(GET, ':method', m)), /invalid :method/);
  });

  it('rejects a malformed :scheme (RFC 3986 §3.1)', () => {
    for (const s of ['', '1http', 'ht tp', 'http:', '+x', 'h_t'])
      rejects(request(set(GET, ':scheme', s)), /invalid :scheme/);
  });

  it('rejects userinfo in :authority for http and https (§8.3.1)', () => {
    rejects(request(set(GET, ':authority', 'user:pass@example.com')), /userinfo in :authority/);
    rejects(request(set(set(GET, ':scheme', 'http'), ':authority', '@example.com')), /userinfo in :authority/);
  });

  it('rejects an empty :authority for http and https (RFC 9110 §4.2.1)', () => {
    rejects(request(set(GET, ':authority', '')), /empty :authority/);
    accepts(
      request([
        [':method', 'GET'],
        [':scheme', 'file'],
        [':authority', ''],
        [':path', '/etc'],
      ]),
    );
  });

  it('rejects characters outside RFC 3986 authority', () => {
    for (const a of ['exa mple.com', 'a<b', 'a/b', 'a?b', 'a#b', 'a"b', 'caf\xe9']) {
      rejects(request(set(GET, ':authority', a)), /invalid character in :authority/);
    }
    accepts(request(set(GET, ':authority', '[2001:db8::1]:8443')));
    accepts(request(set(GET, ':authority', 'xn--caf-dma.example:443')));
  });

  it('rejects :protocol unless SETTINGS_ENABLE_CONNECT_PROTOCOL was sent (RFC 8441 §3)', () => {
    const ws: Field[] = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':path', '/chat'],
      [':authority', 'server.example.com'],
    ];
    rejects(request(ws, false), /:protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    accepts(request(ws, true));
  });
});

describe('§8.3.1 host and :authority', () => {
  it('accepts a host equal to :authority after scheme-based normalization', () => {
    const cases: [string, string, string][] = [
      ['https', 'example.com', 'example.com'],
      ['https', 'example.com', 'EXAMPLE.com'],
      ['https', 'example.com', 'example.com:443'],
      ['https', 'example.com:443', 'example.com'],
      ['https', 'example.com:', 'example.com'],
      ['http', 'example.com:80', 'example.com'],
      ['https', 'example.com:8443', 'example.com:8443'],
      ['https', '[::1]', '[::1]:443'],
      ['foo', 'example.com:1', 'Example.COM:1'],
    ];
    for (const [scheme, authority, host] of cases) {
      const r = request(withField(set(set(GET, ':scheme', scheme), ':authority', authority), ['host', host]));
      accepts(r);
      expect(r.span.host).toBe(host);
      expect(r.span.authority).toBe(authority);
    }
  });

  it('rejects a host that names another entity than :authority', () => {
    const cases: [string, string, string][] = [
      ['https', 'example.com', 'evil.example'],
      ['https', 'example.com', 'example.com:80'],
      ['http', 'example.com', 'example.com:443'],
      ['https', 'example.com:8443', 'example.com'],
      ['https', '[::1]', '[::2]'],
      ['https', 'example.com', ''],
      ['foo', 'example.com', 'example.com:80'],
    ];
    for (const [scheme, authority, host] of cases) {
      rejects(
        request(withField(set(set(GET, ':scheme', scheme), ':authority', authority), ['host', host])),
        /host differs from :authority/,
      );
    }
  });

  it('tolerates a mismatch when told to', () => {
    const list = withField(GET, ['host', 'other.example']);
    try {
      ex.msg_set_reject_host_mismatch(0);
      const r = request(list);
      accepts(r);
      expect(r.span.host).toBe('other.example');
      expect(r.span.authority).toBe('example.com');
    } finally {
      ex.msg_set_reject_host_mismatch(1);
    }
    rejects(request(list), /host differs/);
  });

  it('rejects a second host (RFC 9110 §7.2)', () => {
    rejects(
      request(withField(set(GET, ':authority', null), ['host', 'a.example'], ['host', 'a.example'])),
      /duplicate host/,
    );
  });

  it('rejects a host that is not uri-host [":" port]', () => {
    rejects(request(withField(set(GET, ':authority', null), ['host', 'user@a.example'])), /invalid host/);
    rejects(request(withField(set(GET, ':authority', null), ['host', 'a.example/x'])), /invalid host/);
  });

  it('rejects an empty host standing in for an http(s) authority', () => {
    rejects(request(withField(set(GET, ':authority', null), ['host', ''])), /empty host/);
    accepts(
      request([
        [':method', 'GET'],
        [':scheme', 'file'],
        [':path', '/x'],
        ['host', ''],
      ]),
    );
  });

  it('pays no attention to host in responses and trailers', () => {
    accepts(response(withField(OK, ['host', 'a'], ['host', 'b@c'])));
    accepts(
      trailers([
        ['host', 'a'],
        ['host', 'b'],
      ]),
    );
  });
});

describe('§8.5 CONNECT', () => {
  const CONNECT: Field[] = [
    [':method', 'CONNECT'],
    [':authority', 'proxy.example:443'],
  ];

  it('accepts :method and :authority only', () => {
    const r = request(CONNECT);
    accepts(r);
    expect(r.method).toBe(Method.CONNECT);
    expect(r.connect).toBe(true);
    expect(r.hasProtocol).toBe(false);
    expect(r.span).toEqual({ method: 'CONNECT', authority: 'proxy.example:443' });
    expect(r.expected).toBe(-1n);
  });

  it('never enforces content-length on the tunnel', () => {
    const r = request(withField(CONNECT, ['content-length', '10']));
    accepts(r);
    expect(r.contentLength).toBe(10n);
    expect(r.expected).toBe(-1n);
  });

  it('rejects :scheme or :path', () => {
    rejects(request(withField(CONNECT, [':scheme', 'https'])), /:scheme or :path in a CONNECT request/);
    rejects(request(withField(CONNECT, [':path', '/'])), /:scheme or :path in a CONNECT request/);
    rejects(request(withField(CONNECT, [':scheme', 'https'], [':path', '/']), true), /:scheme or :path in a CONNECT/);
  });

  it('requires a non-empty :authority without userinfo', () => {
    rejects(request([[':method', 'CONNECT']]), /missing :authority in a CONNECT request/);
    rejects(
      request([
        [':method', 'CONNECT'],
        [':authority', ''],
      ]),
      /empty :authority/,
    );
    rejects(
      request([
        [':method', 'CONNECT'],
        [':authority', 'u@proxy.example:443'],
      ]),
      /userinfo in :authority/,
    );
  });

  it('compares host with :authority too', () => {
    accepts(request(withField(CONNECT, ['host', 'PROXY.example:443'])));
    rejects(request(withField(CONNECT, ['host', 'proxy.example'])), /host differs/);
  });
});

describe('RFC 8441 extended CONNECT', () => {
  // RFC 8441 §5's example.
  const WS: Field[] = [
    [':method', 'CONNECT'],
    [':protocol', 'websocket'],
    [':scheme', 'https'],
    [':path', '/chat'],
    [':authority', 'server.example.com'],
    ['sec-websocket-protocol', 'chat, superchat'],
    ['sec-websocket-extensions', 'permessage-deflate'],
    ['sec-websocket-version', '13'],
    ['origin', 'http://www.example.com'],
  ];

  it('accepts a WebSocket bootstrap and exposes :protocol', () => {
    const r = request(WS, true);
    accepts(r);
    expect(r.method).toBe(Method.CONNECT);
    expect(r.connect).toBe(true);
    expect(r.hasProtocol).toBe(true);
    expect(r.span).toEqual({
      method: 'CONNECT',
      protocol: 'websocket',
      scheme: 'https',
      path: '/chat',
      authority: 'server.example.com',
    });
    expect(r.expected).toBe(-1n);
  });

  it('requires CONNECT', () => {
    rejects(request(set(WS, ':method', 'GET'), true), /:protocol in a request whose method is not CONNECT/);
  });

  it('requires :scheme, :path and :authority', () => {
    rejects(request(set(WS, ':scheme', null), true), /missing :scheme in extended CONNECT/);
    rejects(request(set(WS, ':path', null), true), /missing :path in extended CONNECT/);
    rejects(request(set(WS, ':authority', null), true), /missing :authority in extended CONNECT/);
  });

  it('applies the http(s) :path and :authority rules', () => {
    rejects(request(set(WS, ':path', 'chat'), true), /not starting with/);
    rejects(request(set(WS, ':authority', 'u@server.example.com'), true), /userinfo/);
  });

  it('rejects a :protocol that is not a token, and a duplicate', () => {
    rejects(request(set(WS, ':protocol', ''), true), /invalid :protocol/);
    rejects(request(set(WS, ':protocol', 'web socket'), true), /invalid :protocol/);
    rejects(request([...WS.slice(0, 2), [':protocol', 'websocket'], ...WS.slice(2)], true), /duplicate :protocol/);
  });
});

describe('§8.1.1 content-length', () => {
  const POST = set(GET, ':method', 'POST');
  const cl = (...values: string[]) => request(withField(POST, ...values.map((v): Field => ['content-length', v])));

  it('parses digits into an i64, leading zeros included', () => {
    expect(cl('0').contentLength).toBe(0n);
    expect(cl('007').contentLength).toBe(7n);
    const max = cl('9223372036854775807');
    accepts(max);
    expect(max.contentLength).toBe(9223372036854775807n);
    expect(max.expected).toBe(9223372036854775807n);
  });

  it('rejects anything but digits', () => {
    for (const v of ['', 'abc', '-1', '+5', '1 2', '0x10', '5,', ',5', '5,,5', '1e3', '5;', '\xbd']) {
      rejects(cl(v), /invalid content-length/);
    }
  });

  it('rejects values past 2^63-1', () => {
    rejects(cl('9223372036854775808'), /content-length too large/);
    rejects(cl('99999999999999999999999'), /content-length too large/);
  });

  it('accepts repeated equal values, as fields or as a list (RFC 9110 §8.6)', () => {
    for (const r of [cl('5', '5'), cl('5, 5'), cl('5,5'), cl('5 ,\t5'), cl('5', '5, 05')]) {
      accepts(r);
      expect(r.contentLength).toBe(5n);
    }
  });

  it('rejects values that differ', () => {
    rejects(cl('5', '6'), /content-length values differ/);
    rejects(cl('5, 6'), /content-length values differ/);
    rejects(cl('0', '1'), /content-length values differ/);
  });

  it('rejects content-length in trailers', () => {
    rejects(trailers([['content-length', '0']]), /content-length in trailers/);
  });

  it('checks content-length in responses', () => {
    rejects(response(withField(OK, ['content-length', 'x'])), /invalid content-length/);
  });
});

describe('responses (§8.3.2)', () => {
  it('accepts a final response and exposes :status', () => {
    const r = response(withField(OK, ['content-type', 'text/html'], ['content-length', '10']), Method.GET);
    accepts(r);
    expect(r.kind).toBe(Kind.RESPONSE);
    expect(r.status).toBe(200);
    expect(r.informational).toBe(false);
    expect(r.contentLength).toBe(10n);
    expect(r.expected).toBe(10n);
    expect(r.method).toBe(Method.NONE);
  });

  it('leaves DATA unchecked without content-length', () => {
    expect(response(OK, Method.GET).expected).toBe(-1n);
  });

  it('expects no content for HEAD, 204 and 304 whatever content-length says (§8.1.1)', () => {
    let r = response(withField(OK, ['content-length', '1234']), Method.HEAD);
    accepts(r);
    expect(r.contentLength).toBe(1234n);
    expect(r.expected).toBe(0n);
    r = response([[':status', '204']], Method.GET);
    expect(r.expected).toBe(0n);
    r = response(
      [
        [':status', '304'],
        ['content-length', '100'],
      ],
      Method.GET,
    );
    accepts(r);
    expect(r.contentLength).toBe(100n);
    expect(r.expected).toBe(0n);
    expect(response(withField(OK, ['content-length', '1234']), Method.GET).expected).toBe(1234n);
  });

  it('leaves a 2xx to CONNECT unchecked (a tunnel), but not a refusal', () => {
    let r = response(withField(OK, ['content-length', '5']), Method.CONNECT);
    accepts(r);
    expect(r.expected).toBe(-1n);
    r = response(
      [
        [':status', '407'],
        ['content-length', '5'],
      ],
      Method.CONNECT,
    );
    expect(r.expected).toBe(5n);
  });

  it('accepts interim responses (100, 103) as informational', () => {
    let r = response([[':status', '100']]);
    accepts(r);
    expect(r.status).toBe(100);
    expect(r.informational).toBe(true);
    expect(r.expected).toBe(0n);
    r = response([
      [':status', '103'],
      ['link', '</style.css>; rel=preload; as=style'],
    ]);
    accepts(r);
    expect(r.informational).toBe(true);
    expect(response([[':status', '199']]).informational).toBe(true);
    expect(response([[':status', '200']]).informational).toBe(false);
  });

  it('rejects 101 Switching Protocols (§8.6)', () => {
    rejects(
      response([
        [':status', '101'],
        ['upgrade-x', 'y'],
      ]),
      /:status 101 \(Switching Protocols\) is not allowed in HTTP\/2/,
    );
  });

  it('rejects a response without :status', () => {
    rejects(response([['content-type', 'text/plain']]), /missing :status/);
    rejects(response([]), /missing :status/);
  });

  it('rejects a :status that is not three digits, or below 100', () => {
    for (const s of ['', '20', '2000', 'abc', '20a', ' 200', '2 0', '+20']) {
      rejects(response([[':status', s]]), /:status|whitespace/);
    }
    for (const s of ['20', '2000', 'abc', '20a', '+20', '2.0'])
      rejects(response([[':status', s]]), /invalid :status \(not three digits\)/);
    for (const s of ['000', '099']) rejects(response([[':status', s]]), /invalid :status \(below 100\)/);
  });

  it('passes 600–999 through (RFC 9110 §15: the client treats them as 5xx)', () => {
    expect(response([[':status', '600']]).status).toBe(600);
    accepts(response([[':status', '999']]));
  });
});

describe('§8.1 trailers', () => {
  it('accepts regular fields and an empty block', () => {
    accepts(
      trailers([
        ['x-checksum', 'abc'],
        ['server-timing', 'db;dur=53'],
      ]),
    );
    const r = trailers([]);
    accepts(r);
    expect(r.fieldCount).toBe(0);
  });

  it('holds trailers to the name rules', () => {
    rejects(trailers([['Grpc-Status', '0']]), /uppercase/);
  });
});

describe('§8.4 push promise requests', () => {
  it('accepts a GET or HEAD with :authority', () => {
    let r = pushPromise(withField(GET, ['accept-encoding', 'gzip']));
    accepts(r);
    expect(r.kind).toBe(Kind.PUSH_PROMISE);
    expect(r.method).toBe(Method.GET);
    expect(r.span.path).toBe('/');
    r = pushPromise(set(GET, ':method', 'HEAD'));
    accepts(r);
    expect(r.method).toBe(Method.HEAD);
    accepts(pushPromise(withField(GET, ['content-length', '0'])));
  });

  it('rejects methods that are not safe and cacheable', () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'get']) {
      rejects(pushPromise(set(GET, ':method', m)), /promised request method is not safe and cacheable/);
    }
    rejects(
      pushPromise([
        [':method', 'CONNECT'],
        [':authority', 'example.com:443'],
      ]),
      /not safe and cacheable/,
    );
  });

  it('rejects a promised request with content', () => {
    rejects(pushPromise(withField(GET, ['content-length', '10'])), /promised request with content/);
  });

  it('requires :authority', () => {
    rejects(pushPromise(set(GET, ':authority', null)), /promised request without :authority/);
  });

  it('requires a complete, valid request', () => {
    rejects(pushPromise(set(GET, ':path', null)), /missing :path/);
    rejects(pushPromise(set(GET, ':scheme', null)), /missing :scheme/);
    rejects(pushPromise(withField(GET, ['connection', 'close'])), /connection-specific/);
    rejects(pushPromise(withField(GET, [':status', '200'])), /:status in a request/);
  });

  it('never defines :protocol', () => {
    rejects(
      pushPromise([
        [':method', 'GET'],
        [':protocol', 'websocket'],
        [':scheme', 'https'],
        [':path', '/'],
        [':authority', 'a'],
      ]),
      /:protocol in a promised request/,
    );
  });
});

describe('the flat field list', () => {
  it('rejects a truncated list instead of reading past it', () => {
    const good = encode(GET);
    rejects(request(good.subarray(0, good.length - 1)), /truncated field list/);
    rejects(request(good.subarray(0, 5)), /truncated field list/);
    const huge = encode([['x-a', 'b']]);
    new DataView(huge.buffer).setUint32(0, 0xffffffff, true);
    rejects(request(huge), /truncated field list/);
    new DataView(huge.buffer).setUint32(0, 3, true);
    new DataView(huge.buffer).setUint32(4, 0xfffffffe, true);
    rejects(request(huge), /truncated field list/);
  });

  it('points errorIndex at the offending field', () => {
    expect(request(withField(GET, ['a', '1'], ['b', '2'], ['C', '3'])).errorIndex).toBe(6);
    expect(
      request([
        [':method', 'GET'],
        ['bad name', 'x'],
      ]).errorIndex,
    ).toBe(1);
    expect(request(set(GET, ':path', null)).errorIndex).toBe(-1); // block-level fault
  });

  it('forgets everything from the previous block', () => {
    rejects(request(withField(GET, ['x', 'a\n'])), /NUL/);
    accepts(request(GET));
    request(
      withField(set(GET, ':method', 'POST'), ['content-length', '9'], ['host', 'example.com'], ['te', 'trailers']),
    );
    const r = response(OK, Method.GET);
    accepts(r);
    expect(r.contentLength).toBe(-1n);
    expect(r.method).toBe(Method.NONE);
    expect(r.hasHost).toBe(false);
    expect(r.teTrailers).toBe(false);
    expect(r.span).toEqual({});
    const again = request(GET);
    expect(again.status).toBe(0);
    expect(again.informational).toBe(false);
  });

  it('allocates nothing while validating (no allocator calls in the compiled validator)', () => {
    const wat = readFileSync(join(ROOT, 'build', 'test', 'proto.wat'), 'utf8');
    const funcs = wat
      .split(/\n {1}\(func /)
      .slice(1)
      .filter(
        (f) =>
          f.startsWith('$assembly/proto/message') &&
          !f.startsWith('$assembly/proto/message/MessageValidator#constructor'),
      );
    expect(funcs.length).toBeGreaterThan(10);
    for (const f of funcs) {
      const name = f.slice(0, f.indexOf(' '));
      expect(f, name).not.toMatch(/call \$~lib\/rt\/(itcms\/__new|tlsf\/__alloc|itcms\/__renew|tlsf\/__realloc)/);
      expect(f, name).not.toMatch(
        /call \$~lib\/string\/String#concat|call \$~lib\/string\/String\.__concat|call \$~lib\/memory\/heap\.alloc/,
      );
    }
  });
});
