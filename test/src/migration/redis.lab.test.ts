/**
 * Real software: Redis from Debian's package (not memload) in a container with a published
 * port, moved between the lab's hosts with the dataset checked by DEBUG DIGEST, and with a client
 * writing through the published port while it moves (--tcp close) or refused (the default).
 */
import test, { type ExecutionContext } from 'ava';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import type { MigrationReport } from '../../../src/migration/report.js';
import { isMigrateError } from '../../../transports/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { runSignalled } from '../../helpers/cli.js';
import { exists, removeEverywhere, running } from '../../helpers/containers.js';
import { cli, digest, incrClient, ping, startRedis, usedMemory } from '../../helpers/redis.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
const names: string[] = [];
test.after.always(async () => {
  for (const name of names) await removeEverywhere(name, a, b);
  await b.close();
});

const A_IP = '10.231.0.1';
const B_IP = '10.231.0.2';
/** 1,000,000 keys of 200 bytes: Redis then holds about 290 MiB. */
const KEYS = 1_000_000;

function assertMigrated(t: ExecutionContext, r: MigrationReport, how: string): void {
  t.is(r.outcome, 'migrated', `${how}: ${JSON.stringify(r.error)}`);
  t.is(r.runs_on, 'target');
  t.log(`${how}: ${r.strategy}, freeze ${r.freeze_ms} ms, ${(r.bytes.raw / 2 ** 20).toFixed(0)} MiB${r.postcopy_ms !== undefined ? `, post-copy window ${r.postcopy_ms} ms` : ''}`);
}

async function roundTrip(t: ExecutionContext, strategy: 'cold' | 'postcopy'): Promise<void> {
  const r = await startRedis(a, KEYS);
  names.push(r.name);
  t.true((await usedMemory(a, r.name)) >= 200 * 2 ** 20, 'a dataset of at least 200 MiB');
  const before = await digest(a, r.name);
  const there = await migrateDockerContainer({ container: r.name, source: a, target: b, strategy });
  assertMigrated(t, there, 'A → B');
  t.false(await exists(a, r.name));
  t.is(await digest(b, r.name), before, 'the dataset arrived on B intact');
  t.is(await cli(b, r.name, 'SET', 'written-on', 'B'), 'OK', 'it serves writes on B');
  const onB = await digest(b, r.name);
  const back = await migrateDockerContainer({ container: r.name, source: b, target: a, strategy });
  assertMigrated(t, back, 'B → A');
  t.false(await exists(b, r.name));
  t.is(await digest(a, r.name), onB, 'and came back to A intact, with what was written on B');
}

test.serial('Redis with a 290 MiB dataset migrates A → B and back, cold: DEBUG DIGEST identical each way', async (t) => {
  await roundTrip(t, 'cold');
});

test.serial('Redis with a 290 MiB dataset migrates A → B and back, post-copy: DEBUG DIGEST identical each way', async (t) => {
  await roundTrip(t, 'postcopy');
});

test.serial('a connected client makes the default refuse before the freeze, naming the connection and both choices', async (t) => {
  const r = await startRedis(a);
  names.push(r.name);
  const client = incrClient(['127.0.0.1'], r.port, 'n');
  try {
    await waitForAcks(client, 20);
    const e = await t.throwsAsync(migrateDockerContainer({ container: r.name, source: a, target: b }));
    t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
    t.regex(e!.message, /container redis-\d+-\d+ has 1 open TCP connection: \d+\.\d+\.\d+\.\d+:6379 ↔ \d+\.\d+\.\d+\.\d+:\d+ \(established\)/);
    t.regex(e!.message, /--tcp close .* --tcp keep/s);
    t.false(await exists(b, r.name), 'nothing made on the target');
    const log = await client.stop();
    t.is(log.reconnects, 0, 'the client never lost its connection: nothing was frozen');
    t.is(await running(a, r.name), 'true');
  } finally {
    await client.stop();
  }
});

