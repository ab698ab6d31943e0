#!/usr/bin/env bash
# Schema registry benchmark (not a test):
#  1. GET /schemas/ids/{id} req/s on lakestreamd's registry listener, a cache
#     hit every time: h2load over h2c (prior knowledge) and, when installed,
#     wrk over HTTP/1.1;
#  2. Confluent-framed decode of VQE records (records/s, MB/s) with the
#     schema found by id in the registry's cache (tests/bench/registry_bench.c).
# Usage: tests/bench/registry/run.sh [BUILD_DIR] [SECONDS_PER_MEASUREMENT]
# BUILD_DIR defaults to ./build; configure it with -DCMAKE_BUILD_TYPE=Release
# for meaningful figures. Starts its own throwaway PostgreSQL.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SECS=${2:-2}
cmake --build "$BUILD" --target lakestreamd registry_bench >/dev/null
TMP=$(mktemp -d /tmp/lakestream-regbench.XXXXXX)
chmod 0755 "$TMP"
. "$ROOT/scripts/lib/pg.sh"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ls_pg_stop "$TMP/pg" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ls_pg_start "$TMP/pg" --fast >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); REG_PORT=$(free_port)
"$BUILD/lakestreamd" --embedded --pg-dsn "$LS_PG_DSN" --http-addr "127.0.0.1:$HTTP_PORT" \
  --registry-addr "127.0.0.1:$REG_PORT" --grpc-addr 127.0.0.1:0 --warehouse "file://$TMP/wh" \
  2>"$TMP/lakestreamd.log" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
REG="http://127.0.0.1:$REG_PORT"
BODY=$(python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' \
  "$ROOT/schemas/avro/vqe_decorated_result.avsc")
ID=$(curl -fs -X POST "$REG/subjects/bench-vqe-value/versions" \
  -H 'content-type: application/vnd.schemaregistry.v1+json' -d "$BODY" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
BYTES=$(curl -fs "$REG/schemas/ids/$ID" | wc -c)

echo "{\"cores\":$(nproc),\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\"}"
N=${BENCH_REQUESTS:-300000}
h2=$(h2load -n "$N" -c 32 -m 16 -t 1 "$REG/schemas/ids/$ID" 2>/dev/null |
  sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
echo "{\"bench\":\"registry_get_schema_by_id_h2c\",\"response_bytes\":$BYTES,\"requests\":$N,\"req_per_s\":${h2:-null}}"
if command -v wrk >/dev/null; then
  h1=$(wrk -t1 -c32 -d"${SECS}s" "$REG/schemas/ids/$ID" 2>/dev/null | awk '/Requests\/sec/ {print $2}')
  echo "{\"bench\":\"registry_get_schema_by_id_http1\",\"response_bytes\":$BYTES,\"req_per_s\":${h1:-null}}"
fi
"$BUILD/tests/registry_bench" "$SECS"
