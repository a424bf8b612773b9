/**
 * A local user on the target racing for CRIU's page server port (issue 18, item 1): it takes the
 * page server's one connection, then binds the port itself to catch the dump and read the pages.
 * With the run's TLS credential it gets nothing: the migration completes with intact memory or
 * rolls back, and the racer reads no more than a TLS hello (a page stream would be megabytes).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrate } from '../../../src/index.js';
import { REPO, ensureLab, sshOpts } from '../../helpers/lab.js';
import { checksum, removeEverywhere, running, startContainer } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

const RACER = readFileSync(join(REPO, 'test/helpers/page-racer.py'), 'utf8');

test('an unprivileged racer for the target\'s page server port reads nothing of the memory and changes nothing', async (t) => {
  const name = await startContainer(a, 64);
  try {
    const sum = await checksum(a, name);
    // As nobody, in B's network namespace (its loopback is where the page server listens).
    const racer = b.exec(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'python3', '-c', RACER, '12']);
    await new Promise((r) => setTimeout(r, 500));
    const report = await migrate({ container: name, source: a, target: b, strategy: 'cold', pages: 'page-server', pageChannel: 'ssh' });
    const seen = JSON.parse((await racer).stdout) as { hits: number[]; received: number };
    t.log(`outcome ${report.outcome}, racer: ${JSON.stringify(seen)}`);
    t.true(seen.hits.length > 0, 'the racer reached a page server port (else this test shows nothing)');
    t.true(seen.received < 64 * 1024, `the racer read ${seen.received} bytes`);
    t.true(report.outcome === 'migrated' || report.outcome === 'rolled-back', report.outcome);
    const where = report.outcome === 'migrated' ? b : a;
    t.is(await running(where, name), 'true');
    t.is(await checksum(where, name), sum, 'memory intact where it runs');
  } finally {
    await removeEverywhere(name, a, b);
  }
});
