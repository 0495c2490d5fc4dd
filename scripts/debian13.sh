#!/usr/bin/env bash
# Runs hlgm on a second libtorch stack: Debian 13 ("trixie"), whose libtorch-dev is 2.6, in a
# root made by debootstrap (Debian's own tool, from Debian's packages), kept in the cache folder
# and reused. Needs root (debootstrap, chroot, bind mounts) and Debian's package mirror.
#
#   scripts/debian13.sh test [FILES...]   the test suite on libtorch 2.6 CPU (ends "part: N passed, N failed")
#   scripts/debian13.sh cuda-build        the shim compiled and linked against Debian 13's CUDA
#                                         libtorch 2.6 (no GPU needed), exported symbols checked
#   scripts/debian13.sh bench [ARGS...]   deno task bench against Debian 13's python3-torch 2.6
#   scripts/debian13.sh shell             a shell in the root, repository at /hlgm
#   scripts/debian13.sh run CMD [ARGS...] one command in the root, in /hlgm
#
# The repository is bind-mounted at /hlgm and the host's Deno binary and npm cache are shared,
# so nothing is fetched from npm inside; apt inside the root reaches deb.debian.org and uses the
# host's CA bundle. HLGM_DEBIAN13_ROOT overrides where the root lives.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/setup.sh"

cache="${HLGM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hlgm}"
root="${HLGM_DEBIAN13_ROOT:-$cache/roots/debian13}"
mirror="${HLGM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The host's Deno cache (npm packages), wherever this Deno keeps it.
deno_dir() { deno info --json 2>/dev/null | sed -n 's/.*"denoDir": *"\([^"]*\)".*/\1/p' | head -n 1; }
say() { echo "debian13: $*" >&2; }

# Mounted below $1? (never delete a folder that still shows the host's /dev or the repository)
mounted_below() { awk -v p="$1/" 'index($2 "/", p) == 1 { found = 1 } END { exit !found }' /proc/mounts; }

ensure_root() {
  [ -f "$root/.hlgm-ready" ] && return 0
  [ "$(id -u)" = 0 ] || { say "making the Debian 13 root needs root (debootstrap, chroot)"; return 1; }
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >/dev/null ||
      { say "could not install debootstrap"; return 1; }
  fi
  local tmp="$root.partial"
  if [ -e "$tmp" ]; then
    mounted_below "$tmp" && { say "$tmp still has mounts; unmount them first"; return 1; }
    rm -rf "$tmp"
  fi
  mkdir -p "$(dirname "$root")"
  say "creating a Debian 13 root in $root (debootstrap, about a minute)"
  debootstrap --variant=minbase trixie "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
    { say "debootstrap failed (last lines of $tmp.log):"; tail -n 5 "$tmp.log" >&2; return 1; }
  # contrib holds libtorch-cuda-dev.
  echo "deb $mirror trixie main contrib" >"$tmp/etc/apt/sources.list"
  rm -f "$tmp.log"
  touch "$tmp/.hlgm-ready"
  mv "$tmp" "$root"
}

mounts=()
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
  mounts=()
}
bind() { # bind SRC DEST-inside-root
  mkdir -p "$root$2"
  mountpoint -q "$root$2" && umount -l "$root$2"
  mount --bind "$1" "$root$2" && mounts+=("$root$2")
}

enter() {
  trap unmount_all EXIT INT TERM
  bind /proc /proc && bind /dev /dev && bind /dev/pts /dev/pts || { say "bind mounts failed"; return 1; }
  bind "$hlgm_root" /hlgm || return 1
  local dir
  dir="$(deno_dir)"
  [ -n "$dir" ] || dir="$HOME/.cache/deno"
  mkdir -p "$dir" && bind "$dir" /var/cache/deno || return 1
  # TLS for apt (https mirrors) and for Deno inside, with the host's trust store. Deno reads
  # a copy apt leaves alone: installing ca-certificates in the root rewrites the system bundle.
  mkdir -p "$root/etc/ssl/certs" "$root/etc/hlgm"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/hlgm/host-ca.crt"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
  # The host's Deno runs there too (trixie's glibc is newer than the one it needs).
  local deno_bin
  deno_bin="$(readlink -f "$(command -v deno)")"
  cmp -s "$deno_bin" "$root/usr/local/bin/deno" || install -m 755 "$deno_bin" "$root/usr/local/bin/deno"
}

# in_root CMD...: runs CMD inside the root, in /hlgm, with a clean environment.
in_root() {
  local pass=() v
  for v in NO_COLOR HLGM_TEST_DEVICE HLGM_NUM_THREADS; do [ -n "${!v:-}" ] && pass+=("$v=${!v}"); done
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && pass+=("$v=${!v}")
  done
  # Deno trusts its own roots, the system store and the host's bundle (copied by enter()).
  chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin DENO_DIR=/var/cache/deno \
    DENO_TLS_CA_STORE=mozilla,system DENO_CERT=/etc/hlgm/host-ca.crt "${pass[@]}" \
    /bin/bash -c 'cd /hlgm && "$@"' in_root "$@"
}

apt_in_root() { # apt_in_root PACKAGE...: installs the missing ones
  local missing=() p
  for p in "$@"; do in_root dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} in the root"
  in_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

cmd_test() {
  # scripts/test.sh inside installs what it needs itself (libtorch-dev, OpenBLAS, g++, the
  # dataset) as it does on any Debian machine; static checks do not depend on libtorch.
  in_root env HLGM_SKIP_STATIC=1 HLGM_PART_SUMMARY=1 HLGM_IN_ROOT=1 ./scripts/test.sh "$@"
}

cmd_cuda_build() {
  # g++ and Gloo's headers (the shim's c10d part); the CUDA libtorch itself is unpacked by the check
  apt_in_root g++ libgloo-dev || { say "apt-get failed"; return 1; }
  in_root ./scripts/cuda-build-check.sh
}

cmd_bench() {
  apt_in_root libtorch-dev g++ libgloo-dev libopenblas0-pthread python3-torch tmux || { say "apt-get failed"; return 1; }
  in_root deno run -A bench/run.ts "$@"
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
    test | cuda-build | bench | shell | run) ;;
    *) echo "usage: scripts/debian13.sh test [FILES...] | cuda-build | bench [ARGS...] | shell | run CMD..." >&2; return 2 ;;
  esac
  ensure_deno || return 1
  ensure_root || return 1
  enter || return 1
  case "$cmd" in
    test) cmd_test "$@" ;;
    cuda-build) cmd_cuda_build ;;
    bench) cmd_bench "$@" ;;
    shell) in_root /bin/bash -i ;;
    run) in_root "$@" ;;
  esac
}

main "$@"
