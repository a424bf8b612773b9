#!/usr/bin/env bash
# receive-tar.sh: the receiving end of a verified stream (send-files.sh, send-tree.sh, or the
# controller's own tar-stream sender): zstd -d | tar -x into a directory, hashing the
# uncompressed tar stream on the way; the controller compares that digest with the sender's.
#
# Arguments:
#   $1  the directory to extract into (made when missing)
#   $2  "files": checkpoint images: a private directory (0700, umask 077), owners and modes
#       not kept, an existing directory's mode left alone
#       "tree": directory-tree entries (send-tree.sh): umask 022, owners, modes, xattrs and ACLs
#       kept as they were on the source
#       "tree-changing": as tree, for the copy made while the workload runs and changes the
#       tree under tar: an entry tar cannot place because the stream's view of the tree changed
#       under it (a directory the workload swapped for a symlink: "Cannot open: Not a
#       directory") is left out rather than failing the copy; the copy made while frozen
#       settles it. Any other error (a full disk) still fails.
# Stdin:   the tar stream, zstd-compressed
# Stdout:  nothing
# Stderr:  last line "sha256 <64 hex digits>", the digest of the uncompressed tar stream
# Exit:
#   0  everything extracted
#   2  $2 is neither files nor tree
#   3  EXIT.CANNOT_ENTER: $1 cannot be made or entered
#   4  no temporary directory (mktemp failed)
#   *  otherwise the status of zstd -d | tee | tar -x (pipefail)
set -o pipefail
case $2 in
  files) umask 077; make=(-m 0700); keep=(--no-same-owner --no-same-permissions --no-overwrite-dir) ;;
  tree|tree-changing) umask 022; make=(); keep=(--same-owner --same-permissions --xattrs --xattrs-include='*' --acls --numeric-owner) ;;
  *) echo "unknown mode $2 (files or tree)" >&2; exit 2 ;;
esac
{ mkdir -p "${make[@]}" -- "$1" && cd "$1"; } || { echo "cannot enter $1" >&2; exit 3; }
tmp=$(mktemp -d) || exit 4
trap 'rm -rf "$tmp"' EXIT
# The hasher reads what the pipeline tees into the FIFO. sha256sum opens the FIFO itself: a
# `< "$tmp/h"` redirect would block inside a bash child, which does not always die of SIGTERM.
mkfifo "$tmp/h"
sha256sum "$tmp/h" > "$tmp/sum" &
zstd -d -q -c | tee "$tmp/h" | tar -x -f - "${keep[@]}" 2> "$tmp/err"
status=("${PIPESTATUS[@]}")
rc=0
for s in "${status[@]}"; do [ "$s" -ne 0 ] && rc=$s; done
wait
cat "$tmp/err" >&2
# Only tar failed (status 2), and only on entries the running workload changed under it.
if [ "$2" = tree-changing ] && [ "${status[0]}" -eq 0 ] && [ "${status[1]}" -eq 0 ] && [ "${status[2]}" -eq 2 ] &&
  ! grep -v -E ': Cannot (open|mkdir|create symlink to .*|hard link to .*|utime|change ownership to .*|change mode to .*|stat): (Not a directory|No such file or directory|File exists|Is a directory|Too many levels of symbolic links)$|^tar: Exiting with failure status due to previous errors$' "$tmp/err" > /dev/null; then
  rc=0
fi
echo "sha256 $(cut -c1-64 "$tmp/sum")" >&2
exit "$rc"
