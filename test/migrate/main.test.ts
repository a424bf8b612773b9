import test from 'ava';
import { Writable } from 'node:stream';
import { main } from '../../migrate/main.js';
import { Output } from '../../migrate/output.js';

function capture() {
  const text = { out: '', err: '' };
  const sink = (k: 'out' | 'err') => new Writable({ write(c, _e, cb) { text[k] += c; cb(); } });
  return { text, out: new Output(sink('out'), sink('err')) };
}

test('--help prints usage and exits 0', async (t) => {
  const { text, out } = capture();
  t.is(await main(['--help'], out), 0);
  t.regex(text.out, /Usage:/);
  t.regex(text.out, /migrate check --to/);
});

test('a container without a target is a usage error (exit 2) with a hint', async (t) => {
  const { text, out } = capture();
  t.is(await main(['web1'], out), 2);
  t.regex(text.err, /no target host/);
  t.regex(text.err, /--to ssh:\/\//);
});

test('an unknown option is a usage error', async (t) => {
  const { out } = capture();
  t.is(await main(['web1', '--to', 'ssh://h', '--frobnicate'], out), 2);
});

test('check without --to is a usage error; with --json the error is JSON on stdout', async (t) => {
  const { text, out } = capture();
  t.is(await main(['check', '--json'], out), 2);
  t.is(JSON.parse(text.out).error.code, 'BAD_INPUT');
});

test('a malformed target is refused before connecting', async (t) => {
  const { text, out } = capture();
  t.is(await main(['check', '--to', 'hostb'], out), 2);
  t.regex(text.err, /unknown host "hostb"/);
  t.regex(text.err, /ssh:\/\//);
});

test('usage errors of migrate itself: two workloads at once, container-only flags with --pid or --runc, unknown strategy or page mode', async (t) => {
  for (const [argv, message] of [
    [['web1', '--pid', '42', '--to', 'ssh://h'], /exactly one of: a Docker container, --pid PID, --runc ID/],
    [['--runc', 'c1', '--pid', '42', '--to', 'ssh://h'], /exactly one of/],
    [['--to', 'ssh://h'], /nothing to migrate/],
    [['--runc', '../x', '--to', 'ssh://h'], /--runc to be a runc container ID/],
    [['web1', '--runc-root', '/run/x', '--to', 'ssh://h'], /--runc-root applies to --runc only/],
    [['--pid', '42', '--keep-source', '--to', 'ssh://h'], /--keep-source applies to Docker containers, not to --pid/],
    [['--runc', 'c1', '--name', 'x', '--to', 'ssh://h'], /--name applies to Docker containers, not to --runc/],
    [['web1', '--to', 'ssh://h', '--strategy', 'warp'], /strategy "warp" is not implemented yet/],
    [['--pid', '42', '--to', 'ssh://h', '--strategy', 'cold', '--downtime-target', '100'], /--downtime-target applies to pre-copy only/],
    [['--pid', '42', '--to', 'ssh://h', '--max-rounds', '0'], /--max-rounds to be an integer ≥ 1/],
    [['web1', '--to', 'ssh://h', '--pages', 'carrier-pigeon'], /--pages to be one of page-server, stream/],
    [['web1', '--to', 'ssh://h', '--page-channel', 'udp'], /--page-channel to be one of auto, direct, ssh, got `udp`/],
    [['drain', '--from', 'ssh://h', '--to', 'ssh://g', '--page-channel', 'udp'], /--page-channel to be one of auto, direct, ssh/],
    [['web1', '--to', 'ssh://h', '--prefetch', 'eager'], /--prefetch to be one of auto, off, got `eager`/],
    [['drain', '--from', 'ssh://h', '--to', 'ssh://g', '--prefetch', 'on'], /--prefetch to be one of auto, off, got `on`/],
    [['web1', '--to', 'ssh://h', '--page-forwarder', 'yes'], /--page-forwarder to be one of auto, off, got `yes`/],
    [['drain', '--from', 'ssh://h', '--to', 'ssh://g', '--page-forwarder', 'on'], /--page-forwarder to be one of auto, off, got `on`/],
  ] as const) {
    const { text, out } = capture();
    t.is(await main([...argv], out), 2, argv.join(' '));
    t.regex(text.err, message);
  }
});

test('filesystem flags: --volume-map wants SOURCE=TARGET, and the container-only ones are refused with --pid', async (t) => {
  for (const [args, message] of [
    [['web1', '--to', 'ssh://h', '--volume-map', 'data'], /--volume-map to be SOURCE_VOLUME=TARGET_VOLUME, got `data`/],
    [['web1', '--to', 'ssh://h', '--volume-map', 'a=../b'], /SOURCE_VOLUME=TARGET_VOLUME/],
    [['--pid', '1', '--to', 'ssh://h', '--copy-bind-mounts'], /--copy-bind-mounts applies to Docker containers/],
    [['--pid', '1', '--to', 'ssh://h', '--force'], /--force applies to Docker containers/],
  ] as const) {
    const { text, out } = capture();
    t.is(await main([...args], out), 2, args.join(' '));
    t.regex(text.err, message);
  }
});
