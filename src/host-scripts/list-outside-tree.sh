#!/bin/sh
# list-outside-tree.sh: which of the given processes still run and do not descend from the main
# process (their parents are followed up to PID 1 through /proc/PID/stat).
#
# Arguments:
#   $1     the main PID
#   $2...  the PIDs to check
# Stdin:   not read
# Stdout:  one line per PID that runs outside the main process's tree
# Exit:
#   0  always
init=$1; shift
for p; do
  q=$p
  while [ "$q" -gt 1 ] && [ "$q" != "$init" ]; do
    q=$(sed 's/.*) //' /proc/"$q"/stat 2>/dev/null | cut -d' ' -f2)
    [ -n "$q" ] || break
  done
  [ "$q" != "$init" ] && [ -d /proc/"$p" ] && echo "$p"
done
true
