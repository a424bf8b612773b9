#!/usr/bin/env bash
# remove-from-tree.sh: removes entries of a directory tree, never through a symlink: an entry
# whose parent directory resolves anywhere but where its path says is refused.
#
# Arguments:
#   $1  the tree's root; the names on stdin are relative to it
# Stdin:   the entries to remove, NUL-terminated; one whose parent is missing is skipped
# Stdout:  nothing
# Stderr:  "refusing to remove NAME: a symlink is on its path" when that is why it stopped
# Exit:
#   0  every entry removed (or already gone)
#   3  EXIT.CANNOT_ENTER: $1 cannot be entered
#   5  a symlink is on an entry's path (the entries before it were removed)
#   6  rm failed
cd "$1" || exit 3
real=$(pwd -P)
while IFS= read -r -d '' p; do
  d=${p%/*}; [ "$d" = "$p" ] && d=.
  here=$(cd -- "$d" 2>/dev/null && pwd -P) || continue
  want=$real; [ "$d" = . ] || want="$real/$d"
  [ "$here" = "$want" ] || { echo "refusing to remove $p: a symlink is on its path" >&2; exit 5; }
  rm -rf -- "$p" || exit 6
done
