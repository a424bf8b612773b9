#!/bin/sh
# restore-stale-runc-conf.sh: puts runc.conf back when it still holds an override of migrate's
# (its first line is the marker) that no run holds any more: the caller holds runc.conf's lock.
#
# Arguments:
#   $1  runc.conf
#   $2  the backup of the previous file
#   $3  the marker (the first line of every override)
# Stdin:   not read
# Stdout:  "restored" when it put the previous file back (or removed an override that had none)
# Exit:
#   0  done (restored or nothing to do)
#   *  otherwise mv's or rm's status
if [ -e "$1" ] && [ "$(head -n 1 "$1")" = "$3" ]; then
  if [ -e "$2" ]; then mv -f "$2" "$1"; else rm -f "$1"; fi
  echo restored
fi
