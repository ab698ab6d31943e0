#!/bin/sh
# Builds tests/fuzz/avro_decode_fuzz.c with clang's libFuzzer + ASan/UBSan and
# runs it. Usage: tests/fuzz/avro_fuzz.sh [SECONDS] [BUILD_DIR]
# BUILD_DIR (default ./build) provides generated/embedded_files.c.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
build=${2:-$root/build}
out=$build/fuzz
mkdir -p "$out/corpus"
cmake --build "$build" --target lakestream_server >/dev/null
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -I"$root/server" -I"$build/generated" \
  "$root/tests/fuzz/avro_decode_fuzz.c" "$root"/server/avro/*.c "$root/server/registry/canonical.c" \
  "$root/server/registry/compat.c" "$root/server/core/alloc.c" "$root/server/core/error.c" "$root/server/core/embedded.c" \
  "$build/generated/embedded_files.c" \
  $(pkg-config --cflags --libs jansson libzstd snappy zlib) -lm -o "$out/avro_decode_fuzz"
"$out/avro_decode_fuzz" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 "$out/corpus"
