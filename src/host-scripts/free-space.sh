#!/bin/sh
# free-space.sh: the free blocks and inodes of the filesystem that holds a directory.
#
# Arguments:
#   $1  the directory
# Stdin:   not read
# Stdout:  df -Pk's header and row for $1, then df -Pi's
# Exit:
#   0  measured
#   *  otherwise df's status
df -Pk "$1" && df -Pi "$1"
