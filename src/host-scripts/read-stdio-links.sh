#!/bin/sh
# read-stdio-links.sh: what a process's stdin, stdout and stderr are (the targets of its fds
# 0-2), as runc records them in descriptors.json.
#
# Arguments:
#   $1  the PID
# Stdin:   not read
# Stdout:  three lines: the targets of fds 0, 1 and 2
# Exit:
#   0  read
#   *  otherwise readlink's status for fd 2
for f in 0 1 2; do readlink /proc/"$1"/fd/$f; done
