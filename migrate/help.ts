export const HELP = `migrate — live-migrate Linux containers and process trees between hosts with CRIU over SSH

Usage:
  migrate CONTAINER --to ssh://[user@]host[:port] [options]
  migrate check --to ssh://[user@]host[:port] [--from ssh://...] [--json]
  migrate --help

Migrating a Docker container (stop-and-copy; run on the source host):
  --name NAME      name on the target (default: the same)
  --keep-source    keep the stopped source container (default: remove it)
  --dry-run        run every preflight check, freeze nothing
  --zstd-level N   compression level of the image stream, 1-19 (default 1)
  --strategy cold  the only strategy implemented so far
  -y, --yes        never prompt (migrate never prompts; accepted for scripts)

Commands:
  check            Probe both hosts (CRIU version and features, kernel, Docker) and say which
                   migration strategies work between them. Changes nothing.

Hosts:
  --to URL         target host, ssh://[user@]host[:port]
  --from URL       source host (default: this machine)

SSH (OpenSSH's ~/.ssh/config, known_hosts and ssh-agent are used by default):
  -i, --identity FILE          private key to offer (repeatable; env MIGRATE_SSH_KEY)
  --known-hosts FILE           known_hosts file to trust (repeatable; env MIGRATE_KNOWN_HOSTS)
  --insecure-accept-host-key   do NOT verify host keys (prints a warning on every connection)

Output:
  --json           one JSON object on stdout; progress and warnings go to stderr
  -h, --help       this text

Exit codes: 0 success, 1 failure (the message says what failed, where, and what to do), 2 bad usage.
`;
