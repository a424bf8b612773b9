#!/usr/bin/env bash
# wait-listening.sh: waits until something listens on a TCP port of the host's network namespace
# (IPv4, any address: a LISTEN row of /proc/net/tcp), looking every ~5 ms: one command for the
# whole wait, where a command per look costs its start-up each time. A look starts no process
# (bash builtins alone): it runs beside a CRIU dump on the same CPUs. What a look costs is the
# kernel writing out /proc/net/tcp (~1.6 ms of system time in the lab; more on a host with many
# connections).
#
# Arguments:
#   $1  the port
#   $2  the longest wait, in whole seconds (±1)
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  something listens there
#   1  nothing did within $2 seconds
#   2  /proc/net/tcp cannot be read
row=":$(printf %04X "$1") 00000000:0000 0A"
end=$((SECONDS + $2))
# A pipe held open at both of its ends never has data: `read -t` on it sleeps without a process.
exec 3<> <(:)
while :; do
  tcp=
  # read -d '' reads to the end (no NUL in the file) and then fails: only an empty result is an error.
  IFS= read -r -d '' tcp < /proc/net/tcp 2> /dev/null
  [ -n "$tcp" ] || exit 2
  [[ $tcp == *"$row"* ]] && exit 0
  ((SECONDS < end)) || exit 1
  read -r -t 0.005 -u 3
done
