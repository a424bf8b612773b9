#!/bin/sh
# probe-tree.sh: what CRIU will meet in a process tree, read before anything is frozen: the
# caller's own IDs and capabilities, each process's IDs and sockets, and the TCP tables of each
# network namespace once. Processes that end meanwhile are skipped.
#
# Arguments:
#   $1...  the PIDs
# Stdin:   not read
# Stdout:  first the caller's Uid, Gid and CapEff lines of /proc/self/status, each after "C ";
#          then per PID: "P PID", its Uid and Gid lines, "S socket:[INODE]" per socket fd; for
#          the first PID of each network namespace also "T PID" and its /proc/net/tcp and tcp6
# Exit:
#   0  always
awk '/^(Uid|Gid|CapEff):/ {print "C " $0}' /proc/self/status
seen=' '
for p; do
  s=$(cat /proc/"$p"/status 2>/dev/null) || continue
  echo "P $p"; printf '%s\n' "$s" | grep -E '^(Uid|Gid):'
  find /proc/"$p"/fd -lname 'socket:*' -printf 'S %l\n' 2>/dev/null
  ns=$(readlink /proc/"$p"/ns/net) || continue
  case $seen in *" $ns "*) continue ;; esac
  seen="$seen$ns "
  echo "T $p"; cat /proc/"$p"/net/tcp /proc/"$p"/net/tcp6 2>/dev/null
done
true
