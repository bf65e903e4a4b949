#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: build regent, start a local
# CNCF distribution registry on a free loopback port, run regent against it,
# and stop everything on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-registry >/dev/null 2>&1; then
    echo "==> installing the CNCF distribution registry (Debian package docker-registry)"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry
fi

echo "==> building regent"
cargo build -q -p regent
regent=target/debug/regent

work=$(mktemp -d)
registry_pid=
cleanup() {
    if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YAML
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $work/data }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
echo "==> registry running at 127.0.0.1:$port"

export REGENT_CACHE_DIR="$work/cache"
echo "==> regent adapters list"
"$regent" adapters list
echo "==> regent detect 127.0.0.1:$port/demo"
"$regent" detect "127.0.0.1:$port/demo"
echo "==> regent detect 127.0.0.1:$port/demo --output json"
"$regent" detect "127.0.0.1:$port/demo" --output json
echo "==> done; the registry is stopped on exit"
