#!/usr/bin/env bash
# can-connect.sh: whether this host opens a TCP connection to an address and port (then hangs up).
#
# Arguments:
#   $1  the address (IPv4)
#   $2  the port
#   $3  seconds to wait for it at most
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  connected
#   *  refused, unreachable, filtered (timed out: 124)
# shellcheck disable=SC2016 # bash expands its own $0 and $1
exec timeout "$3" bash -c 'exec 3<> "/dev/tcp/$0/$1"' "$1" "$2" 2> /dev/null
