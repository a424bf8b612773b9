#!/bin/sh
# remove-restore-copies.sh: removes the copies containerd made of a Docker checkpoint to restore
# it. containerd extracts the checkpoint it restores into a temp directory, ctrd-checkpointNNN
# under its $XDG_RUNTIME_DIR, else its $TMPDIR, else /tmp, and never removes it
# (containerd/containerd#10166): one per `docker start --checkpoint`, the whole checkpoint when
# the images are in it. A copy is known by its descriptors.json, whose modification time
# (whole seconds: the archive keeps no more) the caller set to STAMP, a value no other file has.
# Copies another run stamped (a stamp in [FIRST, LAST]) and left more than 10 minutes ago (it
# died during its restore) go too; a younger one may belong to a restore still under way.
#
# Arguments:
#   $1  STAMP: seconds since the epoch
#   $2  FIRST, $3 LAST: the range every run's stamp is drawn from
# Stdin:   not read
# Stdout:  how many copies were removed
# Exit:
#   0  removed (or there were none)
#   *  otherwise rm's status
stamp=$1 first=$2 last=$3
stale=$(($(date +%s) - 600))
dirs=/tmp
for p in $(pgrep -x containerd); do
  [ -r "/proc/$p/environ" ] || continue
  # Its XDG_RUNTIME_DIR, else its TMPDIR (the first of each), from one read of its environment.
  d=$(tr '\0' '\n' < "/proc/$p/environ" | awk '
    /^XDG_RUNTIME_DIR=/ && x == "" { x = substr($0, 17) }
    /^TMPDIR=/ && t == "" { t = substr($0, 8) }
    END { print (x != "" ? x : t) }')
  dirs="$dirs
${d:-/tmp}"
done
removed=0
IFS='
'
for d in $(printf '%s\n' "$dirs" | sort -u); do
  for c in "$d"/ctrd-checkpoint*; do
    if [ -L "$c" ] || [ ! -f "$c/descriptors.json" ]; then continue; fi
    t=$(stat -c %Y "$c/descriptors.json") || continue
    if [ "$t" != "$stamp" ]; then
      if [ "$t" -lt "$first" ] || [ "$t" -gt "$last" ] || [ "$(stat -c %Y "$c")" -ge "$stale" ]; then continue; fi
    fi
    rm -rf -- "$c" || exit
    removed=$((removed + 1))
  done
done
echo "$removed"
