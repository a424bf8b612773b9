#!/bin/sh
# describe-tree.sh: a process tree read from /proc: its root's PID namespace line, then every
# process (depth first, the root first) with its resident memory.
#
# Arguments:
#   $1  the root's PID
# Stdin:   not read
# Stdout:  the root's NSpid line of /proc/PID/status, then one line per process: "PID RSS_KIB"
# Exit:
#   0  described
#   *  otherwise the status of the last command of the walk
walk() {
  echo "$1 $(awk '/^VmRSS/ {print $2}' /proc/"$1"/status)"
  # shellcheck disable=SC2013 # children files hold space-separated PIDs: words are what is wanted
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do walk "$c"; done
}
grep "^NSpid" /proc/"$1"/status
walk "$1"
