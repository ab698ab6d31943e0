#!/bin/sh
# Chain throughput: where + solar_system(exclude) + kafka_writer over N
# ~13 KB alerts on the embedded broker of the same lakestreamd.
# usage: run.sh BUILD_DIR PG_DSN [N]
set -eu
B=$1; N=${3:-20000}
DB=chains_bench_$$
psql "$2" -qc "CREATE DATABASE $DB" >/dev/null
DSN=$(echo "$2" | sed "s/dbname=[^ ]*/dbname=$DB/")
LOG=$(mktemp); WH=$(mktemp -d)
"$B/lakestreamd" --embedded --pg-dsn "$DSN" --http-addr 127.0.0.1:0 --registry-addr 127.0.0.1:0 \
  --grpc-addr 127.0.0.1:0 --warehouse "file://$WH" --log-level info 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$LOG" "$WH"; psql "$2" -qc "DROP DATABASE $DB" >/dev/null' EXIT
for i in $(seq 100); do grep -q "lakestreamd started" "$LOG" 2>/dev/null && break; sleep 0.1; done
sleep 0.2
HTTP=http://$(sed -n 's/.*"http":"\([^"]*\)".*/\1/p' "$LOG" | head -1)
BOOT=$(sed -n 's/.*"bootstrap":"\([^"]*\)".*/\1/p' "$LOG" | head -1)
until curl -sf "$HTTP/readyz" >/dev/null; do sleep 0.2; done
for t in bench-in bench-out; do
  curl -sf -XPOST "$HTTP/api/v1/topics" -H 'content-type: application/json' \
    -d "{\"name\":\"$t\",\"partitions\":2,\"replication_factor\":1}" >/dev/null
done
SPEC='name: bench
source: {topic: bench-in}
value_schema_file: schemas/avro/alert.avsc
processors:
  - {type: where, params: {predicate: "candidate.rb > 0.5"}}
  - {type: solar_system, params: {action: exclude}}
  - {type: kafka_writer, params: {topic: bench-out}}'
curl -s -XPOST "$HTTP/api/v1/chains" -H "content-type: application/yaml" --data-binary "$SPEC" | head -c 200; echo
# The mock broker keeps only ~5 MB per partition, so the input cannot be
# preloaded: the chain joins first and the producer runs alongside; the rate
# is measured from the first record to the last.
until curl -s "$HTTP/api/v1/chains/bench" | grep -q '"partition"'; do sleep 0.1; done
START=$(date +%s.%N)
"$B/tests/chains_alerts" "$BOOT" bench-in 0 "$N" 0 4200 &
FIRST=""
while :; do
  IN=$(curl -s "$HTTP/api/v1/chains/bench" | sed -n 's/.*"records":{"in":\([0-9]*\).*/\1/p')
  [ -z "$FIRST" ] && [ "${IN:-0}" -gt 0 ] && FIRST=$(date +%s.%N) && FIRSTN=$IN
  [ "${IN:-0}" -ge "$N" ] && break
  sleep 0.05
done
END=$(date +%s.%N)
echo "alerts=$N first_seen_after=$(echo "$FIRST - $START" | bc) s rate=$(echo "($N - $FIRSTN) / ($END - $FIRST)" | bc) alerts/s cores=$(nproc)"
curl -sf "$HTTP/api/v1/chains/bench" | head -c 600; echo
