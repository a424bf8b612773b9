#!/bin/sh
# host-guard.sh: a dead man's switch on a host (migration/host-guard.ts). migrate tells it what
# to put back should migrate go away; migrate going away (killed, even with SIGKILL, or its
# connection lost) closes stdin, and the guard then puts back everything it was told, in order:
#   1. kills the target's copy that runs on memory not all there yet (post-copy: its pages come
#      from the source through migrate, so without migrate it cannot go on);
#   2. hangs up on the source's lazy page server (a CRIU waiting for a lazy-pages daemon that
#      will never come would wait for good; migrate names its port before the dump starts, so
#      while step 3 waits it hangs up again each second, on a dump that listens only later), and, unless a restore began that needs them
#      ("disarm"), ends the lazy-pages daemons and page servers working in the run's directories
#      (they wait for a restore, for pages, or for a dump that will never come: a page server
#      started just before migrate died would otherwise hold step 3 for its whole limit);
#   3. waits until no armed process is traced and no CRIU of the run works any more (a dump in
#      flight finishes: killing CRIU half-way would leave the workload stopped at a breakpoint
#      for good, and resuming before a dump that is about to start would leave it stopped); a
#      restore in flight (after "disarm" or with an incomplete copy) finishes too, and the copy
#      of step 1 is killed again. A CRIU of the run: one naming a run directory on its command
#      line, or one runc started (`criu swrk`, which names none: any such counts), or a Docker
#      or runc checkpoint or restore command (which starts CRIU only after a while: any counts);
#      after a restore began, its lazy-pages daemon gets a minute to fill the memory;
#   4. restores runc.conf if it still holds migrate's override, under the runc.conf lock;
#   5. removes the twin container that never ran (or the incomplete one of step 1), and the
#      run's directories;
#   6. resumes the armed processes (SIGCONT), after lifting the network lock a leave-stopped dump
#      left on their network namespace ($3, when given, on the first armed PID).
# While it lives, and until step 6 is done, it holds a shared flock on $2, so that `migrate
# recover` (which takes it exclusively) never settles a workload a guard is still putting back.
#
# Arguments:
#   $1  how many seconds step 3 may wait at most
#   $2  the guard lock of the workload (a file in a directory only root uses: migrate makes it)
#   $3  optional: the program of unlock-network.sh (run as `sh -c "$3" unlock-network PID`)
# Stdin:   commands, one a line, each answered on stdout:
#            "arm PID..."                       resume these PIDs (step 6)          → "armed"
#            "disarm"                           forget the PIDs, the twin, the lazy
#                                               page server and the incomplete copy → "disarmed"
#            "runc-conf CONF BACKUP LOCK MARKER" restore CONF from BACKUP if its first
#                                               line is MARKER (the rest of the line),
#                                               under flock LOCK                    → "noted"
#            "twin ID"                          docker rm -f -v ID if it never ran  → "noted"
#            "lazy PORT [ADDRESS]"              the page server on ADDRESS:PORT (127.0.0.1)
#                                               to hang up on (step 2)              → "noted"
#            "incomplete twin ID"               kill and remove container ID (step 1) → "noted"
#            "incomplete pidfile PATH"          kill the tree whose root PID is in
#                                               PATH, once it exists (step 1)       → "noted"
#            "resume-copy [PID]"                SIGCONT the incomplete copy now (restored
#                                               stopped; PID: its root, when migrate
#                                               knows it); still killed in step 1   → "resumed"
#            "go [PID]"                         SIGCONT the incomplete copy now and
#                                               forget it, as "disarm" does         → "resumed"
#            "remove DIR"                       rm -rf DIR                          → "noted"
#            "done"                             exit at once, putting nothing back
#          (arguments are single words: paths and IDs without spaces; the MARKER may have spaces)
# Stdout:  "ready" at the start, then one answer per command
# Exit:
#   0  done, or stdin closed (after putting back what it was told)
#   1  the guard lock could not be taken
trap '' HUP PIPE
exec 9> "$2" && flock -s 9 || exit 1
pids='' conf='' backup='' lock='' marker='' twin='' dirs='' port='' addr='' copy='' began=''
# shellcheck source=src/host-scripts/lib/tree-of.sh
. "$(dirname "$0")/lib/tree-of.sh"
# All PIDs are listed before any is signalled (a killed parent's children move to another
# parent), then signalled in one kill, the root first: a root that outlived its children by a
# moment could react to their deaths (exit on its own, start new ones). The tree below $1 (the
# root and its descendants) gets signal $2.
signal_tree() {
  # shellcheck disable=SC2046 # one PID per word
  kill "-$2" $(tree_of "$1") 2> /dev/null
}
# "disarm": nothing to resume, remove, hang up on or kill; a restore began.
forget() { pids=; twin=; port=; copy=; began=1; }
# The copy's root PID: the twin's init, or the PID in the restore's pidfile.
copy_pid() {
  case "$copy" in
    "twin "*) p=$(docker inspect --format '{{.State.Pid}}' "${copy#twin }" 2> /dev/null); [ "$p" != 0 ] && echo "$p" ;;
    "pidfile "*) f=${copy#pidfile }; [ -s "$f" ] && cat "$f" ;;
  esac
}
# The PID migrate gave with resume-copy or go (" 4242"), else copy_pid's.
given_or_copy_pid() {
  case "${1# }" in
    '' | *[!0-9]*) copy_pid ;;
    *) echo "${1# }" ;;
  esac
}
echo ready
while IFS= read -r line; do
  case "$line" in
    "arm "*) pids=${line#arm }; echo armed ;;
    disarm) forget; echo disarmed ;;
    "runc-conf "*)
      rest=${line#runc-conf }
      conf=${rest%% *}; rest=${rest#* }
      backup=${rest%% *}; rest=${rest#* }
      lock=${rest%% *}; marker=${rest#* }
      echo noted ;;
    "twin "*) twin=${line#twin }; echo noted ;;
    "lazy "*)
      rest=${line#lazy }
      port=${rest%% *}; addr=${rest#"$port"}; addr=${addr# }
      echo noted ;;
    "incomplete "*) copy=${line#incomplete }; echo noted ;;
    resume-copy|"resume-copy "*) p=$(given_or_copy_pid "${line#resume-copy}"); [ -n "$p" ] && signal_tree "$p" CONT; echo resumed ;;
    go|"go "*) p=$(given_or_copy_pid "${line#go}"); [ -n "$p" ] && signal_tree "$p" CONT; forget; echo resumed ;;
    "remove "*) dirs="$dirs ${line#remove }"; echo noted ;;
    done) exit 0 ;;
  esac
done

kill_copy() {
  p=$(copy_pid)
  [ -n "$p" ] && signal_tree "$p" KILL
}
# Whether a checkpoint or restore of the run works (see step 3): an armed process traced; a CRIU
# naming a run directory (lazy-pages daemons aside: they may wait for good); runc's CRIU; Docker's
# or runc's checkpoint and restore commands, which start CRIU only after a while.
busy() {
  for p in $pids; do
    t=$(sed -n 's/^TracerPid:[[:space:]]*//p' /proc/"$p"/status 2>/dev/null)
    [ -n "$t" ] && [ "$t" != 0 ] && return 0
  done
  pgrep -f '(^|/)criu swrk' > /dev/null && return 0
  pgrep -f '(^|/)docker (start --checkpoint|checkpoint create) ' > /dev/null && return 0
  pgrep -f '(^|/)runc .*(checkpoint|restore) ' > /dev/null && return 0
  for d in $dirs; do pgrep -af "(^|/)criu .*$d/" | grep -qv ' lazy-pages ' && return 0; done
  return 1
}
lazy_daemons() {
  for d in $dirs; do pgrep -f "(^|/)criu lazy-pages .*$d/" > /dev/null && return 0; done
  return 1
}

[ -n "$copy" ] && kill_copy
# A connection that closes at once makes a lazy dump's page server take the transfer as ended.
hangup() {
  # shellcheck disable=SC2016 # bash expands its own $1
  [ -n "$port" ] && timeout 5 bash -c 'exec 3<> "/dev/tcp/$2/$1"' hangup "$port" "${addr:-127.0.0.1}" 2> /dev/null
}
hangup
# Not once a restore began that needs them (after "disarm": an eager freeze's lazy restore fills
# the memory from the target's own images).
[ -z "$began" ] && for d in $dirs; do pkill -KILL -f "(^|/)criu (lazy-pages|page-server) .*$d/"; done
waited=0
if [ -n "$pids" ] || [ -n "$copy" ] || [ -n "$began" ]; then
  sleep 1 # a checkpoint or restore command just sent may not have started yet
  # A lazy dump told of (its port) may start listening only now: hang up on it again each second.
  while busy && [ "$waited" -lt "$(( $1 * 10 ))" ]; do
    sleep 0.1; waited=$((waited + 1))
    [ $((waited % 10)) -eq 0 ] && hangup
  done
fi
# A restore that began may still fill its memory from the run's images: give its lazy-pages
# daemon a minute to finish before the directories go (a daemon whose restore failed waits for good).
if [ -n "$began" ]; then
  waited=0
  while lazy_daemons && [ "$waited" -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
  for d in $dirs; do pkill -KILL -f "(^|/)criu lazy-pages .*$d/"; done
fi
[ -n "$copy" ] && kill_copy

if [ -n "$conf" ]; then
  # shellcheck disable=SC2016 # the inner script expands its own environment
  CONF=$conf BACKUP=$backup MARKER=$marker flock -w 120 "$lock" sh -c '
    [ -e "$CONF" ] && [ "$(head -n 1 "$CONF")" = "$MARKER" ] || exit 0
    if [ -e "$BACKUP" ]; then mv -f "$BACKUP" "$CONF"; else rm -f "$CONF"; fi' 
fi
if [ -n "$twin" ] && [ "$(docker inspect --format '{{.State.Status}}' "$twin" 2>/dev/null)" = created ]; then
  docker rm -f -v "$twin" > /dev/null 2>&1
fi
case "$copy" in
  "twin "*) docker rm -f -v "${copy#twin }" > /dev/null 2>&1 ;;
  "pidfile "*) rm -f "${copy#pidfile }" ;;
esac
for d in $dirs; do rm -rf -- "$d"; done
if [ -n "$pids" ]; then
  # A container's own network namespace stays locked while the dump left it stopped.
  [ -n "$3" ] && sh -c "$3" unlock-network "${pids%% *}" > /dev/null 2>&1
  # shellcheck disable=SC2086 # $pids is a list of PIDs: one argument each
  kill -CONT $pids
fi
exit 0
