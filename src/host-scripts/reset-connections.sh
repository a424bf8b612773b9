#!/bin/sh
# reset-connections.sh: resets every established TCP connection in a stopped workload's own
# network namespace (ss -K: the kernel's SOCK_DESTROY sends the peer a reset). After a move with
# --tcp close, the clients of the source copy, which stays stopped there (post-copy serves its
# memory for a while), learn at once that their connection is gone and reconnect, instead of
# waiting on a peer that never answers. Nothing is touched unless the namespace is the workload's
# alone: not the host's, and no process in it runs (every one is stopped).
#
# Arguments:
#   $1  a PID of the workload (a container's init)
# Stdin:   not read
# Stdout:  how many connections were reset, one line
# Exit:
#   0  done (none, when it had none)
#   4  the process is gone
#   5  EXIT.NOT_ITS_OWN_NETNS: the namespace is not the workload's alone: it is the host's (the
#      one this script runs in), or a process that runs (not stopped) is in it; nothing touched
#   *  otherwise nsenter's or ss's status (127: not installed)
ns=$(readlink "/proc/$1/ns/net") || exit 4
# The host's namespace is the one this script runs in (PID 1's may be unreadable, or another's).
host=$(readlink /proc/$$/ns/net)
[ -n "$ns" ] && [ -n "$host" ] && [ "$ns" != "$host" ] || exit 5
# Every process in that namespace: "net:[N]" as a pattern (its brackets are glob characters).
pattern=$(printf '%s' "$ns" | tr '[]' '??')
pids=$(find /proc/[0-9]*/ns/net -maxdepth 0 -lname "$pattern" 2> /dev/null | cut -d/ -f3)
for pid in $pids; do
  stat=$(cat "/proc/$pid/stat" 2> /dev/null) || continue
  state=${stat##*) }; state=${state%% *}
  case $state in T | t | X | Z) ;; *) exit 5 ;; esac
done
# The dump left the namespace locked (CRIU's chain drops every packet until the rollback lifts it,
# unlock-network.sh): the resets alone may leave, for as long as ss takes to send them.
# shellcheck disable=SC2016 # expanded inside the namespace's shell
out=$(nsenter -t "$1" -n sh -c '
allow() { for t in iptables ip6tables; do command -v "$t" > /dev/null 2>&1 && "$t" "$1" OUTPUT -p tcp --tcp-flags RST RST -j ACCEPT 2> /dev/null; done; return 0; }
allow -I
ss -K -H -tn state established; rc=$?
allow -D
exit "$rc"') || exit $?
n=$(printf '%s' "$out" | grep -c .)
echo "$n"
