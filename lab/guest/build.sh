#!/usr/bin/env bash
# Build the migrate QEMU guest: Debian's cloud kernel (CONFIG_MEM_SOFT_DIRTY=y, which the host
# kernel lacks, so CRIU pre-copy with --track-mem can be tested) and an initramfs holding a small
# but real Debian userland (busybox-static plus the GNU/Debian binaries migrate runs on a host,
# with their libraries), CRIU, runc, sshd, memload and the kernel modules CRIU needs.
#
# Output in $MIGRATE_GUEST_CACHE (default /var/cache/migrate-guest): vmlinuz, initrd (zstd cpio),
# ssh_host_ed25519_key{,.pub} (generated once, kept across rebuilds), key (the build's cache key).
# Rebuilds only when an input changed: this directory's files, the kernel package, the lab's
# public key, or any host file copied into the initramfs (size and mtime, listed in `inputs`).
# The kernel package is looked up again only after an `apt-get update`. Nothing is installed on
# the host. Usage: build.sh   (prints nothing on stdout)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${MIGRATE_GUEST_CACHE:-/var/cache/migrate-guest}
LAB_KEY=/var/lib/migrate-lab/id_ed25519.pub
MEMLOAD=$ROOT/build/memload
CRIU=/usr/local/sbin/criu
KERNEL_META=linux-image-cloud-amd64
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Host files copied into the guest at the same path, with every library `ldd` lists.
# Symlinks are kept as symlinks (awk -> /etc/alternatives/awk -> mawk, modprobe -> kmod).
FILES=(
  /usr/bin/bash /usr/bin/sh /usr/bin/dash
  /usr/bin/tar /usr/bin/zstd /usr/bin/gzip /usr/bin/grep /usr/bin/sed /usr/bin/awk
  /usr/bin/find /usr/bin/xargs /usr/bin/diff /usr/bin/cmp /usr/bin/hostname
  /usr/bin/flock /usr/bin/setsid /usr/bin/unshare /usr/bin/nsenter /usr/bin/mount /usr/bin/umount
  /usr/bin/findmnt /usr/bin/mountpoint /usr/bin/lsns /usr/bin/prlimit /usr/bin/taskset
  /usr/bin/ps /usr/bin/pgrep /usr/bin/pkill /usr/bin/kill /usr/bin/free /usr/bin/top /usr/sbin/sysctl
  /usr/bin/ip /usr/sbin/ip /usr/bin/ss
  /usr/bin/kmod /usr/sbin/modprobe /usr/sbin/insmod /usr/sbin/rmmod /usr/sbin/lsmod /usr/sbin/depmod
  /usr/sbin/sshd /usr/lib/openssh/sftp-server
  /usr/sbin/runc
  /usr/lib/x86_64-linux-gnu/libnss_files.so.2
  /usr/libexec/coreutils/libstdbuf.so
  "$CRIU"
)
OPTIONAL_FILES=(/usr/bin/strace)   # copied when the host has them

