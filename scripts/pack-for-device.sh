#!/usr/bin/env bash
# Prepares .cache/device/ for an offline CUDA machine (see scripts/cuda-check.sh): Deno as its
# npm platform tarball (deno.tgz) and the npm packages hlgm imports (deno_dir.tgz, the npm/ part
# of a DENO_DIR). Carry the folder with the working tree (it is git-ignored; about 50 MB, under
# the 64 MiB a carry may hold).
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
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
DENO_DIR="$work" deno cache mod.ts cli/main.ts bench/run.ts tests/*.ts >/dev/null
tar -czf "$out/deno_dir.tgz" -C "$work" npm
rm -rf "$out/deno_dir"
du -sh "$out" >&2
echo "$out"