test.serial('--tcp close with a client writing through the published port: no acknowledged write lost, the client reconnects to B', async (t) => {
  const r = await startRedis(a, KEYS);
  names.push(r.name);
  // The client tries A's published port first, then B's: whichever host serves it. Its reply
  // timeout is long (10 s), so that only a reset can make it move on within the move.
  const client = incrClient([A_IP, B_IP], r.port, 'counter', 1, 10_000);
  let log;
  let report: MigrationReport;
  try {
    await waitForAcks(client, 200);
    report = await migrateDockerContainer({ container: r.name, source: a, target: b, strategy: 'postcopy', tcp: 'close' });
    await new Promise((res) => setTimeout(res, 1500)); // the client finds B
  } finally {
    log = await client.stop();
  }
  assertMigrated(t, report, 'A → B with a writing client');
  t.is(report.tcp.policy, 'close');
  t.true(report.tcp.established >= 1, `established ${report.tcp.established}`);
  t.is(report.tcp.closed, report.tcp.established);
  t.true(log.reconnects >= 1, 'the client saw its connection end');
  const final = Number(await cli(b, r.name, 'GET', 'counter'));
  const last = log.acked[log.acked.length - 1]!;
  t.true(log.acked.every((v, i) => i === 0 || v > log.acked[i - 1]!), 'every acknowledged INCR is above the one before: none was lost or undone');
  t.is(final, last, 'B holds exactly what the client was last told');
  t.true(log.acked.filter((v) => v > (log.acked[199] ?? 0)).length > 0, 'writes were acknowledged after the move');
  // The source copy stays stopped while post-copy serves its memory: its connection is reset as
  // soon as B runs, so the client learns from a reset, not by waiting out its reply timeout.
  t.true((report.tcp.reset_on_source ?? 0) >= 1, `reset on the source: ${report.tcp.reset_on_source}`);
  // The client waited for the move, not out its 10 s reply timeout: its gap is the freeze and a
  // reconnect. Bounded by the freeze, not a fixed figure: a CI run froze once for 5.2 s (cause not
  // found; the phases are logged below since).
  t.true(log.longestGapMs < Math.min(report.freeze_ms! + 2500, 10_000), `longest gap ${log.longestGapMs} ms, freeze ${report.freeze_ms} ms`);
  const gapEnd = log.longestGapFrom + log.longestGapMs;
  const ended = log.errors.filter((e) => e.at <= gapEnd && e.why !== 'connect failed');
  t.is(ended[ended.length - 1]?.why, 'connection lost', `how the client's connections ended: ${JSON.stringify(log.errors)}`);
  t.log(`${log.acked.length} INCRs acknowledged, ${log.reconnects} reconnects, longest gap between replies ${log.longestGapMs} ms (freeze ${report.freeze_ms} ms: ${JSON.stringify(report.phases_ms)})`);
});

test.serial('a failed move rolls back and Redis answers through its published port on A again: the network lock CRIU\'s dump left is lifted', async (t) => {
  const r = await startRedis(a, 1000);
  names.push(r.name);
  const report = await migrateDockerContainer({
    container: r.name, source: a, target: b, strategy: 'postcopy', faults: { beforeRestore: async () => { throw new Error('injected before the restore'); } },
  });
  t.is(report.outcome, 'rolled-back');
  t.is(report.runs_on, 'source');
  t.is(await cli(a, r.name, 'PING'), 'PONG', 'inside the container');
  t.is(await ping(A_IP, r.port), '+PONG', 'through the published port: its network namespace is not locked');
});

