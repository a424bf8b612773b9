#!/bin/sh
# freeze-started.sh: when CRIU began freezing the workload, from its dump's log. CRIU stamps each
# line with the time since it started (`(SS.UUUUUU) ...`) and logs "Detected cgroup V1 freezer"
# (or V2) as its freezing stage starts (seize.c, collect_pstree); the log's mtime is when its
# last line was written. The controller takes the difference of the two stamps off the mtime.
# (Not CRIU's stats: a lazy dump's stats-dump holds nonsense times.)
#
# Arguments:
#   $1  the dump's log (dump.log in its work dir)
# Stdin:   not read
# Stdout:  `MTIME FREEZING LAST`: the log's mtime (seconds since the epoch, with nanoseconds),
#          the stamp of the line that opens the freezing stage, and the stamp of the last line
# Exit:
#   0  printed
#   1  the log has no such line (not a dump's log, or too little verbosity: it needs -v4)
#   2  the log cannot be read
[ -r "$1" ] || exit 2
when=$(date -r "$1" '+%s.%N') || exit 2
awk -v when="$when" '
  /^\([0-9]+\.[0-9]+\) / { t = substr($1, 2, length($1) - 2); last = t }
  /Detected cgroup V[12] freezer/ && start == "" { start = t }
  END { if (start == "") exit 1; print when, start, last }' "$1"
