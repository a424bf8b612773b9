#!/usr/bin/env bash
# The migrate QEMU guest: Debian's cloud kernel (soft-dirty tracking, which the host kernel
# lacks) under QEMU/TCG, reached over SSH like any host, for CRIU pre-copy (--track-mem) tests.
# Like lab/lab.sh it plays two hosts: A (the guest's root mount namespace, sshd on guest port 22)
# and B (a mount namespace with its own /etc/criu, /var/lib/migrate, /root and /run/runc, sshd on guest
# port 2022); they share the PID space, /tmp and /var/tmp. A alone can also be source and target.
# Usage: guest.sh up|down|status|env
#   MIGRATE_GUEST_PORT   host port forwarded to host A's sshd (default 2222, on 127.0.0.1)
#   MIGRATE_GUEST_PORT_B host port forwarded to host B's sshd (default MIGRATE_GUEST_PORT + 1)
#   MIGRATE_GUEST_SMP    vCPUs (default 2), MIGRATE_GUEST_MEM  MiB of RAM (default 1536)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${MIGRATE_GUEST_CACHE:-/var/cache/migrate-guest}
STATE=/var/lib/migrate-guest        # known_hosts
RUN=/run/migrate-guest              # pidfile, console log, the build key the guest booted
PORT=${MIGRATE_GUEST_PORT:-2222}
PORT_B=${MIGRATE_GUEST_PORT_B:-$((PORT + 1))}
SMP=${MIGRATE_GUEST_SMP:-2}
MEM=${MIGRATE_GUEST_MEM:-1536}
KEY=/var/lib/migrate-lab/id_ed25519
KNOWN_HOSTS=$STATE/known_hosts
BOOT_TIMEOUT=${MIGRATE_GUEST_BOOT_TIMEOUT:-120}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'guest: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

qemu_pid() { # the running guest's QEMU pid, or fail
  local pid
  [[ -s $RUN/qemu.pid ]] || return 1
  pid=$(cat "$RUN/qemu.pid")
  kill -0 "$pid" 2>/dev/null && grep -qa migrate-guest "/proc/$pid/cmdline" || return 1
  echo "$pid"
}

guest_ssh() { # guest_ssh PORT CMD...
  local port=$1; shift
  ssh -i "$KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -p "$port" root@127.0.0.1 "$@"
}
reachable() { # both hosts answer (probed in parallel: each login costs ~1 s of TCG crypto)
  local a
  guest_ssh "$PORT" true >/dev/null 2>&1 & a=$!
  guest_ssh "$PORT_B" true >/dev/null 2>&1 || { wait "$a"; return 1; }
  wait "$a"
}

known_hosts() { # both hosts present the guest's one host key
  local key p; key=$(cut -d' ' -f1,2 "$CACHE/ssh_host_ed25519_key.pub")
  mkdir -p "$STATE" && chmod 0700 "$STATE"
  for p in "$PORT" "$PORT_B"; do
    if [[ $p == 22 ]]; then echo "127.0.0.1 $key"; else echo "[127.0.0.1]:$p $key"; fi
  done > "$KNOWN_HOSTS.tmp"
  mv -f "$KNOWN_HOSTS.tmp" "$KNOWN_HOSTS"
}

boot() {
  local started=$SECONDS deadline=$((SECONDS + BOOT_TIMEOUT)) pid launched
  mkdir -p "$RUN"
  rm -f "$RUN/qemu.pid"
  : > "$RUN/console.log"
  # -nodefaults: no VGA, floppy, CD-ROM or default NIC. romfile= : no PXE ROM for the NIC.
  # The `migrate-guest` name lets qemu_pid() recognise the process.
  setsid qemu-system-x86_64 -name migrate-guest \
    -accel tcg -cpu max -smp "$SMP" -m "$MEM" \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd" \
    -append "console=ttyS0 panic=-1 loglevel=4 mitigations=off" \
    -serial "file:$RUN/console.log" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22,hostfwd=tcp:127.0.0.1:$PORT_B-:2022" \
    -device virtio-net-pci,netdev=n0,romfile= \
    -device virtio-rng-pci \
    -pidfile "$RUN/qemu.pid" \
    > "$RUN/qemu.log" 2>&1 < /dev/null 9>&- &
  launched=$!
  cp "$CACHE/key" "$RUN/booted.key"
  echo "$PORT $PORT_B" > "$RUN/port"
  log "booting (TCG, $SMP vCPUs, $MEM MiB, ssh: A 127.0.0.1:$PORT, B 127.0.0.1:$PORT_B; console: $RUN/console.log)"
  # Probe SSH only once both sshds listen (they log to the console): an earlier probe reaches
  # QEMU's user-mode network, which accepts the connection and leaves ssh waiting for a banner.
  until grep -q 'Server listening on 0.0.0.0 port 22\.' "$RUN/console.log" \
        && grep -q 'Server listening on 0.0.0.0 port 2022\.' "$RUN/console.log" && reachable; do
    if ! pid=$(qemu_pid) && ! kill -0 "$launched" 2>/dev/null; then
      cat "$RUN/qemu.log" >&2; tail -n 30 "$RUN/console.log" >&2
      die "QEMU exited"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$RUN/console.log" >&2
      down
      die "no SSH to the guest after ${BOOT_TIMEOUT} s (console above, $RUN/console.log)"
    fi
    sleep 0.2
  done
  log "up in $((SECONDS - started)) s (eval \"\$($HERE/guest.sh env)\")"
}

up() {
  [[ $(id -u) == 0 ]] || die "needs root"
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock 9
  "$HERE/build.sh"
  known_hosts
  if qemu_pid >/dev/null; then
    local running_ports; running_ports=$(cat "$RUN/port" 2>/dev/null || echo "$PORT $PORT_B")
    if [[ $running_ports != "$PORT $PORT_B" ]]; then
      log "the guest runs with SSH on ports $running_ports, not $PORT $PORT_B: restarting it"
      down; boot; return
    fi
    if [[ $(cat "$RUN/booted.key" 2>/dev/null) != "$(cat "$CACHE/key")" ]]; then
      log "note: the running guest was booted from an older build ($0 down && $0 up to reboot)"
    fi
    if reachable; then log "already up"; return; fi
    log "QEMU runs but SSH does not answer: restarting it"
    down
  fi
  boot
}

down() {
  local pid i
  if pid=$(qemu_pid); then
    kill "$pid"
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "down"
  else
    log "not running"
  fi
  rm -f "$RUN/qemu.pid" "$RUN/booted.key" "$RUN/port"
}

status() {
  local pid
  if ! pid=$(qemu_pid); then log "down"; return 1; fi
  if reachable; then log "up (QEMU pid $pid; ssh: A root@127.0.0.1:$PORT, B root@127.0.0.1:$PORT_B)"; return 0; fi
  log "QEMU runs (pid $pid) but SSH does not answer (booting? see $RUN/console.log)"
  return 1
}

env_lines() {
  cat <<EOT
export MIGRATE_GUEST=ssh://root@127.0.0.1:$PORT
export MIGRATE_GUEST_A=ssh://root@127.0.0.1:$PORT
export MIGRATE_GUEST_B=ssh://root@127.0.0.1:$PORT_B
export MIGRATE_GUEST_KNOWN_HOSTS=$KNOWN_HOSTS
export MIGRATE_GUEST_SSH_KEY=$KEY
EOT
}

case ${1:-} in
  up) up ;; down) down ;; status) status ;; env) env_lines ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
