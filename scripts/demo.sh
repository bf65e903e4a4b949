#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: build regent, start a local
# CNCF distribution registry with htpasswd auth on a free loopback port, log
# in, publish two images in multirepo and in monorepo mode, list and inspect
# them, delete one tag safely; then clean a repository of many tags under a
# retention policy: show the plan, apply it, verify the audit log and restore
# one deleted tag from it. Everything is stopped on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing ${missing[*]} (Debian packages)"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "==> building regent"
cargo build -q -p regent
regent="$PWD/target/debug/regent"

work=$(mktemp -d)
registry_pid=
cleanup() {
    if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
registry="127.0.0.1:$port"
htpasswd -Bbn demo demo-password > "$work/htpasswd"
cat > "$work/config.yml" <<YAML
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $work/data }
  delete: { enabled: true }
auth:
  htpasswd: { realm: regent-demo, path: $work/htpasswd }
http:
  addr: $registry
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$registry/v2/" || true)
    [ "$code" = 401 ] && break
    sleep 0.1
done
echo "==> registry with htpasswd running at $registry"

# Everything regent needs, private to this demo.
export REGENT_CACHE_DIR="$work/cache"
export REGENT_DOCKER_CONFIG="$work/docker"
export REGENT_INSECURE_REGISTRY="$registry"
run() { echo; echo "\$ regent $*"; "$regent" "$@"; }

run adapters list
run detect "$registry/demo"
echo; echo "\$ echo demo-password | regent login $registry -u demo --password-stdin"
echo demo-password | "$regent" login "$registry" -u demo --password-stdin

python3 scripts/make-oci-layout.py "$work/layout" frontend backend
run publish --repo "$registry/demo" --repo-mode multirepo --tag v1 \
    "frontend=oci:$work/layout:frontend" "backend=oci:$work/layout:backend"
run publish --repo "$registry/demo-mono" --repo-mode monorepo --tag v1 \
    "frontend=oci:$work/layout:frontend" "backend=oci:$work/layout:backend"
run publish --repo "$registry/demo" --tag v2 "frontend=oci:$work/layout:frontend"
run tags "$registry/demo/frontend"
run tags "$registry/demo-mono"
run inspect "$registry/demo/frontend:v1" "$registry/demo-mono:backend-v1"
run delete "$registry/demo/frontend:v2"
echo "(v1 shares v2's digest and is still there:)"
run tags "$registry/demo/frontend"

echo
echo "==> policy-audited cleanup"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
python3 scripts/make-oci-layout.py "$work/shop" \
    v1.0.0@2026-01-05T00:00:00Z v1.1.0@2026-02-05T00:00:00Z v1.2.0@2026-03-05T00:00:00Z \
    feature-login@2026-02-01T00:00:00Z feature-search@2026-04-01T00:00:00Z \
    ci-101@2026-05-01T00:00:00Z ci-102@2026-05-02T00:00:00Z ci-103@2026-05-03T00:00:00Z \
    "ci-104@$now" latest@2026-03-05T00:00:00Z
run push-all --from "oci:$work/shop" --to "$registry/shop/app"
cat > "$work/policy.yaml" <<'YAML'
version: 1
protected-tags: [latest]   # never deleted (the default)
freshness: 2h              # nothing pushed in the last 2 hours (the default)
rules:
  - name: keep-two-releases
    action: keep
    semver: true
    newest: 2
  - name: keep-recent-ci
    action: keep
    tags: { match: 'ci-.*' }
    newest: 2
  - name: old-builds
    action: delete
    pushed-older-than: 30d
YAML
echo; echo "\$ cat policy.yaml"; cat "$work/policy.yaml"
run cleanup --repo "$registry/shop/app" --policy "$work/policy.yaml" --dry-run --plan-out "$work/plan.json"
run cleanup apply "$work/plan.json" --audit-log "$work/audit.jsonl"
run audit verify --audit-log "$work/audit.jsonl"
run audit show --audit-log "$work/audit.jsonl"
run restore --audit-log "$work/audit.jsonl" --entry 1
run tags "$registry/shop/app"
echo
echo "==> done; the registry is stopped and its data removed on exit"
