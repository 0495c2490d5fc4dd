#!/usr/bin/env bash
# Quick-start test command (also what CI runs): set up what is missing, run the static checks
# and the test suite, and end with one line `tests: N passed, N failed`.
#   scripts/test.sh                  all tests on the CPU
#   scripts/test.sh --device cuda    the same tests with tensors on CUDA
#   scripts/test.sh tests/foo_test.ts  selected files
set -uo pipefail
source "$(dirname "$0")/setup.sh"

files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) export HLGM_TEST_DEVICE="$2"; shift 2 ;;
    --device=*) export HLGM_TEST_DEVICE="${1#*=}"; shift ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -eq 0 ] && files=(tests/)

if ! hlgm_setup; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
cd "$hlgm_root"

passed=0
failed=0
if [ "${HLGM_SKIP_STATIC:-0}" != 1 ]; then
  if deno fmt --check >/dev/null 2>&1 && deno lint >/dev/null 2>&1 &&
    deno check mod.ts cli/main.ts bench/run.ts >/dev/null 2>&1; then
    echo "static checks (deno fmt --check, deno lint, deno check): ok"
    passed=$((passed + 1))
  else
    echo "static checks FAILED:"
    deno fmt --check 2>&1 | tail -n 20
    deno lint 2>&1 | tail -n 20
    deno check mod.ts cli/main.ts bench/run.ts 2>&1 | tail -n 20
    failed=$((failed + 1))
  fi
fi

log="$(mktemp)"
deno test -A "${files[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# Deno's summary: "ok | 12 passed (3 steps) | 0 failed (4s)" or "FAILED | 10 passed | 2 failed"
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)"
rm -f "$log"
if [ -n "$summary" ]; then
  passed=$((passed + $(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')))
elif [ "$status" -ne 0 ]; then
  failed=$((failed + 1)) # the test run itself crashed before its summary
fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
