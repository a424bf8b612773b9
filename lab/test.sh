#!/usr/bin/env bash
# The whole test suite, on a fresh machine or not: prepares what it needs, then runs ava.
# Extra arguments go to ava (e.g. a file under dist/test/ or --match).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/lab/prepare.sh"
cd "$ROOT"
exec npx ava "$@"
