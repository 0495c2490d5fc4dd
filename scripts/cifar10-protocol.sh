#!/usr/bin/env bash
# The paper's Table II protocol on real CIFAR-10, as one command that runs unattended in chunks:
# the shallow CNN (--preset shallow-cnn-cifar10: Adadelta lr 0.1, batch 256, 32 px), 100 epochs,
# HLGM switching after a 20-epoch validation plateau, baseline / SGT / HLGM x seeds 0, 1, 2, the
# runs side by side (`sweep --grid method=... --parallel`). Its departures from the paper: 5,000 of
# the 50,000 training images held out for validation; the plateau rule watches validation
# accuracy (the paper's text says test accuracy, its Algorithm 2 the loss); CIFAR augmented with
# random crops and flips (hlgm's default; the paper states none); three seeds, not one run; and
# hlgm's readings of what the paper does not state (lambda 1, the fill, |gradient|, fp32). Each call trains for at most
# --chunk-s seconds, then stops the runs after their current batch (Ctrl-C's path: every run keeps
# its last checkpoint) and exits 3; the same command continues where it stopped (finished runs
# are reused, stopped ones resumed). When every run is done it writes the tables and exits 0.
#
#   scripts/cifar10-protocol.sh [--device cuda] [--chunk-s 540] [--parallel 9] [--out DIR]
#                               [-- MORE SWEEP FLAGS]
#
# Defaults: --device cuda, --chunk-s 540 (9 minutes: a device call's 10-minute limit with room
# to stop), --parallel 9 (the one GPU holds all nine shallow-CNN runs), --out
# runs/paper-cifar10. Flags after `--` go to `hlgm sweep` and override the protocol's (the tests
# run it at toy scale with `-- --subset 64 --epochs 3 ...`). The dataset must be in place
# (`hlgm data download cifar10`). HLGM_NUM_THREADS splits the CPU threads between the runs.
set -uo pipefail
cd "$(dirname "$0")/.."

device=cuda
chunk=540
parallel=9
out=runs/paper-cifar10
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --chunk-s) chunk="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "cifar10-protocol: unknown argument \"$1\" (see the comment at the top)" >&2; exit 2 ;;
  esac
done
[[ "$chunk" =~ ^[1-9][0-9]*$ ]] || { echo "cifar10-protocol: --chunk-s must be a positive integer, got \"$chunk\"" >&2; exit 2; }

protocol=(
  --preset shallow-cnn-cifar10 --epochs 100 --monitor val_acc --patience 20
  --grid method=baseline,sgt,hlgm --seeds 0,1,2
  --checkpoint best-after-switch --sib-n all
)
start=$(date +%s)
# SIGINT after the chunk: the runs stop after their batch and keep their checkpoints (exit 130);
# a run that ignores it for a minute more is killed, losing only that minute
timeout --foreground --signal=INT --kill-after=60 "$chunk" \
  deno run -A cli/main.ts sweep "${protocol[@]}" --device "$device" --parallel "$parallel" \
  --out "$out" "${extra[@]}"
code=$?
took=$(($(date +%s) - start))
case "$code" in
  0) echo "cifar10-protocol: every run is done ($took s this chunk); tables in $out/sweep.md" ;;
  124 | 130)
    echo "cifar10-protocol: chunk of $chunk s over ($took s); the runs kept their checkpoints." \
      "Run the same command again to continue."
    exit 3 ;;
  *) echo "cifar10-protocol: sweep failed (exit $code)" >&2; exit "$code" ;;
esac
