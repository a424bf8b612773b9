#!/bin/sh
# list-missing-paths.sh: which of the given paths do not exist on the host (devices a container
# uses, for example).
#
# Arguments:
#   $1...  the paths
# Stdin:   not read
# Stdout:  one line per path that does not exist
# Exit:
#   0  always
for p; do [ -e "$p" ] || echo "$p"; done
