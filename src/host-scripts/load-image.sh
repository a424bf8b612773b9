#!/bin/sh
# load-image.sh: loads a container image into Docker from a zstd-compressed `docker save`
# stream (Docker checks the layers' digests while it loads them).
#
# Arguments: none
# Stdin:   the output of docker save, zstd-compressed
# Stdout:  docker load's (quiet) report
# Exit:
#   0  loaded
#   *  otherwise docker load's status
zstd -d -q -c | docker load -q
