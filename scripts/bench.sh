#!/usr/bin/env bash
# Benchmarks (not tests): each prints figures as ratios against a peer
# measured in the same run, plus absolute rates and the core count.
#   scripts/bench.sh            every benchmark
#   scripts/bench.sh http       only the HTTP benchmark (also: parquet, avro)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh" >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
export LS_BUILD_DIR="$ROOT/build" LS_SOURCE_DIR="$ROOT"
echo "cores: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
which=${1:-all}
for b in tests/bench/*/run.sh tests/bench/run_*.sh; do
  [[ -f $b ]] || continue
  name=$(basename "$(dirname "$b")")
  [[ $name == bench ]] && name=$(basename "$b" .sh | sed 's/^run_//')
  if [[ $which == all || $which == "$name" ]]; then
    echo "== $name"
    bash "$b"
  fi
done
