#!/bin/sh
# write-file.sh: writes stdin into a file that is private while it is written, then gives it its
# mode and, when given, its modification time.
#
# Arguments:
#   $1  the file
#   $2  its mode (chmod's octal form)
#   $3  optional: its modification time, in seconds since the epoch
# Stdin:   the content
# Stdout:  nothing
# Exit:
#   0  written
#   *  otherwise the status of the redirect, cat, chmod or touch
umask 077 && cat > "$1" && chmod "$2" "$1" && { [ -z "${3:-}" ] || touch -d "@$3" -- "$1"; }
