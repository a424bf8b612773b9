/** The set-up scripts are idempotent: a second run changes nothing and builds nothing. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, ensureLab } from '../helpers/lab.js';

const run = promisify(execFile);

test('provisioning again skips the CRIU build and the package installs', async (t) => {
  ensureLab();
  const started = Date.now();
  const { stderr } = await run('bash', [join(REPO, 'lab/provision.sh')]);
  t.regex(stderr, /Debian packages present/);
  t.regex(stderr, /CRIU 4\.\d+\.\d+ works/);
  t.notRegex(stderr, /building CRIU|installing/);
  t.true(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
});

test('lab up is idempotent and lab env prints what migrate needs', async (t) => {
  await run('bash', [join(REPO, 'lab/lab.sh'), 'up']);
  const { stdout } = await run('bash', [join(REPO, 'lab/lab.sh'), 'env']);
  for (const v of ['MIGRATE_LAB_SOURCE', 'MIGRATE_LAB_TARGET', 'MIGRATE_LAB_SSH_KEY', 'MIGRATE_LAB_KNOWN_HOSTS', 'MIGRATE_LAB_TARGET_DOCKER_HOST', 'MIGRATE_SSH_KEY', 'MIGRATE_KNOWN_HOSTS']) {
    t.regex(stdout, new RegExp(`^export ${v}=\\S+$`, 'm'));
  }
  t.regex(stdout, /MIGRATE_LAB_TARGET=ssh:\/\/root@10\.231\.0\.2$/m);
  t.regex(stdout, /MIGRATE_LAB_TARGET_DOCKER_HOST=unix:\/\//m);
});
