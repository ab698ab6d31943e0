#!/usr/bin/env bash
# Installs what is missing, builds lakestream twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), starts a throwaway
# PostgreSQL 15, and runs every test (unit, integration, e2e) through ctest in
# both builds. Everything it starts is stopped on exit, also on failure.
# Exits non-zero if any build or test fails.
#   scripts/test.sh              all tests, both builds
#   LS_TEST_BUILDS=normal scripts/test.sh   only the normal build
#   LS_TEST_FILTER=regex scripts/test.sh    only tests whose name matches
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS=$(nproc)

"$ROOT/scripts/setup.sh"

BUILDS=${LS_TEST_BUILDS:-"normal asan"}
for b in $BUILDS; do
  case $b in
  normal) cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
          cmake --build build -j"$JOBS" ;;
  asan)   cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLS_SANITIZE=ON >/dev/null
          cmake --build build-asan -j"$JOBS" ;;
  *) echo "test.sh: unknown build $b" >&2; exit 2 ;;
  esac
done

TMP=$(mktemp -d /tmp/lakestream-test.XXXXXX)
chmod 0755 "$TMP"
# shellcheck source=lib/pg.sh
. "$ROOT/scripts/lib/pg.sh"
cleanup() {
  ls_pg_stop "$TMP/pg" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ls_pg_start "$TMP/pg" --fast
export LS_TEST_PG_DSN="$LS_PG_DSN"
export LS_TEST_TMP="$TMP"
echo "test.sh: PostgreSQL at $LS_TEST_PG_DSN"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

failed=0
for b in $BUILDS; do
  dir=build; [[ $b == asan ]] && dir=build-asan
  echo "test.sh: running tests in $dir"
  args=(--output-on-failure --timeout 600 -j"$JOBS")
  [[ -n ${LS_TEST_FILTER:-} ]] && args+=(-R "$LS_TEST_FILTER")
  if ! (cd "$dir" && ctest "${args[@]}"); then
    failed=1
  fi
done
if ((failed)); then
  echo "test.sh: FAILED" >&2
  exit 1
fi
echo "test.sh: all tests passed"
