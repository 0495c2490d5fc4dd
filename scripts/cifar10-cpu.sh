#!/usr/bin/env bash
# The paper's question on real CIFAR-10, scaled to fit 2 CPU cores (about 2 hours): the shallow
# CNN on all 50,000 training images (45,000 trained, 5,000 held out for validation), the full
# test set, baseline / SGT / HLGM x seeds 0, 1, 2. Two runs train at once, one thread each
# (--parallel N; HLGM_NUM_THREADS threads in all, else every core); then `hlgm compare` with the same settings
# reuses the finished runs and writes the tables (compare.md, compare.json: Table II, paired
# differences against baseline with 95% intervals).
#
# Departures from the paper's Table II protocol (scripts/cifar10-protocol.sh runs its 100 epochs
# on a GPU, with the departures the README lists), each so that every HLGM run switches and then completes two whole episodes
# (regularize and denoise both exercised) on this hardware:
#   epochs             14 instead of 100
#   Adadelta lr        1.0 (the SGT code's setting) instead of Table I's 0.1, which plateaus far later
#   plateau patience   2 epochs of validation accuracy instead of 20
#   switch-by          8: HLGM switches at the plateau or after 8 plain epochs, whichever is first
#                      (the paper waits for the plateau), so 6 epochs remain for two episodes
#   episode size S_e   3 instead of 5: episode 1 = 2 regularize + 1 denoise, episode 2 = 1 + 2
# The paper's: batch 256, k_t 20% dropping 2 points per regularizing epoch, k_b 50%, saliency of
# the true label. hlgm's readings of what the paper does not state: lambda 1, the fill uniform in
# the image's range, |gradient|, k_t dropped after each regularize epoch, de0 1, fp32; and
# augmentation (crop and flip, hlgm's CIFAR default) and a 45,000 / 5,000 split, which it does
# not mention.
#
#   scripts/cifar10-cpu.sh [--out DIR] [--parallel N] [--seeds 0,1,2] [-- MORE TRAIN FLAGS]
#
# Finished runs are reused and stopped ones resumed: run the same command again to go on. Each
# run's output is in DIR/logs/. Flags after `--` override the protocol's (the tests run it at toy
# scale). OUT defaults to runs/cifar10-cpu.
set -uo pipefail
cd "$(dirname "$0")/.."

out=runs/cifar10-cpu
parallel=2
seed_list=0,1,2
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --seeds) seed_list="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "cifar10-cpu: unknown argument \"$1\" (see the comment at the top)" >&2; exit 2 ;;
  esac
done
[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || { echo "cifar10-cpu: --parallel must be a positive integer, got \"$parallel\"" >&2; exit 2; }

# the settings, once: every run and the final compare take exactly these
protocol=(
  --preset shallow-cnn-cifar10 --device cpu --epochs 14 --lr 1.0 --monitor val_acc
  --patience 2 --switch-by 8 --episode-size 3 "${extra[@]}"
)
IFS=, read -r -a seeds <<<"$seed_list"
# seed by seed, the longest method first, so a stopped experiment has whole seeds
jobs=()
for s in "${seeds[@]}"; do for m in sgt hlgm baseline; do jobs+=("$m $s"); done; done

threads=$(( ${HLGM_NUM_THREADS:-$(nproc)} / parallel )); [ "$threads" -ge 1 ] || threads=1
mkdir -p "$out/logs"
# what a killed earlier call may have left: pid files (their pids may be reused) and markers
rm -f "$out"/logs/.*.pid "$out"/logs/.*.failed "$out/logs/.stop"
hlgm() { deno run -A cli/main.ts "$@"; }
hlgm data download cifar10 || exit $?

# one run: resume it with its saved settings when it has a checkpoint (a finished one trains no
# further; the final compare refuses runs whose settings differ from the protocol's), else start
# it. The run gets its own session
# (setsid), so a stop reaches it once, from on_stop below, whether Ctrl-C went to the whole
# terminal group or a kill to this script alone. A run that fails leaves logs/.NAME.failed.
run_one() {
  local m=$1 s=$2 dir="$out/$1-seed$2" log="$out/logs/$1-seed$2.log" name="$1-seed$2"
  local args=(--method "$m" --seed "$s" --out "$dir" "${protocol[@]}")
  [ -f "$dir/checkpoints/last.json" ] && args=(--resume "$dir")
  [ -e "$out/logs/.stop" ] && return 0
  echo "cifar10-cpu: $m seed $s: training ($log)"
  HLGM_NUM_THREADS=$threads setsid deno run -A cli/main.ts train "${args[@]}" >>"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$out/logs/.$name.pid"
  [ -e "$out/logs/.stop" ] && kill -TERM "$pid" 2>/dev/null # a stop that came meanwhile
  wait "$pid"
  local code=$?
  rm -f "$out/logs/.$name.pid"
  echo "cifar10-cpu: $m seed $s: exit $code"
  [ "$code" = 0 ] || [ -e "$out/logs/.stop" ] || touch "$out/logs/.$name.failed"
  return 0
}

stopping=0
# Ctrl-C or SIGTERM: each run stops after its batch, keeping its last checkpoint (a second one
# quits at once); no new run starts. SIGTERM is what is passed on: a run still starting (which,
# as a background job, may ignore SIGINT until it listens) ends at once, losing no checkpoint.
on_stop() {
  touch "$out/logs/.stop"
  kill -TERM $(cat "$out"/logs/.*.pid 2>/dev/null) 2>/dev/null
  [ "$stopping" = 0 ] || exit 130
  stopping=1
}
trap on_stop INT TERM
for job in "${jobs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  [ "$stopping" = 0 ] || break
  # shellcheck disable=SC2086
  run_one $job &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n; done
if [ "$stopping" = 1 ]; then
  rm -f "$out/logs/.stop"
  echo "cifar10-cpu: stopped; the runs kept their checkpoints. Run the same command again to go on." >&2
  exit 130
fi
failed=$(cd "$out/logs" && ls -A | sed -n 's/^\.\(.*\)\.failed$/\1/p' | tr '\n' ' ')
if [ -n "$failed" ]; then
  echo "cifar10-cpu: failed: ${failed}(see $out/logs; run the same command again to resume)" >&2
  exit 1
fi
# every run is finished: compare trains nothing, it reads them and writes the tables
hlgm compare "${protocol[@]}" --seeds "$seed_list" --out "$out"
