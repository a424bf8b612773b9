#!/usr/bin/env bash
# The main job on the built-in lab: start a counter container on host A, migrate it to host B
# with `migrate`, and show that it goes on counting there, with the freeze-time report.
# Usage: bash lab/demo.sh [MiB of workload memory, default 256]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MIB=${1:-256}
bash "$ROOT/lab/prepare.sh"
cd "$ROOT"
eval "$(bash lab/lab.sh env)"
NAME=migrate-demo
docker rm -f "$NAME" >/dev/null 2>&1 || true
docker -H "$MIGRATE_LAB_TARGET_DOCKER_HOST" rm -f "$NAME" >/dev/null 2>&1 || true

echo "== host A: starting $NAME ($MIB MiB of memory, a tick every 100 ms)"
docker run -d --name "$NAME" --security-opt seccomp=unconfined "$MIGRATE_LAB_IMAGE" --mib "$MIB" --tick-ms 100 >/dev/null
until docker logs "$NAME" 2>/dev/null | grep -q '^tick 5 '; do sleep 0.2; done
docker kill -s USR1 "$NAME" >/dev/null; sleep 1
docker logs "$NAME" 2>&1 | grep '^check' | tail -n 1 | sed 's/^/   A: /'
docker logs "$NAME" 2>&1 | grep '^tick' | tail -n 3 | sed 's/^/   A: /'

echo "== migrate $NAME --to $MIGRATE_LAB_TARGET"
node dist/migrate/cli.js "$NAME" --to "$MIGRATE_LAB_TARGET"

echo "== host B: the same container, still counting"
sleep 1
docker -H "$MIGRATE_LAB_TARGET_DOCKER_HOST" ps --filter "name=$NAME" --format '   B: {{.Names}} {{.Status}}'
docker -H "$MIGRATE_LAB_TARGET_DOCKER_HOST" kill -s USR1 "$NAME" >/dev/null; sleep 1
docker -H "$MIGRATE_LAB_TARGET_DOCKER_HOST" logs "$NAME" 2>&1 | grep '^tick' | head -n 3 | sed 's/^/   B: /'
docker -H "$MIGRATE_LAB_TARGET_DOCKER_HOST" logs "$NAME" 2>&1 | grep '^check' | tail -n 1 | sed 's/^/   B: /'
docker -H "$MIGRATE_LAB_TARGET_DOCKER_HOST" rm -f "$NAME" >/dev/null
