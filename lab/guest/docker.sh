#!/usr/bin/env bash
# Docker in the soft-dirty guest, for the Docker pre-copy test: copies this machine's dockerd,
# containerd, containerd-shim-runc-v2 and docker CLI (with their libraries) into the running
# guest, starts one dockerd per guest host and imports the lab's workload image into each.
# Idempotent: what is there already is left alone. Not part of the guest image: the binaries
# are ~180 MB, and only one test needs them (copying takes ~10 s, each dockerd ~3 s to start).
#   A: dockerd with the default paths (/var/run/docker.sock, /var/lib/docker).
#   B: started in B's mount namespace with its own data-root, exec-root and socket
#      (/var/run/docker-b.sock); B's sshd sets DOCKER_HOST to it (rootfs/etc/ssh/sshd_config_b).
# Both without iptables or a bridge (the guest has neither): containers use --network host.
# Usage: docker.sh up
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KEY=/var/lib/migrate-lab/id_ed25519
KNOWN_HOSTS=/var/lib/migrate-guest/known_hosts
PORT=${MIGRATE_GUEST_PORT:-2222}
PORT_B=${MIGRATE_GUEST_PORT_B:-$((PORT + 1))}
IMAGE=${MIGRATE_LAB_IMAGE:-migrate-workload:latest}
MEMLOAD=$ROOT/build/memload
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'guest-docker: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
on() { # on PORT CMD...
  local port=$1; shift
  ssh -i "$KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -p "$port" root@127.0.0.1 "$@"
}

[[ ${1:-} == up ]] || die "usage: docker.sh up"
[[ $(id -u) == 0 ]] || die "needs root"
"$HERE/guest.sh" up

# The binaries, at their paths here, and the libraries ldd lists for them.
BINS=()
for b in dockerd containerd containerd-shim-runc-v2 docker; do
  p=$(command -v "$b") || die "$b is missing on this machine: run lab/provision.sh"
  BINS+=("$p")
done
want=$(stat -L -c '%n %s' "${BINS[@]}" | sha256sum | cut -c1-16)
have=$(on "$PORT" 'cat /var/lib/migrate-guest-docker.stamp 2>/dev/null || true')
if [[ $have != "$want" ]]; then
  started=$SECONDS
  mapfile -t LIBS < <(ldd "${BINS[@]}" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
  tar -chf - "${BINS[@]}" "${LIBS[@]}" 2>/dev/null | zstd -q -3 \
    | on "$PORT" "zstd -dq | tar -C / -xf - && echo $want > /var/lib/migrate-guest-docker.stamp"
  log "copied ${#BINS[@]} binaries and ${#LIBS[@]} libraries in $((SECONDS - started)) s"
fi

# dockerd on A and B; wait until both answer.
DOCKERD_ARGS='--experimental --iptables=false --ip6tables=false --bridge=none --storage-driver overlay2'
start_a="docker -H unix:///var/run/docker.sock version >/dev/null 2>&1 || { setsid dockerd $DOCKERD_ARGS --pidfile /var/run/docker.pid > /var/log/dockerd.log 2>&1 < /dev/null & }"
start_b="docker -H unix:///var/run/docker-b.sock version >/dev/null 2>&1 || { setsid dockerd $DOCKERD_ARGS -H unix:///var/run/docker-b.sock --pidfile /var/run/docker-b.pid --data-root /var/lib/docker-b --exec-root /var/run/docker-b > /var/log/dockerd-b.log 2>&1 < /dev/null & }"
on "$PORT" "$start_a"
on "$PORT_B" "$start_b"
wait_up='for i in $(seq 240); do docker version >/dev/null 2>&1 && exit 0; sleep 0.25; done; echo "dockerd did not come up: see $1" >&2; exit 1'
on "$PORT" sh -c "'$wait_up'" wait /var/log/dockerd.log
on "$PORT_B" sh -c "'$wait_up'" wait /var/log/dockerd-b.log
[[ $(on "$PORT_B" 'docker info -f "{{.DockerRootDir}}"') == /var/lib/docker-b ]] \
  || die "host B's docker CLI does not reach B's dockerd (DOCKER_HOST in sshd_config_b?)"

# The workload image, as lab/image/build.sh makes it (busybox-static and memload), on both.
hash=$(cat "$MEMLOAD" /bin/busybox | sha256sum | cut -c1-16)
import='set -e
[ "$(docker image inspect -f "{{index .Config.Labels \"migrate.lab.hash\"}}" "$1" 2>/dev/null)" = "$2" ] && exit 0
r=$(mktemp -d); trap "rm -rf $r" EXIT
mkdir -p $r/bin $r/usr/local/bin $r/tmp $r/proc $r/sys $r/dev $r/etc $r/var/log
chmod 1777 $r/tmp
cp /usr/bin/busybox $r/bin/busybox
for a in $(busybox --list); do [ -e $r/bin/$a ] || ln -s busybox $r/bin/$a; done
cp /usr/local/bin/memload $r/usr/local/bin/memload
echo "root:x:0:0:root:/root:/bin/sh" > $r/etc/passwd
tar --numeric-owner -C $r -c . | docker import --change "ENV PATH=/usr/local/bin:/bin" \
  --change "ENTRYPOINT [\"/usr/local/bin/memload\"]" --change "LABEL migrate.lab.hash=$2" - "$1" >/dev/null'
for p in "$PORT" "$PORT_B"; do on "$p" sh -c "'$import'" import "$IMAGE" "$hash"; done
log "up: dockerd on the guest's hosts A and B, image $IMAGE"
