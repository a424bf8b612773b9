#!/bin/sh
# restore-runc-conf.sh: undoes override-runc-conf.sh: puts the backup back, or removes runc.conf
# when there was no file before.
#
# Arguments:
#   $1  runc.conf
#   $2  the backup of the previous file
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  restored
#   *  otherwise mv's or rm's status
if [ -e "$2" ]; then mv -f "$2" "$1"; else rm -f "$1"; fi
