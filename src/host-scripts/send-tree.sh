#!/usr/bin/env bash
# send-tree.sh: the sending end of a verified copy of directory-tree entries: GNU tar (owners,
# modes, xattrs incl. overlayfs' trusted.*, ACLs, hard links, device nodes, sparse files) | zstd,
# hashing the uncompressed tar stream on the way. tar never follows a symlink inside the tree
# (see below): the tree may belong to an untrusted container. The receiving end (receive-tar.sh, mode tree)
# hashes it too, and the controller compares the two digests.
#
# Arguments:
#   $1  the tree's root; the names on stdin are relative to it
#   $2  zstd level
#   $3  "changing": the tree may change meanwhile (before the freeze): an entry that vanished
#       before tar read it is skipped; anything else ("still"): every entry must be read
# Stdin:   the entries to send, NUL-terminated ("./name", or "." for the root itself); tar does
#          not recurse into directories
# Stdout:  the tar stream, zstd-compressed
# Stderr:  last line "sha256 <64 hex digits>", the digest of the uncompressed tar stream
# Exit:
#   0  sent (with $3 = changing, also when tar skipped entries it could not read)
#   3  EXIT.CANNOT_ENTER: $1 cannot be entered
#   4  no temporary directory (mktemp or mkdir failed)
#   5  tee or zstd failed
#   *  otherwise tar's status (or unshare's or mount's, when the private mount failed)
set -o pipefail
cd "$1" || { echo "cannot enter $1" >&2; exit 3; }
tmp=$(mktemp -d) || exit 4
trap 'rm -rf "$tmp"' EXIT
# The hasher reads what the pipeline tees into the FIFO. sha256sum opens the FIFO itself: a
# `< "$tmp/h"` redirect would block inside a bash child, which does not always die of SIGTERM.
mkfifo "$tmp/h"
sha256sum "$tmp/h" > "$tmp/sum" &
# Before the freeze a listed entry may be gone by the time tar reads it: a warning, not an error.
ignore=; [ "$3" = changing ] && ignore=--ignore-failed-read
# tar reads through a private, read-only bind mount of $1 that never follows a symlink
# (nosymfollow, in a mount namespace of its own, gone with it): a running container may swap a
# directory for a symlink (to /etc, say) between the listing and the read; through this mount
# that path fails (ELOOP: an entry tar could not read) instead of reading the host's files.
# Symlinks themselves are archived as symlinks, as before.
mkdir "$tmp/root" || exit 4
# shellcheck disable=SC2016 # the inner script expands its own arguments
{ unshare --mount --propagation private -- bash -c 'mount --bind -- "$1" "$2" && mount -o remount,bind,ro,nosymfollow -- "$2" && cd "$2" && shift 2 && exec tar "$@"' \
    read-tree "$1" "$tmp/root" \
    -c -f - --no-recursion --sparse ${ignore:+"$ignore"} --xattrs --xattrs-include='*' --acls --numeric-owner --null --verbatim-files-from -T -
  echo $? > "$tmp/rc"; } | tee "$tmp/h" | zstd -q -c "-$2"
z=$?
wait
echo "sha256 $(cut -c1-64 "$tmp/sum")" >&2
[ "$z" = 0 ] || exit 5
rc=$(cat "$tmp/rc")
if [ "$rc" = 1 ] && [ "$3" = changing ]; then exit 0; fi
exit "$rc"
