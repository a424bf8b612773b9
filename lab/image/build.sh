#!/usr/bin/env bash
# Build the offline workload image (busybox-static + the static memload program) and import it
# into the Docker daemon at $1 as migrate-workload:latest. No registry is needed. Skips the
# import when the daemon already has an image built from the same binaries.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOCK=${1:?usage: build.sh DOCKER_HOST}
IMAGE=${MIGRATE_LAB_IMAGE:-migrate-workload:latest}
ROOT=$(cd "$HERE/../.." && pwd)
MEMLOAD=$ROOT/build/memload
BUSYBOX=/bin/busybox
# shellcheck source=lab/image/busybox-rootfs.sh
source "$HERE/busybox-rootfs.sh"

"$HERE/../workload/build.sh" "$MEMLOAD" >&2
hash=$(cat "$MEMLOAD" "$BUSYBOX" | sha256sum | cut -c1-16)
have=$(docker -H "$SOCK" image inspect -f '{{index .Config.Labels "migrate.lab.hash"}}' "$IMAGE" 2>/dev/null || true)
[[ $have == "$hash" ]] && exit 0

rootfs=$(mktemp -d /tmp/migrate-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
busybox_rootfs "$rootfs" var/log
cp "$MEMLOAD" "$rootfs/usr/local/bin/memload"
tar --numeric-owner -C "$rootfs" -c . | docker -H "$SOCK" import \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/memload"]' \
  --change "LABEL migrate.lab.hash=$hash" - "$IMAGE" >/dev/null
echo "image: $IMAGE imported into $SOCK" >&2
