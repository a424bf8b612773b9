#!/bin/sh
# sum-rss.sh: the resident memory of a set of processes (a container's, as Docker lists them):
# what their checkpoint will roughly weigh.
#
# Arguments:
#   $1...  the PIDs (one that has ended counts 0)
# Stdin:   not read
# Stdout:  the sum of their VmRSS, in KiB
# Exit:
#   0  summed
#   *  otherwise awk's status
for p; do grep VmRSS /proc/"$p"/status 2> /dev/null; done | awk '{s+=$2} END {print s+0}'
