#!/usr/bin/env bash
# The two-host lab: host A is this machine's root network namespace, host B a network namespace
# (and its own mount namespace, so /etc/criu and /var/lib/migrate are B's own) joined to A by a
# veth pair. Each host runs its own sshd and dockerd.  Usage: lab.sh up|down|env|status
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=/var/lib/migrate-lab          # keys, B's docker data, B's private directories
RUN=/run/migrate-lab                # pids, sockets, namespace handles
LOGS=/var/log/migrate-lab
NETNS=migrate-b
A_IP=10.231.0.1 B_IP=10.231.0.2 PREFIX=24
A_DOCKER=unix:///var/run/docker.sock
B_DOCKER=unix://$RUN/b/docker.sock
B_MNTNS=$RUN/ns/mnt-b
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
IN_B=(nsenter --net=/run/netns/$NETNS --mount="$B_MNTNS")
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS WHAT CMD...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what did not come up in time"
    sleep 0.2
  done
}

keys() {
  mkdir -p "$STATE" && chmod 0700 "$STATE"
  [[ -f $STATE/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C migrate-lab -f "$STATE/id_ed25519"
  install -m 0600 "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
  local h
  for h in a b; do
    mkdir -p "$STATE/$h" && chmod 0700 "$STATE/$h"
    [[ -f $STATE/$h/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C "migrate-lab-$h" -f "$STATE/$h/ssh_host_ed25519_key"
  done
  { echo "$A_IP $(cut -d' ' -f1,2 "$STATE/a/ssh_host_ed25519_key.pub")"
    echo "$B_IP $(cut -d' ' -f1,2 "$STATE/b/ssh_host_ed25519_key.pub")"; } > "$STATE/known_hosts"
}

network() {
  [[ -e /run/netns/$NETNS ]] || ip netns add "$NETNS"
  if ! ip link show mlab-a >/dev/null 2>&1; then
    ip link add mlab-a type veth peer name mlab-b
    ip link set mlab-b netns "$NETNS"
  fi
  ip addr replace "$A_IP/$PREFIX" dev mlab-a && ip link set mlab-a up
  ip -n "$NETNS" addr replace "$B_IP/$PREFIX" dev mlab-b
  ip -n "$NETNS" link set mlab-b up && ip -n "$NETNS" link set lo up
}

# B's mount namespace: a slave of A's (B sees A's mounts) that is shared within itself (as a
# normal host's / is), with B's own /etc/criu, /var/lib/migrate and /root bind-mounted over A's
# (A's /root may hold a slow .bashrc, which sshd's `bash -c` would run before every command).
mount_namespace() {
  mkdir -p "$RUN/ns" "$STATE/b/etc-criu" "$STATE/b/var-lib-migrate" "$STATE/b/root" /etc/criu /var/lib/migrate
  chmod 0700 "$STATE/b/root" "$STATE/b/var-lib-migrate"
  mountpoint -q "$RUN/ns" || { mount --bind "$RUN/ns" "$RUN/ns"; mount --make-private "$RUN/ns"; }
  if ! nsenter --mount="$B_MNTNS" true 2>/dev/null; then
    touch "$B_MNTNS"
    unshare --mount="$B_MNTNS" --propagation slave true
    nsenter --mount="$B_MNTNS" sh -ec "
      mount --make-rshared /
      mount --bind '$STATE/b/etc-criu' /etc/criu
      mount --bind '$STATE/b/var-lib-migrate' /var/lib/migrate
      mount --bind '$STATE/b/root' /root"
  fi
}

sshd_up() { # sshd_up HOST IP [RUNNER...]
  local h=$1 ip=$2; shift 2
  alive "$RUN/$h/sshd.pid" && return
  mkdir -p /run/sshd "$RUN/$h" "$LOGS"
  local env=()
  [[ $h == b ]] && env=(-o "SetEnv=DOCKER_HOST=$B_DOCKER")
  "$@" /usr/sbin/sshd -f /dev/null -E "$LOGS/sshd-$h.log" \
    -o "HostKey=$STATE/$h/ssh_host_ed25519_key" -o "ListenAddress=$ip:22" \
    -o "PidFile=$RUN/$h/sshd.pid" -o "AuthorizedKeysFile=$STATE/authorized_keys" \
    -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o UsePAM=no \
    -o AllowTcpForwarding=yes -o MaxSessions=64 -o MaxStartups=64 "${env[@]}"
  wait_for 10 "sshd on host $h" test -s "$RUN/$h/sshd.pid"
}

dockerd_up() { # dockerd_up HOST SOCKET [DOCKERD-ARGS...] -- [RUNNER...]
  local h=$1 sock=$2; shift 2
  local args=(); while [[ $1 != -- ]]; do args+=("$1"); shift; done; shift
  if docker -H "$sock" version >/dev/null 2>&1; then return; fi
  mkdir -p "$RUN/$h" "$LOGS"
  # CRIU_FAULT=130 (FI_NO_BREAKPOINTS) makes CRIU step to sigreturn with PTRACE_SYSCALL instead
  # of a hardware breakpoint: on these VMs breakpoints never fire and every dump hangs. runc
  # inherits the variable from dockerd -> containerd -> shim and passes it on to criu.
  CRIU_FAULT=130 setsid "$@" dockerd --experimental -H "$sock" --pidfile "$RUN/$h/dockerd.pid" "${args[@]}" \
    >>"$LOGS/dockerd-$h.log" 2>&1 < /dev/null &
  wait_for 60 "dockerd on host $h (log: $LOGS/dockerd-$h.log)" docker -H "$sock" version
}

docker_sock() { if [[ $1 == a ]]; then echo "$A_DOCKER"; else echo "$B_DOCKER"; fi; }

images() {
  local h
  for h in a b; do
    "$HERE/image/build.sh" "$(docker_sock "$h")"
    "$HERE/image/redis.sh" "$(docker_sock "$h")"
  done
}

up() {
  [[ $(id -u) == 0 ]] || die "the lab needs root"
  "$HERE/provision.sh"
  keys; network; mount_namespace
  sshd_up a "$A_IP"
  sshd_up b "$B_IP" "${IN_B[@]}"
  dockerd_up a "$A_DOCKER" -- 
  dockerd_up b "$B_DOCKER" --data-root "$STATE/b/docker" --exec-root "$RUN/b/docker-exec" -- "${IN_B[@]}"
  images
  log "up: host A $A_IP, host B $B_IP (eval \"\$(npm run --silent lab:env)\")"
}

stop_pidfile() {
  local f=$1 pid i
  alive "$f" || { rm -f "$f"; return; }
  pid=$(cat "$f"); kill "$pid"
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$f"
}

down() {
  local h
  for h in b a; do
    docker -H "$(docker_sock "$h")" ps -aq --filter label=migrate.lab 2>/dev/null \
      | xargs -r docker -H "$(docker_sock "$h")" rm -f >/dev/null 2>&1 || true
    stop_pidfile "$RUN/$h/dockerd.pid"; stop_pidfile "$RUN/$h/sshd.pid"
  done
  if [[ -e $B_MNTNS ]]; then umount "$B_MNTNS" 2>/dev/null || true; rm -f "$B_MNTNS"; fi
  ip link del mlab-a 2>/dev/null || true
  [[ -e /run/netns/$NETNS ]] && ip netns del "$NETNS"
  log "down"
}

env_lines() {
  cat <<EOT
export MIGRATE_LAB_SOURCE=ssh://root@$A_IP
export MIGRATE_LAB_TARGET=ssh://root@$B_IP
export MIGRATE_LAB_SSH_KEY=$STATE/id_ed25519
export MIGRATE_LAB_KNOWN_HOSTS=$STATE/known_hosts
export MIGRATE_LAB_SOURCE_DOCKER_HOST=$A_DOCKER
export MIGRATE_LAB_TARGET_DOCKER_HOST=$B_DOCKER
export MIGRATE_LAB_IMAGE=migrate-workload:latest
export MIGRATE_LAB_REDIS_IMAGE=migrate-redis:latest
export MIGRATE_SSH_KEY=$STATE/id_ed25519
export MIGRATE_KNOWN_HOSTS=$STATE/known_hosts
EOT
}

status() {
  local ok=0
  alive "$RUN/a/sshd.pid" && alive "$RUN/b/sshd.pid" || ok=1
  docker -H "$A_DOCKER" version >/dev/null 2>&1 && docker -H "$B_DOCKER" version >/dev/null 2>&1 || ok=1
  ((ok == 0)) && log "up" || log "not (fully) up"
  return $ok
}

case ${1:-} in
  up) up ;; down) down ;; env) env_lines ;; status) status ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
