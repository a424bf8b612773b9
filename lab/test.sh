#!/usr/bin/env bash
# The whole test suite, on a fresh machine or not: prepares what it needs, then runs ava.
# Extra arguments go to ava (e.g. a file under dist/test/ or --match).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/lab/prepare.sh"
# The soft-dirty guest for the pre-copy tests: built when not cached, booted when not running
# (ensureGuest() in the tests does the same; doing it here keeps it out of a test's time limit).
bash "$ROOT/lab/guest/guest.sh" up
# Docker in the guest for the Docker pre-copy tests (copied in and started when missing).
bash "$ROOT/lab/guest/docker.sh" up
cd "$ROOT"
exec npx ava "$@"
