#!/bin/sh
# override-runc-conf.sh: replaces runc.conf with the override on stdin and keeps the previous
# file as the backup. A file that starts with the marker was left by a run that died mid-way: its
# backup is put back (or the file removed) first, so the backup always holds the real previous
# content. Run under the runc.conf lock, which made runc.conf's directory (lockRuncConf).
#
# Arguments:
#   $1  runc.conf
#   $2  the backup of the previous file (removed when there was none)
#   $3  the marker: the first line of every override
# Stdin:   the override's content
# Stdout:  nothing
# Exit:
#   0  the override is in place
#   *  otherwise the status of the command that failed (set -e)
set -e
if [ -e "$1" ] && [ "$(head -n 1 "$1")" = "$3" ]; then
  if [ -e "$2" ]; then mv -f "$2" "$1"; else rm -f "$1"; fi
fi
if [ -e "$1" ]; then cp -p "$1" "$2"; else rm -f "$2"; fi
cat > "$1"
