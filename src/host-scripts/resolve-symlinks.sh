#!/bin/sh
# resolve-symlinks.sh: which of the given paths are symbolic links, and to what real file. CRIU
# (4.2) cannot restore a bind mount whose source path is a symlink (mount-v2: "Can't remount ...
# with MS_PRIVATE: No such file or directory"), e.g. Debian's /usr/bin/docker-init -> tini-static
# for `docker run --init`; migrate then names the real file to CRIU instead.
#
# Arguments:
#   $1...  paths, or a bare command name (looked up in PATH, as dockerd finds docker-init)
# Stdin:   not read
# Stdout:  one line per argument that is a symlink: the argument, a tab, the real path
# Exit:
#   0  always
for p; do
  case "$p" in
    /*) path=$p ;;
    *) path=$(command -v "$p") || continue ;;
  esac
  [ -L "$path" ] && printf '%s\t%s\n' "$p" "$(readlink -f "$path")"
done
exit 0