test.serial('migrate killed (SIGKILL) during a post-copy move of Redis: its guard resumes it on A, and it answers through its published port', async (t) => {
  const r = await startRedis(a, 1000);
  names.push(r.name);
  const run = await runSignalled([r.name, '--to', lab.target, '--strategy', 'postcopy', '--json'], /migrate: transfer \(/, 0, 'SIGKILL', 'group');
  t.true(run.sent, run.stderr);
  // The source's guard puts everything back, then resumes it (after lifting CRIU's network lock).
  let answer = '';
  for (const end = Date.now() + 60_000; Date.now() < end && answer !== '+PONG'; await new Promise((res) => setTimeout(res, 500))) answer = await ping(A_IP, r.port);
  t.is(answer, '+PONG', 'through the published port on A');
  t.is(await cli(a, r.name, 'PING'), 'PONG');
});

test.serial('--tcp keep: a client inside the container keeps its connection across the move, byte stream intact', async (t) => {
  // The container's main process runs both: Redis, and redis-cli repeating INCR over one
  // connection to 127.0.0.1, logging every reply.
  const name = `redis-keep-${process.pid}`;
  names.push(name);
  await a.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined', '--entrypoint', 'sh',
    process.env.MIGRATE_LAB_REDIS_IMAGE ?? 'migrate-redis:latest', '-c',
    'redis-server --save "" --appendonly no & until redis-cli ping >/dev/null 2>&1; do sleep 0.1; done; exec redis-cli -r -1 -i 0.01 INCR kept > /data/replies 2>&1']);
  await waitFor(a, name, 20);
  const id = clientIds(await cli(a, name, 'CLIENT', 'LIST'));
  t.is(id.length, 1);
  const report = await migrateDockerContainer({ container: name, source: a, target: b, tcp: 'keep' });
  assertMigrated(t, report, 'A → B with an inside client');
  t.is(report.tcp.policy, 'keep');
  t.true(report.tcp.established >= 2, `both ends of the connection moved (${report.tcp.established})`);
  t.is(report.tcp.closed, 0);
  const moved = await lines(b, name);
  await waitFor(b, name, moved.length + 50);
  const replies = await lines(b, name);
  t.deepEqual(replies, replies.map((_, i) => String(i + 1)), 'replies 1, 2, 3, … with no error, gap or repeat');
  t.deepEqual(clientIds(await cli(b, name, 'CLIENT', 'LIST')), id, 'still the same one connection');
});

test.serial('--tcp keep, a move that fails after the dump: back on A, the inside client\'s connection goes on', async (t) => {
  const name = `redis-keep-back-${process.pid}`;
  names.push(name);
  await a.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined', '--entrypoint', 'sh',
    process.env.MIGRATE_LAB_REDIS_IMAGE ?? 'migrate-redis:latest', '-c',
    'redis-server --save "" --appendonly no & until redis-cli ping >/dev/null 2>&1; do sleep 0.1; done; exec redis-cli -r -1 -i 0.01 INCR kept > /data/replies 2>&1']);
  await waitFor(a, name, 20);
  const report = await migrateDockerContainer({
    container: name, source: a, target: b, tcp: 'keep', faults: { beforeRestore: async () => { throw new Error('injected before the restore'); } },
  });
  t.is(report.outcome, 'rolled-back');
  t.is(report.runs_on, 'source');
  const back = (await lines(a, name)).length;
  await waitFor(a, name, back + 50);
  const replies = await lines(a, name);
  t.true(replies.length >= back + 50, `replies on A after the rollback: ${replies.length - back}`);
  t.deepEqual(replies, replies.map((_, i) => String(i + 1)), 'replies 1, 2, 3, … with no error, gap or repeat');
});

test.serial('a process started with docker exec is refused before the freeze: CRIU would leave it behind', async (t) => {
  const r = await startRedis(a);
  names.push(r.name);
  await a.exec(['docker', 'exec', '-d', r.name, 'sleep', '600']);
  const e = await t.throwsAsync(migrateDockerContainer({ container: r.name, source: a, target: b }));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(e!.message, /runs processes outside its main process's tree \(PID \d+ sleep 600\), started with docker exec/);
  t.false(await exists(b, r.name));
  t.is(await running(a, r.name), 'true');
});

/** The IDs Redis gave its clients that last ran INCR ("id=3 addr=… cmd=incr"). */
const clientIds = (list: string): string[] => list.split('\n').filter((l) => /cmd=incr/.test(l)).map((l) => /id=(\d+)/.exec(l)![1]!);

/** Waits until the client got `n` replies (fails the test after 10 s). */
async function waitForAcks(client: ReturnType<typeof incrClient>, n: number): Promise<void> {
  for (const end = Date.now() + 10_000; client.acked() < n; await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`the client got only ${client.acked()} of ${n} replies`);
  }
}

async function lines(t: Transport, name: string): Promise<string[]> {
  return (await t.exec(['docker', 'exec', name, 'cat', '/data/replies'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
}

async function waitFor(t: Transport, name: string, count: number): Promise<void> {
  for (let i = 0; i < 100 && (await lines(t, name)).length < count; i++) await new Promise((r) => setTimeout(r, 100));
}
