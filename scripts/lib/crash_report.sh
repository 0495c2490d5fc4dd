# Native crash reports for the test runner (sourced by scripts/test.sh). A segmentation fault of
# the test process was seen once in CI, under load, and never reproduced by hand: when one
# happens again, the log must show where. The suite runs with core dumps on; when the process
# dies of a signal, its core's backtrace (gdb) goes to the log and the core is removed.
# Where the kernel writes cores elsewhere (a core_pattern pipe such as systemd-coredump or
# apport), the report says so instead.

# Marks now: cores newer than the returned file belong to the run that follows.
crash_marker() { mktemp; }

# crash_report STATUS BINARY DIR MARKER: for an exit status above 128 (killed by a signal),
# names the signal and prints the backtraces of BINARY's core in DIR (faulting thread first,
# then every thread's top frames). Removes the cores written since MARKER, and MARKER.
crash_report() {
  local status=$1 binary=$2 dir=$3 marker=$4
  local cores=()
  mapfile -t cores < <(find "$dir" -maxdepth 1 -type f \( -name core -o -name 'core.[0-9]*' \) \
    -newer "$marker" 2>/dev/null)
  if [ "$status" -gt 128 ]; then
    local sig
    sig="SIG$(kill -l $((status - 128)) 2>/dev/null)" || sig="signal $((status - 128))"
    echo "==== native crash: the test process died of $sig"
    if [ ${#cores[@]} -eq 0 ]; then
      echo "no core file in $dir (core_pattern: $(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo '?'), ulimit -c: $(ulimit -c))"
    elif ! command -v gdb >/dev/null 2>&1; then
      echo "gdb is not installed: no backtrace of ${cores[0]}"
    else
      echo "backtrace of ${cores[0]} ($binary):"
      gdb -batch -nx -ex "bt 40" -ex "info threads" -ex "thread apply all bt 12" "$binary" "${cores[0]}" 2>&1 |
        grep -vE '^\[New LWP|^warning: |^Reading symbols|^\(No debugging symbols' | head -n 400
    fi
    echo "==== end of the crash report"
  fi
  rm -f "${cores[@]}" "$marker"
}
