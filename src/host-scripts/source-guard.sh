#!/bin/sh
# source-guard.sh: a dead man's switch on the source (migration/source-guard.ts): resumes the
# stopped workload when migrate goes away while it is armed. migrate going away closes stdin.
#
# Arguments: none
# Stdin:   commands, one a line: "arm PID..." (resume these PIDs if stdin closes), "disarm"
#          (never resume), "done" (exit quietly)
# Stdout:  "ready" at the start, then "armed" or "disarmed" for each such command
# Exit:
#   0  done, or stdin closed (after resuming the armed PIDs, if any)
pids=
echo ready
while IFS= read -r line; do
  case "$line" in
    "arm "*) pids=${line#arm }; echo armed;;
    disarm) pids=; echo disarmed;;
    done) exit 0;;
  esac
done
# shellcheck disable=SC2086 # $pids is a list of PIDs: one argument each
[ -n "$pids" ] && kill -CONT $pids
exit 0
