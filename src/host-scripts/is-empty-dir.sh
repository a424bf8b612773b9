#!/bin/sh
# is-empty-dir.sh: whether a path is missing, or a directory with nothing in it.
#
# Arguments:
#   $1  the path
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  $1 is missing, or an empty directory
#   1  $1 holds something, or is not a directory
[ ! -e "$1" ] || [ -d "$1" ] && [ -z "$(ls -A "$1" 2>/dev/null)" ]
