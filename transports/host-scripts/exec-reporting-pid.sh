#!/bin/sh
# exec-reporting-pid.sh: runs a command as this shell's own process, after reporting the PID on
# stderr, so the controller can kill it (and its process group) later: SSH offers no reliable
# way to signal a remote command.
#
# Arguments:
#   $1...  the command and its arguments
# Stdin:   the command's
# Stdout:  the command's
# Stderr:  first line "migrate-remote-pid=PID" (PID_TAG in ssh-transport.ts), then the command's
# Exit:
#   *  the command's status (127: not found)
echo "migrate-remote-pid=$$" >&2
exec "$@"
