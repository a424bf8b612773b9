#!/usr/bin/env bash
# Build a Redis image from Debian's redis-server package (no registry is reachable here) and
# import it into the Docker daemon at $1 as migrate-redis:latest: the redis-server and redis-cli
# binaries, the shared libraries ldd lists for them, and busybox. Skips the import when the
# daemon already has an image built from the same files.
# Usage: redis.sh DOCKER_HOST   (exit 0: the image is there; 1: a binary is missing)
set -euo pipefail
SOCK=${1:?usage: redis.sh DOCKER_HOST}
IMAGE=${MIGRATE_LAB_REDIS_IMAGE:-migrate-redis:latest}
BUSYBOX=/bin/busybox
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/image/busybox-rootfs.sh
source "$HERE/busybox-rootfs.sh"
SERVER=$(readlink -f /usr/bin/redis-server)   # Debian ships it as a link to redis-check-rdb
CLI=$(readlink -f /usr/bin/redis-cli)
for f in "$SERVER" "$CLI" "$BUSYBOX"; do
  [[ -x $f ]] || { echo "redis image: $f is missing (lab/provision.sh installs redis-server)" >&2; exit 1; }
done

# Every file that goes in, resolved: the binaries, their libraries and the dynamic loader.
mapfile -t libs < <(ldd "$SERVER" "$CLI" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*[^:]$/ {print $1}' | sort -u)
hash=$( { cat "$SERVER" "$CLI" "$BUSYBOX"; for l in "${libs[@]}"; do readlink -f "$l"; done; } | sha256sum | cut -c1-16)
have=$(docker -H "$SOCK" image inspect -f '{{index .Config.Labels "migrate.lab.hash"}}' "$IMAGE" 2>/dev/null || true)
[[ $have == "$hash" ]] && exit 0

rootfs=$(mktemp -d /tmp/migrate-redis-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
busybox_rootfs "$rootfs" data
# redis-server decides what to be from argv[0]: the copy must be called redis-server.
cp "$SERVER" "$rootfs/usr/local/bin/redis-server"
cp "$CLI" "$rootfs/usr/local/bin/redis-cli"
for l in "${libs[@]}"; do
  mkdir -p "$rootfs$(dirname "$l")"
  cp -L "$l" "$rootfs$l"
done
echo 'root:x:0:' > "$rootfs/etc/group"
tar --numeric-owner -C "$rootfs" -c . | docker -H "$SOCK" import \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change 'WORKDIR /data' \
  --change 'ENTRYPOINT ["/usr/local/bin/redis-server"]' \
  --change 'CMD ["--protected-mode", "no", "--save", "", "--appendonly", "no", "--enable-debug-command", "yes"]' \
  --change "LABEL migrate.lab.hash=$hash" - "$IMAGE" >/dev/null
echo "image: $IMAGE imported into $SOCK" >&2
