// The package's types as its users get them: a project that depends on h2wasm (linked into
// its node_modules, the built dist/) type-checks code written against the entry its
// resolution picks through the `exports` conditions — Node's under node16 and under
// bundler resolution, the workerd entry's with customConditions ["workerd"], the browser
// entry's with ["browser"], and h2wasm/grpc beside each. A wrong `types` path or condition
// order is a failing test here, not a user's surprise.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Code only the named entry's types accept. */
const USES = {
  node: `import { serve, connect } from 'h2wasm';
const server = await serve({ port: 0, fetch: () => new Response('ok') });
connect(server.url).destroy();`,
  workerd: `import { connect, serveStreamSocket, type StreamSocket } from 'h2wasm';
export default { connect: (s: StreamSocket) => serveStreamSocket(s, { fetch: () => new Response('ok') }) };
connect('http://example.com').destroy();`,
  browser: `import { connect, fetchVia, webSocketSocket } from 'h2wasm';
const socket = () => webSocketSocket('ws://127.0.0.1:1/tcp');
connect('http://example.com', { socket }).destroy();
await fetchVia(socket)('http://example.com/');`,
};
const GRPC = `import { connect } from 'h2wasm';
import { createGrpcTransport } from 'h2wasm/grpc';
export const t = createGrpcTransport({ baseUrl: 'http://127.0.0.1:1', connect: (o: string) => connect(o, {} as never) });`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2wasm-types-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'h2wasm'));
  // The gRPC transport's peers, as a user who calls it installs them.
  mkdirSync(join(dir, 'node_modules', '@connectrpc'));
  mkdirSync(join(dir, 'node_modules', '@bufbuild'));
  symlinkSync(
    join(ROOT, 'node_modules', '@connectrpc', 'connect'),
    join(dir, 'node_modules', '@connectrpc', 'connect'),
  );
  symlinkSync(join(ROOT, 'node_modules', '@bufbuild', 'protobuf'), join(dir, 'node_modules', '@bufbuild', 'protobuf'));
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(
  name: string,
  resolution: 'node16' | 'bundler',
  conditions: string[],
  code: string,
  nodeTypes = true,
): string[] {
  const project = join(dir, name);
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'main.ts'), code);
  writeFileSync(join(project, 'grpc.ts'), GRPC);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: resolution === 'bundler' ? 'ESNext' : 'Node16',
        moduleResolution: resolution,
        customConditions: resolution === 'bundler' ? conditions : undefined,
        lib: ['ES2022', 'DOM'],
        types: nodeTypes ? ['node'] : [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ['*.ts'],
    }),
  );
  const r = spawnSync(process.execPath, [TSC, '-p', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  return (r.stdout + r.stderr).split('\n').filter((l) => /error TS\d+/.test(l));
}

describe("the package's types, as a dependent project resolves them", () => {
  it('node16 resolution: the Node entry (serve, connect)', () => {
    expect(check('node16', 'node16', [], USES.node)).toEqual([]);
  }, 150_000);
  it('bundler resolution, no custom condition: the Node entry too (Vite, tsx, Next)', () => {
    expect(check('bundler', 'bundler', [], USES.node)).toEqual([]);
  }, 150_000);
  it('customConditions ["workerd"]: the workerd entry (serveStreamSocket for a connect() handler)', () => {
    expect(check('workerd', 'bundler', ['workerd'], USES.workerd, false)).toEqual([]);
  }, 150_000);
  it('customConditions ["browser"]: the browser entry (connect with a socket, fetchVia)', () => {
    expect(check('browser', 'bundler', ['browser'], USES.browser, false)).toEqual([]);
  }, 150_000);
  it('the browser types refuse what only Node has (the check can fail)', () => {
    expect(check('browser-no-serve', 'bundler', ['browser'], USES.node, false).join('\n')).toMatch(/serve/);
  }, 150_000);
});
