#!/bin/sh
# read-proc-stat.sh: a process's /proc/PID/stat line (its state and start time among the
# fields), or nothing when there is no such process.
#
# Arguments:
#   $1  the PID
# Stdin:   not read
# Stdout:  the stat line
# Exit:
#   0  read
#   1  no such process
cat /proc/"$1"/stat 2>/dev/null
