#!/usr/bin/env bash
# send-files.sh: the sending end of a verified stream of named files (checkpoint images relayed
# from a remote source): tar | zstd, hashing the uncompressed tar stream on the way. The
# receiving end (receive-tar.sh) hashes it too, and the controller compares the two digests.
#
# Arguments:
#   $1     the directory the names are relative to
#   $2     zstd level (1 = fastest)
#   $3...  the regular files to send, relative to $1
# Stdin:   not read
# Stdout:  the tar stream, zstd-compressed
# Stderr:  last line "sha256 <64 hex digits>", the digest of the uncompressed tar stream
# Exit:
#   0  sent
#   3  EXIT.CANNOT_ENTER: $1 cannot be entered
#   4  no temporary directory (mktemp failed)
#   *  otherwise the status of tar | tee | zstd (pipefail)
set -o pipefail
cd "$1" || { echo "cannot enter $1" >&2; exit 3; }
level=$2
shift 2
tmp=$(mktemp -d) || exit 4
trap 'rm -rf "$tmp"' EXIT
# The hasher reads what the pipeline tees into the FIFO. sha256sum opens the FIFO itself: a
# `< "$tmp/h"` redirect would block inside a bash child, which does not always die of SIGTERM.
mkfifo "$tmp/h"
sha256sum "$tmp/h" > "$tmp/sum" &
tar -c -f - -- "$@" | tee "$tmp/h" | zstd -q -c "-$level"
rc=$?
wait
echo "sha256 $(cut -c1-64 "$tmp/sum")" >&2
exit $rc
