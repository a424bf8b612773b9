/** `migrate check` against the lab, through the real binary. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureLab, REPO } from '../helpers/lab.js';
import { ensureGuest } from '../helpers/guest.js';

const run = promisify(execFile);
const lab = ensureLab();
const CLI = join(REPO, 'dist/migrate/cli.js');

test('check --json reports both hosts, features and the kernel verdict', async (t) => {
  const { stdout } = await run('node', [CLI, 'check', '--to', lab.target, '--json'], { env: process.env });
  const r = JSON.parse(stdout);
  for (const side of [r.source, r.target]) {
    // 4.2.1 or newer: older CRIU cannot dump a TCP socket on this kernel (6.16+).
    const [major, minor, sub] = String(side.criu.version).split('.').map(Number);
    t.true(major! > 4 || (major === 4 && (minor! > 2 || (minor === 2 && (sub ?? 0) >= 1))), `CRIU ${side.criu.version}`);
    t.true(side.criu.usable, side.criu.problems.join('; '));
    t.is(typeof side.criu.features.mem_dirty_track, 'boolean');
    t.is(typeof side.criu.features['uffd-noncoop'], 'boolean');
    t.truthy(side.kernel);
    t.regex(side.docker.version, /^\d+\./);
  }
  t.is(r.target.host, 'root@10.231.0.2');
  t.true(r.strategies.cold.available);
  t.true(r.lazy_restore.available, 'the lab has userfaultfd');
  // These machines lack soft-dirty tracking; the verdict must say so (and say why).
  t.is(r.strategies.precopy.available, r.source.criu.features.mem_dirty_track);
  if (!r.strategies.precopy.available) t.regex(r.strategies.precopy.reasons.join(), /soft-dirty/);
  // Both lab hosts run this machine's node: B can run the post-copy prefetcher.
  t.regex(r.target.node.version, /^v\d+\./);
  t.deepEqual(r.prefetch, { available: true, reasons: [] });
  t.deepEqual(r.page_forwarder, { available: true, reasons: [] }, 'and A the page forwarder');
  // provision.sh builds CRIU with its kernel-probe cache on a tmpfs of its own (/run is none here).
  t.true(r.source.criu.kdat_cache);
  t.true(r.target.criu.kdat_cache);
});

test('check notes a host whose CRIU cannot keep its kernel probes (here: the source, in a mount namespace without the cache\'s tmpfs)', async (t) => {
  const { stdout } = await run('unshare', ['-m', 'sh', '-c', 'umount /run/criu && exec "$@"', 'check', 'node', CLI, 'check', '--to', lab.target], { env: process.env });
  const [source, target] = stdout.split(/^target: /m);
  t.regex(source!, /~ CRIU does not keep its kernel probes between runs .*every CRIU run probes again .*Mount a tmpfs on \/run, or build CRIU with RUNDIR=/);
  t.notRegex(target!, /kernel probes/, 'B keeps them');
});

test('check says hosts without node move post-copy without the prefetcher and the page forwarder (the soft-dirty guest has none)', async (t) => {
  const g = ensureGuest();
  const { stdout } = await run('node', [CLI, 'check', '--from', g.a, '--to', g.b, '-i', g.sshKey, '--known-hosts', g.knownHosts], { env: process.env });
  t.regex(stdout, /node +none \(node is not installed\)/);
  t.regex(stdout, /no +prefetcher \(--prefetch auto: post-copy pulls the memory ahead of CRIU's lazy-pages daemon\)\n +no node on target root@[^ ]+ \(node is not installed\): --prefetch auto moves post-copy without it there/);
  t.regex(stdout, /no +page forwarder \(--page-forwarder auto: direct post-copy's pages reach the link through it\)\n +no node on source root@[^ ]+ \(node is not installed\): post-copy over a direct page channel moves without the page forwarder/);
  t.regex(stdout, /ok +postcopy/);
});

test('check prints a readable report', async (t) => {
  const { stdout } = await run('node', [CLI, 'check', '--to', lab.target], { env: process.env });
  t.regex(stdout, /source: local/);
  t.regex(stdout, /target: root@10\.231\.0\.2/);
  t.regex(stdout, /criu +4\./);
  t.regex(stdout, /migration:/);
  t.regex(stdout, /ok +lazy restore/);
  t.regex(stdout, /node +v\d+\./);
  t.regex(stdout, /ok +prefetcher/);
  t.regex(stdout, /ok +page forwarder/);
});

test('check refuses an unknown host key, exit 1, with what to do', async (t) => {
  const e = await t.throwsAsync(run('node', [CLI, 'check', '--to', lab.target, '--known-hosts', '/dev/null'], { env: process.env }));
  t.is((e as any).code, 1);
  t.regex((e as any).stderr, /host key of root@10\.231\.0\.2 is unknown/);
  t.regex((e as any).stderr, /ssh-keyscan/);
});
