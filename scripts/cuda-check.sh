#!/usr/bin/env bash
# CUDA check, for a machine with a GPU and PyTorch 2.x but no network: builds the shim against
# that PyTorch's libtorch, runs the test suite with tensors on CUDA (tests/amp_test.ts trains
# bf16-mixed and fp16-mixed there), then the benchmark on CUDA against PyTorch in the same run
# (its precision section: fp32, bf16-mixed, fp16-mixed and channels-last steps side by side).
# Prepare with scripts/pack-for-device.sh here and carry .cache/device with the working tree.
# Python is used only to print torch's install path.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pack="$root/.cache/device"
device="${1:-cuda}"

if ! command -v deno >/dev/null 2>&1; then
  [ -f "$pack/deno.tgz" ] || { echo "no deno and no $pack/deno.tgz (run scripts/pack-for-device.sh)"; exit 1; }
  mkdir -p "$pack/bin"
  tar -xzf "$pack/deno.tgz" -C "$pack/bin" --strip-components=1 package/deno
  chmod +x "$pack/bin/deno"
  export PATH="$pack/bin:$PATH"
fi
if [ -f "$pack/deno_dir.tgz" ] && [ ! -d "$pack/deno_dir/npm" ]; then
  mkdir -p "$pack/deno_dir" && tar -xzf "$pack/deno_dir.tgz" -C "$pack/deno_dir"
fi
[ -d "$pack/deno_dir" ] && export DENO_DIR="$pack/deno_dir"
export HLGM_CACHE_DIR="${HLGM_CACHE_DIR:-$root/.cache/hlgm}"

# The build's own discovery first (a pip/conda PyTorch's torch/include + torch/lib, as a user
# gets it); when it finds no CUDA libtorch, ask Python where torch lives.
found="$(deno eval 'import { findLibtorch } from "./native/build.ts";
try { const l = findLibtorch(); console.log(`${l.source} ${l.cuda ? "cuda" : "cpu"} ${l.root}`); } catch { console.log("none"); }')"
echo "== libtorch discovery: $found"
if [ -z "${LIBTORCH:-}" ] && [[ "$found" != *" cuda "* ]]; then
  LIBTORCH="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)" || true
  [ -n "$LIBTORCH" ] || { echo "set LIBTORCH or install PyTorch"; exit 1; }
  export LIBTORCH
fi
echo "== deno $(deno --version | head -n 1 | cut -d' ' -f2), LIBTORCH=${LIBTORCH:-(discovered)}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true

echo "== build"
deno run -A native/build.ts || exit 1
deno run -A cli/main.ts info || exit 1

echo "== tests on $device"
HLGM_SKIP_SETUP=1 HLGM_SKIP_STATIC=1 ./scripts/test.sh --device "$device"
tests_status=$?

echo "== bench on $device"
deno run -A bench/run.ts --device "$device"
bench_status=$?
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]
