#!/bin/sh
# list-pids-in-use.sh: which of the given PIDs a running process has on this host.
#
# Arguments:
#   $1...  the PIDs
# Stdin:   not read
# Stdout:  one line per PID in use
# Exit:
#   0  always
for p; do [ -d /proc/"$p" ] && echo "$p"; done
true
