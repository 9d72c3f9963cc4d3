// The browser suite's gRPC page (bundled by test/examples/browser.test.ts with the
// `browser` condition, served by examples/browser/serve.mjs --bundle): the same calls as
// the runtime suites make, through the Connect-ES transport, over the page's WebSocket
// bridge to the grpc-js Echo server whose port the page's URL gives (?grpc=N). The result
// (or the error) goes to <body data-grpc>.
import { connect, webSocketSocket } from 'h2wasm';
import { grpcChecks } from './checks.js';

const port = Number(new URLSearchParams(location.search).get('grpc'));
const bridge = () => webSocketSocket(`ws://${location.host}/tcp?port=${port}`);
grpcChecks((origin) => connect(origin, { socket: bridge }), `http://127.0.0.1:${port}`).then(
  (result) => (document.body.dataset.grpc = JSON.stringify(result)),
  (e: unknown) => (document.body.dataset.grpc = JSON.stringify({ error: String((e as Error)?.stack ?? e) })),
);
