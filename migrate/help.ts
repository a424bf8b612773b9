export const HELP = `migrate — live-migrate Linux containers and process trees between hosts with CRIU over SSH

Usage:
  migrate CONTAINER --to ssh://[user@]host[:port] [options]
  migrate --pid PID --to ssh://[user@]host[:port] [options]
  migrate --runc ID --to ssh://[user@]host[:port] [options]
  migrate check --to ssh://[user@]host[:port] [--from ssh://...] [--json]
  migrate recover CONTAINER|--pid PID --to ssh://[user@]host[:port] [--from ssh://...] [--json]
  migrate drain --to URL[,URL...] [--from URL] [--select FILTER]... [--parallel N] [--dry-run] [--json]
  migrate drain --resume ID
  migrate undrain ID
  migrate --help

Migrating a Docker container, with --pid a process tree checkpointed with CRIU directly (it
must run in its own PID namespace or have its PIDs free on the target), or with --runc a
container runc runs by itself (its bundle must be at the same path on the target):
  --pid PID        migrate the process tree rooted at PID instead of a container
  --runc ID        migrate runc's container ID instead
  --runc-root DIR  runc's state directory on both hosts (default /run/runc)
  --name NAME      container name on the target (default: the same)
  --keep-source    keep the stopped source container (default: remove it)
  --transfer-image send the container's image when the target lacks it (docker save | load)
  --volume-map SRC=DST
                   copy named volume SRC into volume DST on the target (repeatable; default:
                   the same name). A container's writable layer and volumes are always copied:
                   whole while it runs, then only what changed while it is frozen
  --copy-bind-mounts
                   copy bind-mounted directories to the same path on the target (default: they
                   must exist there already)
  --force          replace the contents of a non-empty target volume or bind directory
  --dry-run        run every preflight check, freeze nothing
  --freeze-timeout S
                   every step inside the freeze must be done within S seconds (default 120,
                   room for 1 GiB here); past it migrate rolls back. A hung command is not
                   killed: the host's guard resumes the workload once it lets go
  --tcp POLICY     its open TCP connections: refuse (default): preflight lists them and stops,
                   nothing frozen; close: they are dropped on the target (clients see a reset
                   and reconnect); keep: they move with it (only where the peers still reach its
                   address, e.g. both ends inside the container). Listening sockets always move
  --pages MODE     page-server (default): memory goes straight to a CRIU page server on the
                   target while the dump runs; stream: dump first, then stream every image
  --page-channel C how CRIU's page channels (page-server, post-copy) reach the other host, TLS
                   with a key made for the run either way. ssh (default): through the SSH
                   connections and this machine; direct: TCP between the hosts (ports
                   20000-49999), faster, checked before the freeze (stop if blocked); auto:
                   direct where that check passes, else ssh. See README, Security
  --prefetch MODE  post-copy: off (default): CRIU's lazy-pages daemon pulls the memory alone;
                   auto: a prefetcher on the target (needs node ≥ 18 there) pulls it ahead of
                   the daemon: a shorter window, but it takes CPU from the workload meanwhile
                   (README: "The post-copy prefetcher")
  --page-forwarder MODE
                   post-copy over a direct page channel: auto (default): a forwarder on the
                   source (where node runs there) carries the pages from CRIU's page server to
                   the link, a shorter window; off: CRIU's page server sends on the link itself
                   (README: "The page forwarder")
  --restore MODE   lazy (default where the target has userfaultfd): the workload resumes at
                   once and CRIU's lazy-pages daemon fills its memory from the received images;
                   the source copy is ended only after the last page; eager: all memory first
  --zstd-level N   compression level of the image stream, 1-19 (default 1)
  --strategy S     auto (default): cold below 256 MiB resident; above, precopy where it works
                   (finished as hybrid when its rounds do not converge and the target has
                   userfaultfd), else postcopy where the target has userfaultfd, else cold (the
                   report says which and why). cold: stop and copy; postcopy: only the
                   non-memory state moves while frozen, the memory follows from the source
                   after the restore;
                   precopy (kernels with soft-dirty tracking): memory moves in rounds of CRIU
                   pre-dumps while it runs, the freeze carries only the last dirty pages;
                   hybrid (soft-dirty and userfaultfd): pre-copy rounds, then a post-copy
                   freeze without memory. Every strategy works for every kind of workload
  --downtime-target MS
                   precopy: freeze once the predicted final freeze is this short (default 300);
                   rounds also stop when one writes ≤ 64 pages, when one shrinks by < 10 %,
  --max-rounds N   or after N rounds (default 8)
  -y, --yes        never prompt (migrate never prompts; accepted for scripts)

Commands:
  check            Probe both hosts (CRIU version and features, kernel, Docker) and say which
                   migration strategies work between them. Changes nothing.
  recover          After a migration of CONTAINER (or of the tree at --pid PID) died: put back
                   what it left on both hosts (runc.conf's override, the twin that never ran,
                   images, a stopped copy: ended if its copy runs on the target, else resumed)
                   and say where it runs. The next migrate of it does this first.

Draining a host (maintenance windows):
  drain            Moves every running container of the source (or those --select matches) to
                   the targets, following a plan printed first: placement by the targets' free
                   memory and disk and their images, largest memory first, the strategy of each,
                   estimated freezes from the link's throughput measured at the start. Every step
                   goes to a journal (<work dir>/drains/ID.jsonl) that --resume continues from.
  --select F       a docker ps filter: label=KEY=VALUE, name=NAME, ancestor=IMAGE (repeatable)
  --pids P,P...    process trees (by their root's PID) to move too, as with migrate --pid
  --runc ID,ID...  containers runc runs by itself to move too (--runc-root DIR as for --runc);
                   with --pids or --runc, containers move only when --select names them
  --parallel N     containers moving at a time (default 1)
  --order O        memory (default: largest first), name, or given (as Docker lists them)
  --max-freeze MS  skip (and list) a container whose estimated freeze is longer
  --deadline T     start no move after T (2026-12-01T14:00, or 30m, 2h from now)
  --keep-going     go on after a container failed (default: stop starting new ones); a failed
                   container stays on its source, and the summary says so
  --before CMD, --after CMD
                   run CMD on this machine for each container, with MIGRATE_CONTAINER,
                   MIGRATE_FROM, MIGRATE_TO, MIGRATE_DRAIN_ID (and after: MIGRATE_OUTCOME,
                   MIGRATE_RUNS_ON, MIGRATE_FREEZE_MS, MIGRATE_REPORT) in its environment; a
                   failing --before skips that container
  --resume ID      continue drain ID after its controller died or was stopped: nothing moves
                   twice, nothing is left out
  undrain ID       move every container drain ID moved back to where it came from
                   (--resume and undrain repeat the drain's options; a flag given changes that one)
  --dry-run, --json, --transfer-image, --strategy, --tcp, --pages, --page-channel, --prefetch,
  --page-forwarder, --zstd-level
                   as above, for every container. Exit 0 only when every selected container moved.

Hosts:
  --to URL         target host, ssh://[user@]host[:port]
  --from URL       source host (default: this machine); the controller may run anywhere

SSH (OpenSSH's ~/.ssh/config, known_hosts and ssh-agent are used by default):
  -i, --identity FILE          private key to offer (repeatable; env MIGRATE_SSH_KEY)
  --known-hosts FILE           known_hosts file to trust (repeatable; env MIGRATE_KNOWN_HOSTS)
  --insecure-accept-host-key   do NOT verify host keys (prints a warning on every connection)

Output:
  --json           one JSON object on stdout; progress and warnings go to stderr
  --progress MODE  how progress shows on stderr: bar (live bars for the image transfer and the
                   post-copy window; the default on a terminal), plain (lines; the default
                   otherwise) or json (one JSON object per event and line)
  -h, --help       this text

Exit codes: 0 success, 1 failure (the message says what failed, where, and what to do), 2 bad usage.
`;
