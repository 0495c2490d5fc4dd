# Sourced by the experiment scripts (cifar10-cpu.sh, cifar10-plateau.sh): `hlgm train` runs in
# the background, each in its own session, stopped together on Ctrl-C or SIGTERM.
#
# The caller sets: NAME (its name in messages), OUT (logs go to OUT/logs/), THREADS (each run's
# HLGM_NUM_THREADS). A run gets its own session (setsid), so a stop reaches it once, from
# on_stop, whether Ctrl-C went to the whole terminal group or a kill to the script alone.
# SIGTERM is what is passed on: a run still starting (which, as a background job, may ignore
# SIGINT until it listens) ends at once, losing no checkpoint.

# What a killed earlier call may have left: pid files (their pids may be reused) and markers.
session_reset() {
  mkdir -p "$OUT/logs"
  rm -f "$OUT"/logs/.*.pid "$OUT"/logs/.*.failed "$OUT/logs/.stop"
}

# session_train RUN ARGS...: `hlgm train ARGS` logged to OUT/logs/RUN.log; returns its exit code
# (130 without starting once a stop was asked for).
session_train() {
  local run=$1; shift
  [ -e "$OUT/logs/.stop" ] && return 130
  echo "$NAME: $run: hlgm train $* ($OUT/logs/$run.log)"
  echo "hlgm train $*" >>"$OUT/logs/$run.log"
  HLGM_NUM_THREADS=$THREADS setsid deno run -A cli/main.ts train "$@" >>"$OUT/logs/$run.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$OUT/logs/.$run.pid"
  [ -e "$OUT/logs/.stop" ] && kill -TERM "$pid" 2>/dev/null # a stop that came meanwhile
  wait "$pid"
  local code=$?
  rm -f "$OUT/logs/.$run.pid"
  return "$code"
}

# session_done RUN CODE: says how RUN ended; a failure (not a stop) leaves OUT/logs/.RUN.failed.
session_done() {
  echo "$NAME: $1: exit $2"
  [ "$2" = 0 ] || [ -e "$OUT/logs/.stop" ] || touch "$OUT/logs/.$1.failed"
}

# Ctrl-C or SIGTERM: each run stops after its batch, keeping its last checkpoint; no new run
# starts; a second stop quits at once.
stopping=0
on_stop() {
  touch "$OUT/logs/.stop"
  kill -TERM $(cat "$OUT"/logs/.*.pid 2>/dev/null) 2>/dev/null
  [ "$stopping" = 0 ] || exit 130
  stopping=1
}
trap on_stop INT TERM

# After the last run: 130 when stopped, 1 naming the runs that failed, else 0.
session_end() {
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n; done
  if [ "$stopping" = 1 ]; then
    rm -f "$OUT/logs/.stop"
    echo "$NAME: stopped; the runs kept their checkpoints. Run the same command again to go on." >&2
    return 130
  fi
  local failed
  failed=$(cd "$OUT/logs" && ls -A | sed -n 's/^\.\(.*\)\.failed$/\1/p' | tr '\n' ' ')
  if [ -n "$failed" ]; then
    echo "$NAME: failed: ${failed}(see $OUT/logs; run the same command again to resume)" >&2
    return 1
  fi
  return 0
}
