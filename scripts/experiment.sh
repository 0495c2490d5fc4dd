#!/usr/bin/env bash
# The experiment behind docs/results.md (about 55 minutes on 2 CPU cores):
#  1. Fashion-MNIST, shallow CNN: baseline vs SGT vs HLGM, seeds 0 and 1, 10,000 training images,
#     15 epochs, Adadelta lr 1.0 (the SGT code's setting; it plateaus early, so HLGM's switch
#     on a validation plateau of 3 epochs happens within the budget), episodes of 5 epochs.
#  2. Cluttered Fashion-MNIST (40x40 canvas), same three methods, seed 0, 6,000 training
#     images, 10 epochs, HLGM switching after 4 plain epochs; Table III (median SIB) on 1,000
#     test images.
# Finished runs are reused, so the script can be re-run to finish an interrupted experiment.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/experiment}"
common=(--model shallow-cnn --lr 1.0 --batch-size 256 --episode-size 5 --device cpu)
deno run -A cli/main.ts compare "${common[@]}" --dataset fashion-mnist --subset 10000 \
  --epochs 15 --patience 3 --seeds 0,1 --out "$out/fashion-mnist"
# 1b. HLGM with the switch forced after 5 plain epochs (the plateau rule above may never fire
#     within 15 epochs), same seeds; baseline and SGT of step 1 are the reference.
deno run -A cli/main.ts compare "${common[@]}" --dataset fashion-mnist --subset 10000 \
  --epochs 15 --switch-epoch 5 --seeds 0,1 --methods hlgm --out "$out/fashion-mnist-switch5"
deno run -A cli/main.ts compare "${common[@]}" --dataset cluttered-fmnist --canvas 40 \
  --subset 6000 --epochs 10 --switch-epoch 4 --seeds 0 --sib-n 1000 --out "$out/cluttered-fmnist"
deno run -A cli/main.ts report "$out"/fashion-mnist/*-seed0 --out "$out/report-fashion-mnist"
deno run -A cli/main.ts report "$out"/cluttered-fmnist/*-seed0 --out "$out/report-cluttered"
