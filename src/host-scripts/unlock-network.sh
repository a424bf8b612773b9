#!/bin/sh
# unlock-network.sh: lifts the network lock CRIU's dump left on a workload it left stopped
# (leave-stopped skips CRIU's own network_unlock: cr-dump.c), so that a workload that resumes on
# the source after a failed move is not cut off: the rollback calls this first.
#   1. its own network namespace, if it has one: CRIU's chain (iptables, ip6tables) or nftables
#      table that drops every packet;
#   2. its TCP connections a `--tcp keep` dump (tcp-established) put in repair mode: out of it
#      again (TCP_REPAIR 0 on each socket, through pidfd_getfd: python3), and, in the host's
#      namespace, the two DROP rules CRIU added for each (iptables or ip6tables, marked 0xc114).
#      In repair mode a socket sends and acknowledges nothing: the connection would hang.
# Only what CRIU put there is touched: other workloads' rules and sockets are left alone.
#
# Arguments:
#   $1  a PID of the workload (a container's init, a tree's root): it and its descendants
# Stdin:   not read
# Stdout:  what was undone, one line each ("iptables CRIU", "nft inet CRIU-…",
#          "tcp repair off PID FD LOCAL PEER", "iptables rule LOCAL PEER")
# Exit:
#   0  nothing left (none was there, or undone)
#   1  something could not be undone (the errors on stderr)
#   4  the process is gone
rc=0
ns=$(readlink "/proc/$1/ns/net") || exit 4
host=$(readlink /proc/$$/ns/net)
if [ -n "$ns" ] && [ "$ns" != "$host" ]; then
  # shellcheck disable=SC2016 # expanded inside the namespace's shell
  nsenter -t "$1" -n sh -c '
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
  exit "$rc"' || rc=1
  own=1
else
  own=0
fi

# shellcheck source=src/host-scripts/lib/tree-of.sh
. "$(dirname "$0")/lib/tree-of.sh"
pids=$(tree_of "$1")
if ! command -v python3 > /dev/null 2>&1; then
  # Only a --tcp keep dump leaves sockets in repair mode; preflight requires python3 for it.
  exit "$rc"
fi
# shellcheck disable=SC2086 # one PID per word
python3 -c '
import ctypes, os, socket, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_PIDFD_OPEN, SYS_PIDFD_GETFD, TCP_REPAIR, SOCCR_MARK = 434, 438, 19, "0xc114"
own_netns = sys.argv[1] == "1"
rc = 0
def v4(addr):
    return addr[7:] if addr.startswith("::ffff:") else addr
def drop_rules(s):
    # cr-dump: INPUT from the peer to us and OUTPUT from us to the peer, each -j DROP unless marked
    local, peer = s.getsockname()[:2], s.getpeername()[:2]
    tool = "iptables" if s.family == socket.AF_INET or local[0].startswith("::ffff:") else "ip6tables"
    (la, lp), (pa, pp) = (v4(local[0]), local[1]), (v4(peer[0]), peer[1])
    for chain, src, sport, dst, dport in (("INPUT", pa, pp, la, lp), ("OUTPUT", la, lp, pa, pp)):
        rule = ["-t", "filter", "-D", chain, "--protocol", "tcp", "-m", "mark", "!", "--mark", SOCCR_MARK,
                "--source", src, "--sport", str(sport), "--destination", dst, "--dport", str(dport), "-j", "DROP"]
        while subprocess.run([tool, "-w", *rule], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            print(f"{tool} rule {la}:{lp} {pa}:{pp}")
for pid in map(int, sys.argv[2:]):
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        continue
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        fds = []
    for fd in fds:
        try:
            if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                continue
        except OSError:
            continue
        local = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
        if local < 0:
            continue
        try:
            s = socket.socket(fileno=local)
        except OSError:
            os.close(local)
            continue
        try:
            if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM and s.getsockopt(socket.SOL_TCP, TCP_REPAIR):
                if not own_netns:
                    drop_rules(s)
                s.setsockopt(socket.SOL_TCP, TCP_REPAIR, 0)
                print(f"tcp repair off {pid} {fd} {s.getsockname()[0]}:{s.getsockname()[1]} {s.getpeername()[0]}:{s.getpeername()[1]}")
        except OSError as e:
            print(f"unlock-network: socket {fd} of {pid}: {e}", file=sys.stderr)
            rc = 1
        finally:
            s.close()
    os.close(pidfd)
sys.exit(rc)
' "$own" $pids || rc=1
exit "$rc"
