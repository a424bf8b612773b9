#!/usr/bin/env bash
# Build the static memload test workload.
# usage: build.sh [OUTPUT]   (default: <repo>/build/memload)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../../build/memload}"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"   # absolute, normalised

if [[ -f "$out" && "$out" -nt "$here/memload.c" ]]; then
    echo "memload: up to date $out"
    exit 0
fi

# Compile to a temp file and rename, so concurrent builds never see a partial binary.
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
cd "$here"
gcc -static -O2 -Wall -Wextra -Werror -o "$tmp" memload.c
mv -f "$tmp" "$out"
echo "memload: built $out"
