#!/bin/sh
# remove-stale-dirs.sh: removes the checkpoint directories an earlier run of the same workload
# left behind (PREFIX-* under the work root).
#
# Arguments:
#   $1  the work root
#   $2  the run prefix
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  removed (or there were none)
#   *  otherwise rm's status
rm -rf -- "$1/$2"-*
