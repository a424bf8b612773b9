#!/bin/sh
# write-file.sh: writes stdin into a file that is private while it is written, then gives it its
# mode.
#
# Arguments:
#   $1  the file
#   $2  its mode (chmod's octal form)
# Stdin:   the content
# Stdout:  nothing
# Exit:
#   0  written
#   *  otherwise the status of the redirect, cat or chmod
umask 077 && cat > "$1" && chmod "$2" "$1"
