#!/bin/sh
# list-file-sizes.sh: the regular files below a directory with their sizes.
#
# Arguments:
#   $1  the directory
# Stdin:   not read
# Stdout:  one line per regular file: "SIZE NAME", NAME relative to $1
# Exit:
#   0  listed
#   *  otherwise cd's or find's status
cd "$1" && find . -type f -printf "%s %P\n"
