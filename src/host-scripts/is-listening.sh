#!/bin/sh
# is-listening.sh: whether something listens on a TCP port of the host's network namespace
# (IPv4, any address: a LISTEN row of /proc/net/tcp).
#
# Arguments:
#   $1  the port
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  something listens there
#   1  nothing does
#   2  /proc/net/tcp cannot be read
grep -qi ":$(printf %04X "$1") 00000000:0000 0A" /proc/net/tcp
