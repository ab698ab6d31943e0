#!/bin/sh
# Avro decode benchmark: compiled extraction and full decode vs avro-c's
# generic value API, in one run on one thread. Usage:
#   tests/bench/avro/run.sh [BUILD_DIR] [SECONDS_PER_MEASUREMENT]
# Builds avro_bench in BUILD_DIR (default ./build, release flags as configured).
set -eu
here=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$here/build}
secs=${2:-2}
cmake --build "$build" --target avro_bench >/dev/null
echo "{\"cores\":$(nproc),\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\"}"
"$build/tests/avro_bench" "$secs"
