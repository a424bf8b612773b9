#!/bin/sh
# count-page-images.sh: what a page server wrote into a checkpoint directory: the bytes of its
# pages-*.img files and the number of its pagemap-*.img files.
#
# Arguments:
#   $1  the checkpoint's images directory
# Stdin:   not read
# Stdout:  two lines: the total size of pages-*.img in bytes, then how many pagemap-*.img exist
# Exit:
#   0  counted
#   *  otherwise cd's status
cd "$1" || exit
stat -c %s pages-*.img 2>/dev/null | awk '{s+=$1} END {print s+0}'
n=0
for f in pagemap-*.img; do [ -e "$f" ] && n=$((n + 1)); done
echo "$n"
