#!/bin/sh
# make-private-dir.sh: makes a directory only root uses (0700) when nothing is at its path, and
# tells what is there now — migrate decides whether it is safe (private-dir.ts) — and the free
# space of its filesystem. A symlink at the path is reported as such, never followed or replaced.
#
# Arguments:
#   $1  the directory
# Stdin:   not read
# Stdout:  line 1: "TYPE|UID|OWNER|MODE" of $1 itself (stat -c '%F|%u|%U|%a'; TYPE is "directory",
#          "symbolic link", ...; MODE in octal); line 2: df -Pk's row for $1 (the fourth field:
#          KiB available), empty if df cannot tell
# Exit:
#   0  made or found, and described
#   *  otherwise mkdir's or stat's status
# shellcheck disable=SC2174 # only the directory itself must be private; parents made on the way keep the umask's mode
if [ ! -e "$1" ] && [ ! -L "$1" ]; then
  mkdir -p -m 0700 "$1" || exit
fi
stat -c '%F|%u|%U|%a' -- "$1" || exit
df -Pk -- "$1" 2> /dev/null | tail -n 1
