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

NAME=cifar10-cpu OUT=$out THREADS=$(( ${HLGM_NUM_THREADS:-$(nproc)} / parallel ))
[ "$THREADS" -ge 1 ] || THREADS=1
. scripts/lib/session-runs.sh
session_reset
hlgm() { deno run -A cli/main.ts "$@"; }
hlgm data download cifar10 || exit $?

# one run: resume it with its saved settings when it has a checkpoint (a finished one trains no
# further; the final compare refuses runs whose settings differ from the protocol's), else start
# it
run_one() {
  local m=$1 s=$2 dir="$out/$1-seed$2"
  local args=(--method "$m" --seed "$s" --out "$dir" "${protocol[@]}")
  [ -f "$dir/checkpoints/last.json" ] && args=(--resume "$dir")
  [ -e "$out/logs/.stop" ] && return 0
  session_train "$m-seed$s" "${args[@]}"
  session_done "$m-seed$s" $?
}

for job in "${jobs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  [ "$stopping" = 0 ] || break
  # shellcheck disable=SC2086
  run_one $job &
done
session_end || exit $?
# every run is finished: compare trains nothing, it reads them and writes the tables
hlgm compare "${protocol[@]}" --seeds "$seed_list" --out "$out"
