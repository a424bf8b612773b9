#!/bin/sh
# remove-stale-dirs.sh: removes the checkpoint directories an earlier run of the same workload
# left behind under the work root: PREFIX-TIME exactly, TIME being all digits (Date.now()), so
# that another workload whose name starts the same way (runc-web-2-TIME for prefix runc-web) is
# never touched.
#
# Arguments:
#   $1  the work root
#   $2  the run prefix
# Stdin:   not read
# Stdout:  nothing
# Exit:
#   0  removed (or there were none)
#   *  otherwise rm's status
for d in "$1/$2"-*; do
  case ${d#"$1/$2"-} in
    '' | *[!0-9]*) continue ;;
  esac
  rm -rf -- "$d" || exit
done
exit 0
