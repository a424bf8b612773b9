# Sourced by the lab's image builders (after they set BUSYBOX): busybox_rootfs DIR [SUBDIR...] lays out a minimal root filesystem in
# DIR: the usual directories (plus any named after DIR), a sticky /tmp, busybox-static with a link
# per applet, and root in /etc/passwd.
busybox_rootfs() {
  local root=$1 applet; shift
  mkdir -p "$root"/{bin,usr/local/bin,tmp,proc,sys,dev,etc}
  for d in "$@"; do mkdir -p "$root/$d"; done
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
}
