#!/bin/sh
# make-work-root.sh: makes the work directory (0700) when missing and tells the free space of its
# filesystem.
#
# Arguments:
#   $1  the work directory
# Stdin:   not read
# Stdout:  df -Pk's row for $1 (the fourth field: KiB available)
# Exit:
#   0  made and measured
#   *  otherwise mkdir's or tail's status
# shellcheck disable=SC2174 # only the work directory itself must be private; parents made on the way keep the umask's mode
mkdir -p -m 0700 "$1" && df -Pk "$1" | tail -n 1
