#!/bin/sh
# find-runc-state.sh: finds runc's state.json of a Docker container
# (<dockerd exec-root>/runtime-runc/moby/ID/state.json, under /run unless dockerd runs with
# --exec-root elsewhere).
#
# Arguments:
#   $1  the container's full ID
# Stdin:   not read
# Stdout:  the path of its state.json, or nothing when none was found
# Exit:
#   0  searched (found or not)
#   *  otherwise head's status
find /run /var/run -maxdepth 8 -path "*/runtime-runc/moby/$1/state.json" 2>/dev/null | head -n 1
