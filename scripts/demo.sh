#!/usr/bin/env bash
# Quick-start main job: set up what is missing, then run `hlgm demo` (info + a short
# shallow-CNN training on Fashion-MNIST, or on generated data when it is absent).
# Extra flags go to the demo command, e.g. scripts/demo.sh --epochs 3 --device cuda
set -euo pipefail
source "$(dirname "$0")/setup.sh"
hlgm_setup
cd "$hlgm_root"
exec deno run -A cli/main.ts demo "$@"
