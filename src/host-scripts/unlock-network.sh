#!/bin/sh
# unlock-network.sh: removes the network lock CRIU's dump left in a workload's own network
# namespace. A dump that leaves the workload stopped (leave-stopped) also leaves its namespace
# locked (CRIU's chain, or nftables table, drops every packet), so a workload that resumes on the
# source after a failed move would run cut off from the network: the rollback calls this first.
# A workload in the host's namespace (this script's own) has no such lock: nothing is touched.
#
# Arguments:
#   $1  a PID of the workload (a container's init)
# Stdin:   not read
# Stdout:  what was removed, one line each ("iptables CRIU", "ip6tables CRIU", "nft inet CRIU-…")
# Exit:
#   0  no lock left (none was there, the host's namespace, or removed)
#   1  a lock could not be removed (the commands' errors on stderr)
#   4  the process is gone
#   *  otherwise nsenter's status
ns=$(readlink "/proc/$1/ns/net") || exit 4
host=$(readlink /proc/$$/ns/net)
[ -n "$ns" ] && [ "$ns" != "$host" ] || exit 0
# shellcheck disable=SC2016 # expanded inside the namespace's shell
exec nsenter -t "$1" -n sh -c '
rc=0
for t in iptables ip6tables; do
  command -v "$t" > /dev/null 2>&1 || continue
  "$t" -n -L CRIU > /dev/null 2>&1 || continue
  while "$t" -D INPUT -j CRIU 2> /dev/null; do :; done
  while "$t" -D OUTPUT -j CRIU 2> /dev/null; do :; done
  if "$t" -F CRIU && "$t" -X CRIU; then echo "$t CRIU"; else rc=1; fi
done
if command -v nft > /dev/null 2>&1; then
  nft list tables 2> /dev/null | while read -r kw family name; do
    case "$kw:$name" in
      table:CRIU*) if nft delete table "$family" "$name"; then echo "nft $family $name"; else exit 1; fi ;;
    esac
  done || rc=1
fi
exit "$rc"'
