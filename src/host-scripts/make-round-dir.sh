#!/bin/sh
# make-round-dir.sh: makes a pre-copy round's private directory (0700) on the target and, from
# the second round on, its `parent` link to the round before (the chain CRIU reads on restore;
# on the source CRIU makes the link itself).
#
# Arguments:
#   $1  the round's directory
#   $2  the link's target, relative to $1 ("../pre-0"), or empty for the first round
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  made
#   *  otherwise mkdir's or ln's status
# shellcheck disable=SC2174 # -m applies to the deepest directory only, but umask 077 makes every parent private too
umask 077 && mkdir -p -m 0700 "$1" && { [ -z "$2" ] || ln -sfn "$2" "$1/parent"; }
