#!/bin/sh
# make-dirs.sh: makes a migration's private directories (0700) and the symlink runc.conf names
# as the images directory.
#
# Arguments:
#   $1  the run's directory
#   $2  the images directory
#   $3  CRIU's work directory
#   $4  the symlink to make (or replace), pointing at $2
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  made
#   *  otherwise mkdir's or ln's status
# shellcheck disable=SC2174 # -m applies to the deepest directories only, but umask 077 makes every parent private too
umask 077 && mkdir -p -m 0700 "$1" "$2" "$3" && ln -sfn "$2" "$4"
