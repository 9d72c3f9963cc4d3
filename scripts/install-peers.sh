#!/usr/bin/env bash
# Installs the external peers the interop tests run against: nghttp2's client, server
# and h2load, curl, wget (the HTTP/1.1 checks), wabt (wasm2c), the proxies nginx and
# haproxy (the deployment soak puts them in front of h2wasm serve), h2spec, and the
# JavaScript runtimes Deno, Bun and workerd (npm, into test/runtimes: large, so not part
# of every user's npm ci).
# Idempotent; used by .ci/run.
set -u
cd "$(dirname "$0")/.."
need_apt=()
command -v nghttp  >/dev/null || need_apt+=(nghttp2-client)
command -v nghttpd >/dev/null || need_apt+=(nghttp2-server)
command -v curl    >/dev/null || need_apt+=(curl)
command -v wget    >/dev/null || need_apt+=(wget)
command -v wasm2c  >/dev/null || need_apt+=(wabt)
command -v nginx   >/dev/null || [ -x /usr/sbin/nginx ]   || need_apt+=(nginx)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need_apt+=(haproxy)
[ -x /usr/bin/chromium ]      || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-peers: apt-get install ${need_apt[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null) \
    || echo "install-peers: apt-get failed; tests that need ${need_apt[*]} will say they skip"
fi
gobin="$(go env GOPATH 2>/dev/null)/bin"
if ! command -v h2spec >/dev/null && [ ! -x "$gobin/h2spec" ]; then
  # @master is the form that tracks h2spec's newest cases; when the module proxy refuses
  # it (it has, some days), fall back to the last tagged release the proxy serves.
  for version in master v2.2.1+incompatible; do
    echo "install-peers: go install h2spec@$version"
    if go install "github.com/summerwind/h2spec/cmd/h2spec@$version" 2>/tmp/h2spec-install.log; then break; fi
    tail -n 2 /tmp/h2spec-install.log
  done
  [ -x "$gobin/h2spec" ] || echo "install-peers: h2spec install failed"
fi
if [ ! -x test/runtimes/node_modules/.bin/deno ] || [ ! -x test/runtimes/node_modules/.bin/bun ] \
  || [ ! -x test/runtimes/node_modules/.bin/workerd ] || [ test/runtimes/package-lock.json -nt test/runtimes/node_modules/.package-lock.json ]; then
  echo "install-peers: npm ci in test/runtimes (deno, bun, workerd)"
  npm ci --prefix test/runtimes --no-audit --no-fund --loglevel=error >/dev/null \
    || echo "install-peers: the runtimes' npm ci failed; the runtime suites will say what is missing"
fi
