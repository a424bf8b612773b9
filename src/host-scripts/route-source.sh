#!/bin/sh
# route-source.sh: the address this host sends from when it talks to another address (the
# `src` of its route there).
#
# Arguments:
#   $1  the other address (IPv4)
# Stdin:   not read
# Stdout:  the address, one line
# Exit:
#   0  printed
#   1  no route, or no `src` in it
#   127  no `ip` command (iproute2)
out=$(ip -o -4 route get "$1") || exit $?
src=$(printf '%s\n' "$out" | sed -n 's/.* src \([0-9.]*\).*/\1/p')
[ -n "$src" ] || exit 1
echo "$src"
