#!/usr/bin/env bash
# Installs what is missing, builds lakestreamd, starts a private PostgreSQL
# under ./var/ (kept between runs) and runs `lakestreamd --embedded` in the
# foreground. Ctrl-C stops the server gracefully, then PostgreSQL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target lakestreamd

mkdir -p "$ROOT/var"
# shellcheck source=lib/pg.sh
. "$ROOT/scripts/lib/pg.sh"
ls_pg_start "$ROOT/var/pg"
SERVER_PID=
# lakestreamd runs in its own process group, so a terminal Ctrl-C reaches only
# this script, which forwards exactly one SIGTERM (a second signal would make
# lakestreamd skip its graceful stop), waits for it, then stops PostgreSQL.
stop_all() {
  trap '' INT TERM
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.1; done
  fi
  ls_pg_stop "$ROOT/var/pg" >/dev/null 2>&1 || true
  echo "demo.sh: stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

HTTP=${LAKESTREAM_HTTP_ADDR:-127.0.0.1:8080}
REGISTRY=${LAKESTREAM_REGISTRY_ADDR:-127.0.0.1:8081}
setsid "$ROOT/build/lakestreamd" --embedded --pg-dsn "$LS_PG_DSN" \
  --warehouse "file://$ROOT/var/warehouse" --http-addr "$HTTP" \
  --registry-addr "$REGISTRY" &
SERVER_PID=$!

for _ in $(seq 1 100); do
  curl -fs "http://$HTTP/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "demo.sh: lakestreamd exited" >&2; exit 1; }
  sleep 0.2
done
BOOT=$(curl -fs "http://$HTTP/api/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["kafka"]["bootstrap"])')
cat <<INFO

lakestream is running (Ctrl-C to stop)
  REST API      http://$HTTP/api/v1/status
  OpenAPI       http://$HTTP/api/v1/openapi.yaml
  metrics       http://$HTTP/metrics
  Kafka         $BOOT (embedded broker; any Kafka client can connect)
  PostgreSQL    $LS_PG_DSN

Try:
  curl -s http://$HTTP/readyz
  curl -s -X POST http://$HTTP/api/v1/topics -H 'Content-Type: application/json' \\
       -d '{"name":"orders","partitions":3}'
  curl -s http://$HTTP/api/v1/topics
  curl -s http://$HTTP/api/v1/topics/orders
  curl -s -X DELETE http://$HTTP/api/v1/topics/orders -o /dev/null -w '%{http_code}\n'
  curl -s --http2-prior-knowledge http://$HTTP/healthz

INFO
wait "$SERVER_PID" || true
