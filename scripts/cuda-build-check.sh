#!/usr/bin/env bash
# The CUDA build path without a GPU, inside the Debian 13 root (run by `scripts/debian13.sh
# cuda-build`): unpacks Debian 13 contrib's CUDA libtorch 2.6 (libtorch-cuda-2.6 and
# libtorch-cuda-dev, with apt-get download + dpkg -x: installing would pull nvidia-cudnn, a
# downloader that cannot work offline), builds the shim against it exactly as native/build.ts
# does for CUDA, and checks the result. Ends with "part: N passed, N failed"; prints a "skipped"
# line and counts nothing when the packages cannot be fetched.
set -uo pipefail
cd "$(dirname "$0")/.."
store="${HLGM_CUDA_STORE:-/var/cache/hlgm-cuda}"
packages=(libtorch-cuda-2.6 libtorch-cuda-dev)
passed=0
failed=0
result() { # result NAME STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then echo "cuda-build: $1 ... ok"; passed=$((passed + 1))
  else echo "cuda-build: $1 ... FAILED${3:+: $3}"; failed=$((failed + 1)); fi
}

if [ ! -f "$store/.ready" ]; then
  rm -rf "$store/debs" "$store/tree" && mkdir -p "$store/debs"
  echo "cuda-build: fetching ${packages[*]} (about 480 MB, once)"
  if ! (apt-get update -qq && cd "$store/debs" && apt-get download -qq "${packages[@]}") >/dev/null 2>&1; then
    echo "cuda-build: skipped: could not fetch ${packages[*]} from Debian 13 contrib"
    echo "part: 0 passed, 0 failed"
    exit 0
  fi
  for deb in "$store"/debs/*.deb; do dpkg -x "$deb" "$store/tree" || exit 1; done
  # A LIBTORCH root (include/ and lib/) over Debian's multiarch layout.
  mkdir -p "$store/libtorch"
  ln -sfn ../tree/usr/include "$store/libtorch/include"
  ln -sfn "../tree/usr/lib/$(uname -m)-linux-gnu" "$store/libtorch/lib"
  rm -rf "$store/debs"
  touch "$store/.ready"
fi

export LIBTORCH="$store/libtorch" HLGM_CACHE_DIR="$store/build"
version="$(deno eval 'import { findLibtorch } from "./native/build.ts"; const l = findLibtorch(); console.log(`${l.version} ${l.cuda ? "cuda" : "cpu"}`)')"
result "libtorch found as CUDA ($version)" "$([[ "$version" == *" cuda" ]]; echo $?)"

log="$(mktemp)"
lib="$(deno run -A native/build.ts 2>"$log")"
status=$?
result "shim compiles and links against libtorch $version" "$status" "$(tail -n 20 "$log")"
if [ "$status" -ne 0 ]; then
  echo "part: $passed passed, $((failed + 4)) failed"
  exit 1
fi
warnings="$(cat "$(dirname "$lib")/build.log")"
result "no compiler or linker warnings" "$([ -z "$warnings" ]; echo $?)" "$warnings"

# Every symbol ffi/symbols.ts opens must be exported.
deno eval 'import { symbols } from "./ffi/symbols.ts";
for (const [key, s] of Object.entries(symbols)) console.log("name" in s ? s.name : key);' |
  sort -u >"$log.want"
nm -D --defined-only "$lib" | awk '{ print $3 }' | sort -u >"$log.have"
missing="$(comm -23 "$log.want" "$log.have" | tr '\n' ' ')"
result "exports all $(wc -l <"$log.want") symbols of ffi/symbols.ts" "$([ -z "$missing" ]; echo $?)" "missing: $missing"

# The data-parallel part (native/distributed.cpp) compiled against c10d, not to its stubs: the
# shim then calls into ProcessGroupGloo (Gloo's headers come from libgloo-dev in the root).
c10d_refs="$(nm -D --undefined-only "$lib" | grep -c ProcessGroupGloo)"
result "c10d (Gloo) compiled in, not the stubs" "$([ "$c10d_refs" -gt 0 ]; echo $?)" \
  "no reference to ProcessGroupGloo: $(deno eval 'import { findLibtorch, distributedSupport } from "./native/build.ts"; console.log(distributedSupport(findLibtorch()).reason)')"

# torch_cuda registers the CUDA kernels when loaded; nothing references it, so it must be
# linked with --no-as-needed or it silently drops out.
needed="$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
result "links libtorch_cuda and libc10_cuda" \
  "$([[ "$needed" == *libtorch_cuda.so* && "$needed" == *libc10_cuda.so* ]]; echo $?)" "NEEDED: $needed"
rm -f "$log" "$log.want" "$log.have"
echo "part: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
