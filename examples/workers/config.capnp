# The Worker under plain workerd, after `node build.mjs` (which writes dist/):
#   workerd serve config.capnp
# HTTP on 127.0.0.1:8787 (the proxy), HTTP/2 on the TCP socket 127.0.0.1:8788 (connect()).
# `--socket-addr http=HOST:PORT` / `--socket-addr tcp=HOST:PORT` move them.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Where the Worker's sockets may go: workerd allows only "public" by default, so an
    # ORIGIN on this machine or a private network needs "private" and "local".
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "main"),
    (name = "tcp", address = "127.0.0.1:8788", tcp = (), service = "main"),
  ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "h2wasm.wasm", wasm = embed "dist/h2wasm.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "ORIGIN", text = "http://127.0.0.1:8080"),
  ],
  globalOutbound = "internet",
);
