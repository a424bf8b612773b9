/** runc.conf overrides are scoped, restored on failure, and survive a crashed earlier run. */
import test from 'ava';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LocalTransport } from '../../../transports/local.js';
import { MARKER, RUNC_CONF, runcConfText, withRuncConf } from '../../../src/runc/runc-conf.js';

const local = new LocalTransport();
const BACKUP = `${RUNC_CONF}.migrate-backup`;

test.serial('the previous runc.conf is back after the operation, also when it fails', async (t) => {
  writeFileSync(RUNC_CONF, 'tcp-established\n');
  try {
    const seen = await withRuncConf(local, { imagesLink: '/x/link', workDir: '/x/work' }, async () => readFileSync(RUNC_CONF, 'utf8'));
    t.regex(seen, /^images-dir \/x\/link$/m);
    t.regex(seen, /^work-dir \/x\/work$/m);
    t.is(readFileSync(RUNC_CONF, 'utf8'), 'tcp-established\n');
    await t.throwsAsync(withRuncConf(local, { imagesLink: '/x/link' }, async () => { throw new Error('boom'); }), { message: 'boom' });
    t.is(readFileSync(RUNC_CONF, 'utf8'), 'tcp-established\n');
    t.false(existsSync(BACKUP));
  } finally {
    rmSync(RUNC_CONF, { force: true });
  }
});

test.serial('an override left by a crashed run is undone before the next one', async (t) => {
  writeFileSync(BACKUP, 'original\n');
  writeFileSync(RUNC_CONF, runcConfText({ imagesLink: '/dead/link' }));
  try {
    await withRuncConf(local, { imagesLink: '/x/link' }, async () => {
      t.true(readFileSync(RUNC_CONF, 'utf8').startsWith(MARKER));
    });
    t.is(readFileSync(RUNC_CONF, 'utf8'), 'original\n');
  } finally {
    rmSync(RUNC_CONF, { force: true });
    rmSync(BACKUP, { force: true });
  }
  // No earlier file at all: a stale override is simply removed.
  writeFileSync(RUNC_CONF, runcConfText({ imagesLink: '/dead/link' }));
  await withRuncConf(local, { imagesLink: '/x/link' }, async () => {});
  t.false(existsSync(RUNC_CONF));
});
