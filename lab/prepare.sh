#!/usr/bin/env bash
# Everything the demo and the tests need, idempotently: machine set-up, Node dependencies, the
# build, and the two-host lab. Quick when all of it is already in place.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[[ $(id -u) == 0 ]] || { echo "prepare: run as root (CRIU, Docker and the lab need it)" >&2; exit 1; }
bash lab/provision.sh
# npm ci only when the installed tree was not installed from this lock file. (npm's own
# node_modules/.package-lock.json leaves out the root package, so it never equals the lock file.)
if ! cmp -s package-lock.json node_modules/.migrate-installed-lock 2>/dev/null; then
  echo "prepare: installing Node dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.migrate-installed-lock
fi
npm run --silent build  # a clean dist/: no stale compiled tests of renamed files
chmod +x dist/migrate/cli.js
bash lab/lab.sh up