log() { printf 'guest-build: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (device nodes, file ownership in the initramfs)"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

"$ROOT/lab/workload/build.sh" "$MEMLOAD" >&2
[[ -x $CRIU ]] || die "$CRIU missing: run lab/provision.sh"
if [[ ! -f $LAB_KEY ]]; then
  log "no lab key yet ($LAB_KEY): running lab/lab.sh up once"
  "$ROOT/lab/lab.sh" up >&2 9>&-   # its daemons must not inherit (and hold) our lock
fi
[[ -f $CACHE/ssh_host_ed25519_key ]] \
  || ssh-keygen -q -t ed25519 -N '' -C migrate-guest -f "$CACHE/ssh_host_ed25519_key"

# --- kernel package: resolved from the meta package's Depends, again only after apt-get update
resolve_kernel() {
  local lists=/var/lib/apt/lists stamp=$CACHE/kernel.pkg name ver
  if [[ -s $stamp && $stamp -nt $lists ]]; then cat "$stamp"; return; fi
  if ! apt-cache show --no-all-versions "$KERNEL_META" >/dev/null 2>&1; then
    log "apt lists do not know $KERNEL_META: apt-get update"
    apt-get update -qq >&2
  fi
  name=$(apt-cache show --no-all-versions "$KERNEL_META" \
         | sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-cloud-amd64\).*/\1/p' | head -n1)
  [[ -n $name ]] || die "cannot resolve the kernel package from $KERNEL_META's Depends"
  ver=$(apt-cache show --no-all-versions "$name" | sed -n 's/^Version: //p' | head -n1)
  [[ -n $ver ]] || die "no version for $name"
  echo "$name $ver" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
  echo "$name $ver"
}
kernel=$(resolve_kernel)
KPKG=${kernel% *} KPKG_VER=${kernel#* }

# --- cache key: this directory's build inputs + kernel + keys + stat of every copied host file
cache_key() {
  {
    echo "kernel $KPKG $KPKG_VER"
    (cd "$HERE" && find build.sh rootfs -type f -print0 | sort -z | xargs -0 sha256sum)
    (cd "$HERE" && find rootfs -print0 | sort -z | xargs -0 stat -c '%n %a')
    sha256sum "$LAB_KEY" "$CACHE/ssh_host_ed25519_key" "$MEMLOAD"
    if [[ -s $CACHE/inputs ]]; then xargs -d '\n' stat -L -c '%n %s %Y' < "$CACHE/inputs" 2>&1; fi
  } | sha256sum | cut -c1-32
}
if [[ -s $CACHE/key && -s $CACHE/inputs && -f $CACHE/vmlinuz && -f $CACHE/initrd ]] \
   && [[ $(cache_key) == "$(cat "$CACHE/key")" ]]; then
  exit 0
fi

# --- full build
started=$SECONDS
WORK=$(mktemp -d /tmp/migrate-guest-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root

deb=$CACHE/kernel/${KPKG}_${KPKG_VER}_amd64.deb
if [[ ! -f $deb ]]; then
  log "downloading $KPKG $KPKG_VER"
  mkdir -p "$CACHE/kernel"
  # _apt cannot write into mktemp's 0700 directory; download as root without the sandbox warning.
  (cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$KPKG=$KPKG_VER" >&2)
  rm -f "$CACHE"/kernel/*.deb
  mv "$WORK"/"$KPKG"_*.deb "$deb"
fi
log "building the initramfs ($KPKG $KPKG_VER)"
dpkg-deb -x "$deb" "$WORK/k"
KVER=$(ls "$WORK/k/lib/modules")
[[ -f $WORK/k/boot/vmlinuz-$KVER ]] || die "no vmlinuz-$KVER in $deb"
grep -qx 'CONFIG_MEM_SOFT_DIRTY=y' "$WORK/k/boot/config-$KVER" || die "$KPKG lacks CONFIG_MEM_SOFT_DIRTY"

# Debian's merged /usr layout.
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/usr/local/{bin,sbin} \
         "$R"/{dev,proc,sys,run,tmp,etc,root,var/tmp,var/log,var/lib/migrate}
ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
chmod 1777 "$R/tmp" "$R/var/tmp"; chmod 0700 "$R/root" "$R/var/lib/migrate"
mknod -m 0600 "$R/dev/console" c 5 1
mknod -m 0666 "$R/dev/null" c 1 3

# The host files to copy, by their /usr path (merged /usr: /lib/x == /usr/lib/x); symlinks are
# kept as symlinks and their targets added too. Few processes: every fork costs ~10 ms here.
declare -A ADDED=()
LIST=()     # paths (files and symlinks) to copy
INPUTS=()   # the regular files among them: their stat is part of the cache key
ELVES=()    # executables whose ldd libraries are needed
add() { # add PATH [lib]
  local p=$1 kind=${2:-} t magic=''
  case $p in /bin/*|/sbin/*|/lib/*|/lib64/*) p=/usr$p ;; esac
  [[ -n ${ADDED[$p]:-} ]] && return
  ADDED[$p]=1
  [[ -e $p ]] || die "missing on the host: $p"
  LIST+=("${p#/}")
  if [[ -L $p ]]; then
    t=$(readlink "$p")
    [[ $t == /* ]] || t=${p%/*}/$t
    add "$t" "$kind"
    return
  fi
  INPUTS+=("$p")
  # ldd lists all libraries, transitively: libraries need no ldd of their own.
  [[ $kind == lib ]] && return
  LC_ALL=C read -r -n4 magic < "$p" || true
  [[ $magic == $'\x7f'ELF ]] && ELVES+=("$p")
  return 0
}
for f in "${FILES[@]}"; do add "$f"; done
for f in "${OPTIONAL_FILES[@]}"; do [[ ! -e $f ]] || add "$f"; done
while read -r f; do add "$f"; done < <(dpkg -L coreutils | grep -E '^/(usr/)?s?bin/')
add /usr/bin/busybox
re_lib='^[[:space:]]*([^ ]+ => )?(/[^ ]+) \(0x'
while read -r line; do
  [[ $line =~ $re_lib ]] && add "${BASH_REMATCH[2]}" lib
done < <(ldd "${ELVES[@]}" 2>/dev/null || true)
tar -C / -c --no-recursion -f - "${LIST[@]}" | tar -C "$R" -x -f -

# busybox-static fills in every applet the real binaries above do not provide.
links=()
while read -r a; do
  [[ -e $R/usr/bin/${a##*/} || -e $R/usr/sbin/${a##*/} || -L $R/$a ]] || links+=("$R/$a")
done < <(busybox --list-full)
perl -e 'for (@ARGV) { symlink("/usr/bin/busybox", $_) or die "$_: $!\n" }' "${links[@]}"

install -m 0755 "$MEMLOAD" "$R/usr/local/bin/memload"; INPUTS+=("$MEMLOAD")

# Configuration from rootfs/, keys.
cp -a "$HERE/rootfs/." "$R/"
install -m 0600 "$CACHE/ssh_host_ed25519_key" "$R/etc/ssh/ssh_host_ed25519_key"
install -m 0644 "$CACHE/ssh_host_ed25519_key.pub" "$R/etc/ssh/ssh_host_ed25519_key.pub"
install -d -m 0700 "$R/root/.ssh"
install -m 0600 "$LAB_KEY" "$R/root/.ssh/authorized_keys"
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' > "$R/etc/ld.so.conf"
ldconfig -r "$R"

# Kernel modules listed in rootfs/etc/migrate-guest/modules, with their dependencies.
K=$WORK/k M=lib/modules/$KVER
depmod -b "$K" "$KVER"
mkdir -p "$R/$M"
cp "$K/$M"/modules.{order,builtin,builtin.modinfo} "$R/$M/"
while read -r m; do
  [[ -z $m || $m == \#* ]] && continue
  deps=$(modprobe -d "$K" -S "$KVER" --show-depends "$m") || die "kernel module $m not found"
  while read -r kind path _; do
    [[ $kind == insmod ]] || continue
    rel=${path#"$K"/}; rel=${rel#/}
    mkdir -p "$R/$(dirname "$rel")"; cp "$K/$rel" "$R/$rel"
  done <<< "$deps"
done < "$HERE/rootfs/etc/migrate-guest/modules"
depmod -b "$R" "$KVER"

# Pack: vmlinuz and initrd replace the old ones atomically.
(cd "$R" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) \
  | zstd -q -T0 -12 -o "$WORK/initrd"
cp "$WORK/k/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
mv -f "$WORK/vmlinuz" "$CACHE/vmlinuz"
mv -f "$WORK/initrd" "$CACHE/initrd"
printf '%s\n' "${INPUTS[@]}" | sort -u > "$CACHE/inputs"
cache_key > "$CACHE/key"
log "built $CACHE/initrd ($(du -h "$CACHE/initrd" | cut -f1), kernel $KVER) in $((SECONDS - started)) s"
