#!/bin/sh
# Builds one of the Avro libFuzzer harnesses with clang + ASan/UBSan and runs
# it. Usage: tests/fuzz/avro_fuzz.sh [HARNESS] [SECONDS] [BUILD_DIR]
#   HARNESS: avro_decode_fuzz (default), avro_schema_fuzz or avro_compat_fuzz
#   BUILD_DIR (default ./build) provides generated/embedded_files.c.
# A finding is written as crash-*/leak-* in the current directory.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
harness=${1:-avro_decode_fuzz}
secs=${2:-60}
build=${3:-$root/build}
out=$build/fuzz
mkdir -p "$out/corpus-$harness"
cmake --build "$build" --target lakestream_server >/dev/null
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -I"$root/server" -I"$build/generated" \
  "$root/tests/fuzz/$harness.c" "$root"/server/avro/*.c "$root/server/registry/canonical.c" \
  "$root/server/registry/compat.c" "$root/server/core/alloc.c" "$root/server/core/error.c" \
  "$root/server/core/embedded.c" "$build/generated/embedded_files.c" \
  $(pkg-config --cflags --libs jansson libzstd snappy zlib) -lm -o "$out/$harness"
if [ "$harness" = avro_schema_fuzz ] && [ -z "$(ls "$out/corpus-$harness")" ]; then
  cp "$root"/schemas/avro/*.avsc "$out/corpus-$harness/"
fi
if [ "$harness" = avro_compat_fuzz ] && [ -z "$(ls "$out/corpus-$harness")" ]; then
  v1=$root/schemas/avro/vqe_decorated_result.avsc v2=$root/schemas/avro/vqe_decorated_result.v2.avsc
  { cat "$v1"; printf '\0'; cat "$v2"; } >"$out/corpus-$harness/v1_v2"
  { cat "$v2"; printf '\0'; cat "$v1"; } >"$out/corpus-$harness/v2_v1"
  { cat "$root/schemas/avro/order.avsc"; printf '\0'; cat "$root/schemas/avro/order.avsc"; } >"$out/corpus-$harness/order"
fi
"$out/$harness" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 "$out/corpus-$harness"
