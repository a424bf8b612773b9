#!/bin/sh
# sum-container-rss.sh: the resident memory of a container's processes (every process docker top
# lists), roughly what its checkpoint will weigh.
#
# Arguments:
#   $1  the container (name or ID)
# Stdin:   not read
# Stdout:  the sum of their VmRSS, in KiB
# Exit:
#   0  summed
#   *  otherwise awk's status
for p in $(docker top "$1" -eo pid | tail -n +2); do grep VmRSS /proc/"$p"/status; done | awk '{s+=$2} END {print s+0}'
