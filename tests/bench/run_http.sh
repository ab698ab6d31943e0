#!/usr/bin/env bash
# HTTP benchmark: /healthz and GET /api/v1/topics on lakestreamd (embedded,
# default access logging to a file) against a bare h2o-on-libuv handler, with
# h2load over h2c (prior knowledge) and wrk over HTTP/1.1, in the same run.
set -euo pipefail
ROOT=${LS_SOURCE_DIR:?}
BUILD=${LS_BUILD_DIR:?}
TMP=$(mktemp -d /tmp/lakestream-bench.XXXXXX)
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
LS_PORT=$(free_port); BASE_PORT=$(free_port)
"$BUILD/lakestreamd" --embedded --pg-dsn "$LS_PG_DSN" --http-addr "127.0.0.1:$LS_PORT" \
  --registry-addr 127.0.0.1:0 --grpc-addr 127.0.0.1:0 --warehouse "file://$TMP/wh" 2>"$TMP/lakestreamd.log" &
PIDS+=($!)
"$BUILD/tests/h2o_baseline" 127.0.0.1 "$BASE_PORT" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$LS_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq 1 20); do
  curl -fs -X POST "http://127.0.0.1:$LS_PORT/api/v1/topics" -H 'content-type: application/json' \
    -d "{\"name\":\"bench-topic-$i\",\"partitions\":3}" >/dev/null
done

N=${BENCH_REQUESTS:-1000000}
h2rate() { # URL -> req/s
  h2load -n "$N" -c 32 -m 16 -t 1 "$1" 2>/dev/null | awk '/^finished in/ {gsub(",",""); print $4}'
}
wrkrate() {
  wrk -t1 -c32 -d"${BENCH_SECONDS:-5}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
base_h2=$(h2rate "http://127.0.0.1:$BASE_PORT/healthz")
health_h2=$(h2rate "http://127.0.0.1:$LS_PORT/healthz")
topics_h2=$(h2rate "http://127.0.0.1:$LS_PORT/api/v1/topics")
base_h1=$(wrkrate "http://127.0.0.1:$BASE_PORT/healthz")
health_h1=$(wrkrate "http://127.0.0.1:$LS_PORT/healthz")
topics_h1=$(wrkrate "http://127.0.0.1:$LS_PORT/api/v1/topics")
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }
printf '%-34s %12s %8s\n' "case" "req/s" "ratio"
printf '%-34s %12.0f %8s\n' "h2c  bare h2o handler (peer)" "$base_h2" "1.00"
printf '%-34s %12.0f %8s   (target >= 0.50)\n' "h2c  lakestreamd /healthz" "$health_h2" "$(ratio "$health_h2" "$base_h2")"
printf '%-34s %12.0f %8s   (target >= 0.25)\n' "h2c  lakestreamd GET /api/v1/topics" "$topics_h2" "$(ratio "$topics_h2" "$base_h2")"
printf '%-34s %12.0f %8s\n' "h1.1 bare h2o handler (peer)" "$base_h1" "1.00"
printf '%-34s %12.0f %8s\n' "h1.1 lakestreamd /healthz" "$health_h1" "$(ratio "$health_h1" "$base_h1")"
printf '%-34s %12.0f %8s\n' "h1.1 lakestreamd GET /api/v1/topics" "$topics_h1" "$(ratio "$topics_h1" "$base_h1")"
echo "(20 topics listed; access log: every request, buffered, to a file: $(wc -l < "$TMP/lakestreamd.log") lines)"
