#!/bin/sh
# host-guard.sh: a dead man's switch on a host (migration/host-guard.ts). migrate tells it what
# to put back should migrate go away; migrate going away (killed, even with SIGKILL, or its
# connection lost) closes stdin, and the guard then puts back everything it was told, in order:
#   1. waits until no armed process is traced and no CRIU runs on the host any more (a dump in
#      flight finishes: killing CRIU half-way would leave the workload stopped at a breakpoint
#      for good, and resuming before a dump that is about to start would leave it stopped);
#   2. restores runc.conf if it still holds migrate's override, under the runc.conf lock;
#   3. removes the twin container that never ran, and the run's directories;
#   4. resumes the armed processes (SIGCONT).
#
# Arguments:
#   $1  how many seconds step 1 may wait at most
# Stdin:   commands, one a line, each answered on stdout:
#            "arm PID..."                       resume these PIDs (step 4)          → "armed"
#            "disarm"                           forget the PIDs and the twin        → "disarmed"
#            "runc-conf CONF BACKUP LOCK MARKER" restore CONF from BACKUP if its first
#                                               line is MARKER (the rest of the line),
#                                               under flock LOCK                    → "noted"
#            "twin ID"                          docker rm -f -v ID if it never ran  → "noted"
#            "remove DIR"                       rm -rf DIR                          → "noted"
#            "done"                             exit at once, putting nothing back
#          (arguments are single words: paths and IDs without spaces; the MARKER may have spaces)
# Stdout:  "ready" at the start, then one answer per command
# Exit:
#   0  done, or stdin closed (after putting back what it was told)
trap '' HUP PIPE
pids='' conf='' backup='' lock='' marker='' twin='' dirs=''
echo ready
while IFS= read -r line; do
  case "$line" in
    "arm "*) pids=${line#arm }; echo armed ;;
    disarm) pids=; twin=; echo disarmed ;;
    "runc-conf "*)
      rest=${line#runc-conf }
      conf=${rest%% *}; rest=${rest#* }
      backup=${rest%% *}; rest=${rest#* }
      lock=${rest%% *}; marker=${rest#* }
      echo noted ;;
    "twin "*) twin=${line#twin }; echo noted ;;
    "remove "*) dirs="$dirs ${line#remove }"; echo noted ;;
    done) exit 0 ;;
  esac
done

busy() {
  pgrep -x criu > /dev/null && return 0
  for p in $pids; do
    t=$(sed -n 's/^TracerPid:[[:space:]]*//p' /proc/"$p"/status 2>/dev/null)
    [ -n "$t" ] && [ "$t" != 0 ] && return 0
  done
  return 1
}
waited=0
if [ -n "$pids" ]; then
  sleep 1 # a checkpoint command just issued has not started CRIU yet
  while busy && [ "$waited" -lt "$(( $1 * 10 ))" ]; do sleep 0.1; waited=$((waited + 1)); done
fi

if [ -n "$conf" ]; then
  # shellcheck disable=SC2016 # the inner script expands its own environment
  CONF=$conf BACKUP=$backup MARKER=$marker flock -w 120 "$lock" sh -c '
    [ -e "$CONF" ] && [ "$(head -n 1 "$CONF")" = "$MARKER" ] || exit 0
    if [ -e "$BACKUP" ]; then mv -f "$BACKUP" "$CONF"; else rm -f "$CONF"; fi' 
fi
if [ -n "$twin" ] && [ "$(docker inspect --format '{{.State.Status}}' "$twin" 2>/dev/null)" = created ]; then
  docker rm -f -v "$twin" > /dev/null 2>&1
fi
for d in $dirs; do rm -rf -- "$d"; done
# shellcheck disable=SC2086 # $pids is a list of PIDs: one argument each
[ -n "$pids" ] && kill -CONT $pids
exit 0
