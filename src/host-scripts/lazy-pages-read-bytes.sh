#!/bin/sh
# lazy-pages-read-bytes.sh: the bytes a CRIU lazy-pages daemon has read so far (its rchar in
# /proc/PID/io: the memory it pulled from its page server, plus its few image files).
#
# Arguments:
#   $1  a directory on the daemon's command line (the run's work directory)
# Stdin:   not read
# Stdout:  the bytes, one line
# Exit:
#   0  printed
#   1  no such daemon (not started yet, or ended)
pid=$(pgrep -o -f "(^|/)criu lazy-pages .*$1") || exit 1
sed -n 's/^rchar: //p' "/proc/$pid/io"
