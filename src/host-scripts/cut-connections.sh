#!/bin/sh
# cut-connections.sh: ends (ss -K, the kernel's socket destroy) this host's TCP connections to a
# remote address and port, or from a local address and port: a CRIU stuck in a TLS handshake
# with whoever caught its page channel's port then fails at once instead of waiting for good.
#
# Arguments:
#   $1  "to" (connections whose peer is $2:$3) or "from" (whose local end is $2:$3)
#   $2  the address (IPv4)
#   $3  the port
# Stdin:   not read
# Stdout:  the connections ended, as ss lists them
# Exit:
#   0  done (also when none matched)
#   2  $1 is neither "to" nor "from"
#   *  otherwise ss's status (a kernel without CONFIG_INET_DIAG_DESTROY ends nothing)
case "$1" in
  to) exec ss -H -t -K dst "$2" dport = ":$3" ;;
  from) exec ss -H -t -K src "$2" sport = ":$3" ;;
  *) echo "cut-connections.sh: to or from, not $1" >&2; exit 2 ;;
esac
