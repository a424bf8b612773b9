#!/bin/sh
# wait-listening.sh: waits until something listens on a TCP port of the host's network namespace
# (IPv4, any address: a LISTEN row of /proc/net/tcp), looking every few milliseconds: one
# command for the whole wait, where a command per look costs its start-up each time.
#
# Arguments:
#   $1  the port
#   $2  the longest wait, in whole seconds
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  something listens there
#   1  nothing did within $2 seconds
row=":$(printf %04X "$1") 00000000:0000 0A"
end=$(( $(date +%s) + $2 ))
until grep -qi "$row" /proc/net/tcp; do
  [ "$(date +%s)" -lt "$end" ] || exit 1
  sleep 0.003
done
