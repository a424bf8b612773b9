#!/bin/sh
# list-tree.sh: lists a directory tree entry by entry as find sees it (without following
# symlinks), after the host's clock. An entry that vanishes between readdir and stat, or a
# directory that vanishes, or is swapped for a symlink or a file, as find goes into it (the
# workload still runs), is left out, not an error.
#
# Arguments:
#   $1  the tree's root
#   $2  find's -printf format of one entry (NUL-terminated)
# Stdin:   not read
# Stdout:  the host's clock (date +%s.%N), a NUL, then one record per entry ("." is the root)
# Exit:
#   0  listed
#   3  EXIT.CANNOT_ENTER: $1 cannot be entered
#   4  no temporary file (mktemp failed)
#   *  otherwise find's status
cd "$1" || exit 3
err=$(mktemp) || exit 4
date +%s.%N
printf "\0"
LC_ALL=C find . -ignore_readdir_race -printf "$2" 2> "$err"
rc=$?
# find complains of a directory that was gone by the time it went in, or was no directory any
# more ("Not a directory": swapped for a symlink or a file), even with -ignore_readdir_race:
# when that is all it said, the listing is whole for what still exists as it was.
if [ "$rc" = 1 ] && [ -s "$err" ] && ! grep -qvE ': (No such file or directory|Not a directory)$' "$err"; then rc=0; fi
cat "$err" >&2
rm -f "$err"
exit "$rc"
