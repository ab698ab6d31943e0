#!/bin/sh
# Parquet write benchmark (not a test): lakestream's writer vs DuckDB single-threaded COPY, both
# ZSTD, same 5,000,000 generated rows (int64 id, three doubles, a 10-value string, a unique
# 16-character string, list<double> of 8). Prints rows/s, MB/s of file written and file size of
# each, and the ratios (targets: rate >= 1.0x DuckDB, size <= 1.1x DuckDB).
# Usage: tests/bench/parquet/run.sh [ROWS]   (env LS_BUILD_DIR: build dir, default ./build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=${LS_BUILD_DIR:-$src/build}
rows=${1:-5000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LS_SOURCE_DIR="$src"

[ -x "$build/tests/parquet_bench" ] || { echo "build $build/tests/parquet_bench first" >&2; exit 1; }
ls_json=$("$build/tests/parquet_bench" "$tmp/lakestream.parquet" "$rows")
duck_json=$(node "$here/duckdb_write.mjs" "$tmp/duckdb.parquet" "$rows")
node "$here/compare.mjs" "$tmp/lakestream.parquet" "$tmp/duckdb.parquet"
node -e '
const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
const line = (name, r) => console.log(`${name.padEnd(11)} ${(r.rows / r.seconds).toFixed(0).padStart(10)} rows/s  ${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(7)} MB/s  ${(r.bytes / 1e6).toFixed(1).padStart(7)} MB  ${r.seconds.toFixed(2)} s`);
line("lakestream", a); line("duckdb", b);
console.log(`rate ratio (lakestream/duckdb): ${((a.rows / a.seconds) / (b.rows / b.seconds)).toFixed(2)}x  (target >= 1.0x)`);
console.log(`size ratio (lakestream/duckdb): ${(a.bytes / b.bytes).toFixed(3)}x  (target <= 1.1x)`);
' "$ls_json" "$duck_json"
