#!/usr/bin/env bash
# Idempotent machine set-up for migrate: Debian packages, a working CRIU, and the kernel and
# mount settings CRIU and Docker need on these machines (see ../shared/PLATFORM.md).
# Safe to run any number of times; a second run does no downloads and no builds.
set -euo pipefail

CRIU_PREFIX=/usr/local/sbin
CRIU_CACHE=${MIGRATE_CACHE:-/var/cache/migrate}/criu
CRIU_MIN_MAJOR=4
CRIU_MIN_MINOR=2
# Debian suite whose CRIU source builds and works on this kernel. bookworm's 3.17 fails
# `criu check`; trixie's 4.1.1 cannot dump a TCP socket on kernels >= 6.16 (it asks every socket
# for SO_PASSCRED, which those kernels refuse for TCP); sid's 4.2.1 asks only Unix and netlink ones.
CRIU_SOURCE_SUITE=sid
# CRIU caches what it probes of the kernel (~40 ms a run: several CRIU runs are inside each
# freeze) in RUNDIR/criu.kdat, and keeps it only on a tmpfs. RUNDIR is /run by default, which is
# not a tmpfs on these machines (it is on most hosts), so CRIU is built with a RUNDIR of its own
# and criu_rundir mounts a root-only tmpfs there.
CRIU_RUNDIR=/run/criu

PACKAGES=(
  docker.io openssh-server busybox-static iproute2 util-linux procps zstd xz-utils kmod
  e2fsprogs gcc libc6-dev make
  attr  # getfattr/setfattr: tests compare xattrs of copied container layers
  redis-server redis-tools  # real software in the tests: a Redis image built from Debian's binary
  shellcheck  # the suite lints every host script
  tmux  # a real terminal for the progress-bar test
  qemu-system-x86 cpio  # lab/guest: a QEMU (TCG) guest with a soft-dirty kernel for pre-copy tests
  # CRIU build dependencies
  libbsd-dev libcap-dev libgnutls28-dev libnet1-dev libnftables-dev libnl-3-dev
  libprotobuf-c-dev libprotobuf-dev pkgconf protobuf-c-compiler protobuf-compiler uuid-dev
  python3-protobuf
)

log() { printf 'provision: %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "Debian packages present"; return; fi
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# criu_ok BIN: true when BIN is CRIU >= $CRIU_MIN_MAJOR.$CRIU_MIN_MINOR and passes `criu check` on this kernel.
criu_ok() {
  local bin=$1 ver major minor
  [[ -x $bin ]] || return 1
  ver=$("$bin" --version 2>/dev/null | sed -n 's/^Version: *//p') || return 1
  major=${ver%%.*}; minor=${ver#*.}; minor=${minor%%.*}
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
  ((major > CRIU_MIN_MAJOR || (major == CRIU_MIN_MAJOR && minor >= CRIU_MIN_MINOR))) || return 1
  grep -qaF "$CRIU_RUNDIR/criu.kdat" "$bin" || return 1  # built with its kernel-probe cache on $CRIU_RUNDIR
  "$bin" check >/dev/null 2>&1
}

# Fetch CRIU's upstream source through apt (a deb-src line for $CRIU_SOURCE_SUITE that reuses
# the archive URI this machine already uses) and build it. The binary is cached per version.
build_criu() {
  local uri list work tarball
  uri=$(grep -rhoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
        | head -n1 | tr -d ' ' || true)
  [[ -n $uri ]] || { log "no Debian archive URI in /etc/apt/sources*; cannot fetch CRIU source"; exit 1; }
  list=/etc/apt/sources.list.d/migrate-criu-src.list
  echo "deb-src $uri $CRIU_SOURCE_SUITE main" > "$list"
  apt-get update -qq
  work=$(mktemp -d /tmp/migrate-criu-build.XXXXXX)
  # Only the .orig tarball is needed; the .debian part may be missing from the mirror.
  (cd "$work" && apt-get source --download-only criu >/dev/null 2>&1) || true
  tarball=$(ls "$work"/criu_*.orig.tar.* 2>/dev/null | head -n1)
  [[ -n $tarball ]] || { log "apt-get source criu ($CRIU_SOURCE_SUITE) gave no tarball"; exit 1; }
  log "building CRIU from $(basename "$tarball") (about a minute)"
  tar -xf "$tarball" -C "$work"
  make -C "$work"/criu-*/ -j"$(nproc)" RUNDIR="$CRIU_RUNDIR" criu >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; log "CRIU build failed; full log: $work/build.log"; exit 1; }
  local ver; ver=$("$work"/criu-*/criu/criu --version | sed -n 's/^Version: *//p')
  install -D -m 0755 "$work"/criu-*/criu/criu "$CRIU_CACHE/$ver/criu"
  rm -rf "$work"
}

install_criu() {
  if criu_ok "$CRIU_PREFIX/criu"; then log "CRIU $("$CRIU_PREFIX/criu" --version | sed -n 's/^Version: *//p') works"; return; fi
  local cached
  for cached in $(ls -d "$CRIU_CACHE"/*/criu 2>/dev/null | sort -rV); do
    if criu_ok "$cached"; then
      log "installing cached CRIU from $cached"
      install -m 0755 "$cached" "$CRIU_PREFIX/criu"; return
    fi
  done
  build_criu
  cached=$(ls -d "$CRIU_CACHE"/*/criu | sort -rV | head -n1)
  install -m 0755 "$cached" "$CRIU_PREFIX/criu"
  criu_ok "$CRIU_PREFIX/criu" || { "$CRIU_PREFIX/criu" check >&2 || true; log "built CRIU fails 'criu check'"; exit 1; }
  log "CRIU $("$CRIU_PREFIX/criu" --version | sed -n 's/^Version: *//p') installed in $CRIU_PREFIX"
}

kernel_settings() {
  # Lazy-pages dumps size a tee pipe to ~3.2 MiB; without CAP_SYS_RESOURCE the limit must be raised.
  local want=$((16 * 1024 * 1024))
  (( $(cat /proc/sys/fs/pipe-max-size) >= want )) || echo "$want" > /proc/sys/fs/pipe-max-size
  # Without systemd / is private; CRIU's mount engine needs shared propagation to restore
  # containers into a second daemon, as on a normal host.
  findmnt -no PROPAGATION / | grep -q shared || mount --make-rshared /
}

# criu_ok's `criu check` already wants the cache's tmpfs: it is mounted first.
criu_rundir() {
  mkdir -p "$CRIU_RUNDIR"
  mountpoint -q "$CRIU_RUNDIR" || mount -t tmpfs -o mode=0700,size=1m migrate-criu "$CRIU_RUNDIR"
}

install_packages
criu_rundir
install_criu
kernel_settings
log "ready"
