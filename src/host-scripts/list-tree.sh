#!/bin/sh
# list-tree.sh: lists a directory tree entry by entry as find sees it (without following
# symlinks), after the host's clock. An entry that vanishes between readdir and stat (the
# workload still runs) is left out, not an error.
#
# Arguments:
#   $1  the tree's root
#   $2  find's -printf format of one entry (NUL-terminated)
# Stdin:   not read
# Stdout:  the host's clock (date +%s.%N), a NUL, then one record per entry ("." is the root)
# Exit:
#   0  listed
#   3  EXIT.CANNOT_ENTER: $1 cannot be entered
#   *  otherwise find's status
cd "$1" || exit 3
date +%s.%N
printf "\0"
find . -ignore_readdir_race -printf "$2"
