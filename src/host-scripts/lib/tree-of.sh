#!/bin/sh
# A function for host scripts, not a script: a host script that sources this file with
#   . "$(dirname "$0")/lib/tree-of.sh"
# gets it inlined in its place by the script loader (transports/host-scripts/load.ts), so the
# host still receives one self-contained body.
#
# tree_of PID: the tree's PIDs, PID first, one per line, parents before their children, from the
# kernel's lists of each thread's children (which CRIU needs too), read by the shell itself:
# pgrep -P started a command per process, ~11 ms each on the lab's hosts. The lists are expanded
# before the recursion reuses the names. A process that is gone prints its own PID only.
# Variables: _tree_t, _tree_kids, _tree_c (global, as every shell variable is).
tree_of() {
  echo "$1"
  for _tree_t in /proc/"$1"/task/*/children; do
    _tree_kids=
    [ -r "$_tree_t" ] && read -r _tree_kids < "$_tree_t" 2> /dev/null
    for _tree_c in $_tree_kids; do tree_of "$_tree_c"; done
  done
}
