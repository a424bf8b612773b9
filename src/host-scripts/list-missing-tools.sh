#!/bin/sh
# list-missing-tools.sh: which of the given commands the host lacks.
#
# Arguments:
#   $1...  the command names
# Stdin:   not read
# Stdout:  one line per command that is not found
# Exit:
#   0  always
for c; do command -v "$c" >/dev/null || echo "$c"; done
