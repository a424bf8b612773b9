#!/bin/sh
# lock-host.sh: takes a host-wide lock and holds it until stdin closes (when migrate releases it,
# or dies, or loses its connection), so a crash never leaves the host locked.
#
# Arguments:
#   $1  the lock: a file (made when missing) or a directory
#   $2  how many seconds to wait for it (0: do not wait)
#   $3  optional: "dir" to make the directory $1 when missing (flock would make a file there)
# Stdin:   held open for as long as the lock is wanted; its content is discarded
# Stdout:  "locked" once the lock is held
# Exit:
#   0  released (stdin closed)
#   75 EXIT.LOCK_HELD: someone else holds the lock (flock -E)
#   *  otherwise mkdir's or flock's status (e.g. the lock cannot be opened)
if [ "${3:-}" = dir ]; then mkdir -p "$1" || exit; fi
exec flock -E 75 -w "$2" "$1" sh -c 'echo locked; exec cat > /dev/null'
