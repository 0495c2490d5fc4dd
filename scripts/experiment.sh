#!/usr/bin/env bash
# The experiment behind docs/results.md (about 2.5 hours on 2 CPU cores, the steps below
# running side by side on one thread each):
#  1. Fashion-MNIST, shallow CNN: baseline vs SGT vs HLGM, seeds 0, 1, 2, 4,000 training images
#     (10% held out for validation), the full test set, 20 epochs, Adadelta lr 1.0 (the SGT
#     code's setting), HLGM switching on a validation-accuracy plateau of 3 epochs.
#  2. Cluttered Fashion-MNIST on a 40x40 canvas, the same three methods and seeds, 3,000
#     training images, 16 epochs; SIB on every test image, on the best checkpoint and on the
#     best checkpoint after HLGM's switch.
#  3. A sweep of HLGM over k-top x lambda on the set-up of step 1, seed 0.
# Finished runs are reused and stopped ones resumed: the script can be re-run to finish an
# interrupted experiment. OUT defaults to runs/experiment.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/experiment}"
export HLGM_NUM_THREADS="${HLGM_NUM_THREADS:-1}"
hlgm() { deno run -A cli/main.ts "$@"; }
common=(--model shallow-cnn --lr 1.0 --batch-size 256 --episode-size 5 --device cpu --patience 3)
fmnist=(--dataset fashion-mnist --subset 4000 --epochs 20)
cluttered=(--dataset cluttered-fmnist --canvas 40 --subset 3000 --epochs 16)

hlgm compare "${common[@]}" "${fmnist[@]}" --seeds 0,1,2 --out "$out/fashion-mnist" &
hlgm compare "${common[@]}" "${cluttered[@]}" --seeds 0,1,2 --out "$out/cluttered-fmnist" &
wait
hlgm sweep --method hlgm "${common[@]}" "${fmnist[@]}" --grid k-top=0.1,0.3 --grid lambda=0.5,2 \
  --seeds 0 --out "$out/sweep-fashion-mnist"

# Table III on every test image, under both checkpoint rules (the runs are reused)
for rule in best best-after-switch; do
  hlgm compare "${common[@]}" "${cluttered[@]}" --seeds 0,1,2 --out "$out/cluttered-fmnist" \
    --sib-n all --checkpoint "$rule"
  cp "$out/cluttered-fmnist/compare.md" "$out/cluttered-fmnist/compare-$rule.md"
  cp "$out/cluttered-fmnist/compare.json" "$out/cluttered-fmnist/compare-$rule.json"
done
hlgm compare "${common[@]}" "${fmnist[@]}" --seeds 0,1,2 --out "$out/fashion-mnist" \
  --checkpoint best-after-switch
hlgm report "$out"/cluttered-fmnist/*-seed0 --checkpoint best-after-switch \
  --out "$out/report-cluttered"
hlgm report "$out/sweep-fashion-mnist" --out "$out/report-sweep"
