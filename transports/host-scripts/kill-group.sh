#!/bin/sh
# kill-group.sh: kills a process's whole process group with SIGKILL (its pgrp read from
# /proc/PID/stat, after the comm field), or the process alone when it has no group of its own
# to kill.
#
# Arguments:
#   $1  the PID
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  killed
#   *  otherwise kill's status (e.g. the process is gone)
pg=$(sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -d" " -f3)
if [ -n "$pg" ] && [ "$pg" -gt 1 ]; then kill -KILL -- "-$pg" 2>/dev/null || kill -KILL "$1"; else kill -KILL "$1"; fi
