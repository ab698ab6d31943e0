#!/usr/bin/env bash
# Installs everything lakestream needs to build, test and run its demo on a
# fresh Debian 12 machine (run as root). Idempotent: installs only what is
# missing, runs `apt-get update` at most once, and re-runs `npm ci` for the
# test clients only when the lockfile changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  # build
  build-essential cmake pkg-config clang-format
  libuv1-dev libh2o-dev librdkafka-dev libpq-dev libjansson-dev libyaml-dev
  libcurl4-openssl-dev libzstd-dev libsnappy-dev libavro-dev zlib1g-dev
  libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev
  # tests and demo
  postgresql-15 postgresql-client-15 python3 python3-confluent-kafka python3-requests
  curl ca-certificates nghttp2-client wrk procps
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Package scripts must not start services (no init system in CI containers).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node test clients (kafkajs, DuckDB, hyparquet, s3rver, ...), pinned by the lockfile.
E2E="$ROOT/tests/e2e"
stamp="$E2E/node_modules/.lakestream-lock.sha256"
want="$(sha256sum "$E2E/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup.sh: installing test clients with npm ci"
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
echo "setup.sh: dependencies ready"
