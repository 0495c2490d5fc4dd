#!/usr/bin/env bash
# Quick-start test command (also what CI runs): set up what is missing, run the static checks
# and the test suite, and end with one line `tests: N passed, N failed`.
#   scripts/test.sh                      all tests on this machine's libtorch, on the CPU
#   scripts/test.sh --device cuda        the same tests with tensors on CUDA
#   scripts/test.sh tests/foo_test.ts    selected files
#   scripts/test.sh --stacks all         what CI runs: this machine's libtorch (Debian 12: 1.13),
#                                        then Debian 13's libtorch 2.6 in a debootstrap root, then
#                                        the CUDA libtorch 2.6 build check (scripts/debian13.sh);
#                                        the last line sums every stack
# Stacks: host, debian13, cuda-build (comma-separated) or all.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/lib/crash_report.sh"

files=()
stacks=host
while [ $# -gt 0 ]; do
  case "$1" in
    --device) export HLGM_TEST_DEVICE="$2"; shift 2 ;;
    --device=*) export HLGM_TEST_DEVICE="${1#*=}"; shift ;;
    --stacks) stacks="$2"; shift 2 ;;
    --stacks=*) stacks="${1#*=}"; shift ;;
    *) files+=("$1"); shift ;;
  esac
done
[ "$stacks" = all ] && stacks=host,debian13,cuda-build
for s in ${stacks//,/ }; do
  case "$s" in
    host | debian13 | cuda-build) ;;
    *) echo "unknown stack \"$s\": expected host, debian13, cuda-build or all" >&2; exit 2 ;;
  esac
done

# The summary line: `tests: ...` for a whole run, `part: ...` when another script sums parts.
summary() { echo "$([ "${HLGM_PART_SUMMARY:-0}" = 1 ] && echo part || echo tests): $1 passed, $2 failed"; }

# One stack on this machine: static checks and the Deno test suite. Sets passed/failed.
host_suite() {
  passed=0
  failed=0
  # tmux: the progress line is tested in a real terminal; python3-torch: torchrun, PyTorch's
  # launcher, for the tests that start training under it; gdb: a native crash's backtrace;
  # chromium: the report in a browser (not inside the Debian 13 root, where that test is
  # skipped: the host stack runs it)
  local extra=(tmux python3-torch gdb)
  [ "${HLGM_IN_ROOT:-0}" = 1 ] || extra+=(chromium)
  if ! hlgm_setup "${extra[@]}"; then
    failed=1
    return
  fi
  cd "$hlgm_root"
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
  local log status summary marker
  log="$(mktemp)"
  marker="$(crash_marker)"
  (ulimit -c unlimited 2>/dev/null; exec deno test -A "${files[@]:-tests/}") 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  crash_report "$status" "$(command -v deno)" "$hlgm_root" "$marker"
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
}

# A stack run by scripts/debian13.sh: its output ends with a `part:` line. Sets passed/failed.
root_part() {
  local log
  log="$(mktemp)"
  "$hlgm_root/scripts/debian13.sh" "$@" 2>&1 | tee "$log"
  local line
  line="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^part: [0-9]+ passed, [0-9]+ failed' | tail -n 1)"
  rm -f "$log"
  if [ -n "$line" ]; then
    passed="$(echo "$line" | sed -E 's/^part: ([0-9]+) passed.*/\1/')"
    failed="$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')"
  else
    passed=0
    failed=1 # could not even run
  fi
}

if [ "$stacks" = host ]; then
  host_suite
  summary "$passed" "$failed"
  [ "$failed" -eq 0 ]
  exit
fi

total_passed=0
total_failed=0
report=()
for s in ${stacks//,/ }; do
  echo "==== stack $s"
  case "$s" in
    host)
      host_suite
      label="host: libtorch $(deno eval 'import { findLibtorch } from "./native/build.ts"; console.log(findLibtorch().version)' 2>/dev/null || echo '?')"
      ;;
    debian13)
      root_part test "${files[@]}"
      label="debian13: Debian 13 libtorch 2.6 (CPU), in a debootstrap root"
      ;;
    cuda-build)
      root_part cuda-build
      label="cuda-build: Debian 13 CUDA libtorch 2.6, build + exported symbols (no GPU)"
      ;;
  esac
  report+=("$label: $passed passed, $failed failed")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done
echo "==== stacks"
printf '%s\n' "${report[@]}"
summary "$total_passed" "$total_failed"
[ "$total_failed" -eq 0 ]
