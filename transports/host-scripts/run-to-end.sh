#!/bin/sh
# run-to-end.sh: runs a command so that the controller going away cannot cut it short (a
# checkpoint or a restore half-done would leave the workload wedged): the command ignores
# SIGHUP and SIGPIPE, runs in a session of its own with stdin from /dev/null, and writes its
# output to private files on the host, never to the connection; once it ended, the output is
# printed and this script exits with its status. Killing this script leaves the command running.
#
# Arguments:
#   $1...  the command and its arguments
# Stdin:   not read
# Stdout:  the command's, once it ended
# Stderr:  the command's, once it ended
# Exit:
#   1  no temporary file for the output (mktemp failed)
#   *  otherwise the command's status (127: not found)
trap '' HUP PIPE
out=$(mktemp) && err=$(mktemp) || exit 1
setsid "$@" < /dev/null > "$out" 2> "$err" &
wait $!
rc=$?
cat "$out"
cat "$err" >&2
rm -f "$out" "$err"
exit "$rc"
