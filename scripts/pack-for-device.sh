#!/usr/bin/env bash
# Prepares .cache/device/ for an offline CUDA machine (see scripts/cuda-check.sh): Deno as its
# npm platform tarball and a DENO_DIR holding the npm packages hlgm imports. Carry the folder
# with the working tree (it is git-ignored; about 45 MB).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_deno
cd "$hlgm_root"
out=.cache/device
mkdir -p "$out"
platform_pkg="@deno/linux-x64-glibc@$DENO_VERSION"
if [ ! -f "$out/deno.tgz" ]; then
  (cd "$out" && npm pack "$platform_pkg" --silent >/dev/null && mv deno-linux-x64-glibc-*.tgz deno.tgz)
fi
export DENO_DIR="$hlgm_root/$out/deno_dir"
deno cache mod.ts cli/main.ts bench/run.ts tests/*.ts >/dev/null
du -sh "$out" >&2
echo "$out"
