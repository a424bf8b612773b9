/**
 * `migrate CONTAINER --to ssh://...`, `migrate --pid PID --to ...` and `migrate --runc ID --to ...`:
 * migration of a Docker container, a process tree or a container runc runs by itself. Ctrl-C (SIGINT) aborts: before the freeze nothing
 * happens, after it the workload is put back on the source.
 */
import { parseArgs } from 'node:util';
import {
  MigrateError, STRATEGIES, TCP_POLICIES, isMigrateError, migrate, openTransport,
  type MigrationReport, type PageTransport, type RestoreMode, type StopPolicy, type Strategy, type TcpPolicy,
} from '../../src/index.js';
import { SSH_FLAGS, sshOptions } from '../ssh-options.js';
import { pageChannelOf, pageForwarderOf, prefetchOf } from '../mode-flags.js';
import type { Output } from '../output.js';
import { PROGRESS_MODES, type ProgressMode } from '../progress-view.js';

const PAGES: readonly PageTransport[] = ['page-server', 'stream'];
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const RESTORE: readonly RestoreMode[] = ['lazy', 'eager'];

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: 'string' }, from: { type: 'string' }, name: { type: 'string' }, pid: { type: 'string' }, runc: { type: 'string' }, 'runc-root': { type: 'string' },
      'keep-source': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' }, 'zstd-level': { type: 'string' }, strategy: { type: 'string' },
      pages: { type: 'string' }, 'page-channel': { type: 'string' }, prefetch: { type: 'string' }, 'page-forwarder': { type: 'string' }, restore: { type: 'string' }, 'transfer-image': { type: 'boolean' },
      'downtime-target': { type: 'string' }, 'max-rounds': { type: 'string' },
      tcp: { type: 'string' }, 'freeze-timeout': { type: 'string' }, progress: { type: 'string' },
      'volume-map': { type: 'string', multiple: true }, force: { type: 'boolean' }, 'copy-bind-mounts': { type: 'boolean' },
      ...SSH_FLAGS,
    },
  });
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  if (pid !== undefined && (!Number.isInteger(pid) || pid < 1)) throw new MigrateError('BAD_INPUT', `Expected --pid to be a process ID, got \`${values.pid}\``);
  const runc = values.runc;
  const given = positionals.length + (pid === undefined ? 0 : 1) + (runc === undefined ? 0 : 1);
  if (given !== 1) {
    throw new MigrateError('BAD_INPUT', given === 0 ? 'nothing to migrate' : 'give exactly one of: a Docker container, --pid PID, --runc ID', {
      hint: 'migrate CONTAINER --to ssh://root@HOST, migrate --pid PID --to ..., or migrate --runc ID --to ...',
    });
  }
  if (runc !== undefined && !/^[\w][\w+.-]*$/.test(runc)) throw new MigrateError('BAD_INPUT', `Expected --runc to be a runc container ID, got \`${runc}\``);
  if (values['runc-root'] !== undefined && runc === undefined) throw new MigrateError('BAD_INPUT', '--runc-root applies to --runc only');
  if (pid !== undefined || runc !== undefined) {
    for (const flag of ['name', 'keep-source', 'transfer-image', 'volume-map', 'force', 'copy-bind-mounts'] as const) {
      if (values[flag] !== undefined) throw new MigrateError('BAD_INPUT', `--${flag} applies to Docker containers, not to ${pid !== undefined ? '--pid' : '--runc'}`);
    }
  }
  if (!values.to) throw new MigrateError('BAD_INPUT', 'no target host', { hint: 'add --to ssh://root@HOST' });
  const strategy = (values.strategy ?? 'auto') as Strategy | 'auto';
  if (strategy !== 'auto' && !STRATEGIES.includes(strategy)) {
    throw new MigrateError('BAD_INPUT', `strategy "${values.strategy}" is not implemented yet`, { hint: `use --strategy auto (the default), ${STRATEGIES.join(', ')}` });
  }
  const precopy: Partial<StopPolicy> = {};
  for (const [flag, key, min] of [['downtime-target', 'downtimeTargetMs', 0], ['max-rounds', 'maxRounds', 1]] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    if (strategy !== 'precopy' && strategy !== 'hybrid' && strategy !== 'auto') throw new MigrateError('BAD_INPUT', `--${flag} applies to pre-copy only (--strategy precopy or auto)`);
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new MigrateError('BAD_INPUT', `Expected --${flag} to be an integer ≥ ${min}, got \`${v}\``);
    precopy[key] = x;
  }
  const pages = (values.pages ?? 'page-server') as PageTransport;
  if (!PAGES.includes(pages)) throw new MigrateError('BAD_INPUT', `Expected --pages to be one of ${PAGES.join(', ')}, got \`${values.pages}\``);
  const pageChannel = pageChannelOf(values['page-channel']);
  const prefetch = prefetchOf(values.prefetch);
  const pageForwarder = pageForwarderOf(values['page-forwarder']);
  const restore = values.restore as RestoreMode | undefined;
  if (restore !== undefined && !RESTORE.includes(restore)) throw new MigrateError('BAD_INPUT', `Expected --restore to be one of ${RESTORE.join(', ')}, got \`${values.restore}\``);
  const freezeTimeoutS = values['freeze-timeout'] === undefined ? undefined : Number(values['freeze-timeout']);
  if (freezeTimeoutS !== undefined && (!Number.isInteger(freezeTimeoutS) || freezeTimeoutS < 1)) {
    throw new MigrateError('BAD_INPUT', `Expected --freeze-timeout to be a whole number of seconds ≥ 1, got \`${values['freeze-timeout']}\``);
  }
  const tcp = (values.tcp ?? 'refuse') as TcpPolicy;
  if (!TCP_POLICIES.includes(tcp)) throw new MigrateError('BAD_INPUT', `Expected --tcp to be one of ${TCP_POLICIES.join(', ')}, got \`${values.tcp}\``);
  const level = values['zstd-level'] === undefined ? 1 : Number(values['zstd-level']);
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new MigrateError('BAD_INPUT', `Expected --zstd-level to be an integer from 1 to 19, got \`${values['zstd-level']}\``);
  }
  return { values, container: positionals[0], pid, runc, pages, pageChannel, prefetch, pageForwarder, restore, level, strategy, precopy, tcp, freezeTimeoutS, volumeMap: volumeMap(values['volume-map'] ?? []) };
}

/** What the prefetcher did: of the pages the daemon got, how many were there before it asked. */
function prefetchLine(s: NonNullable<MigrationReport['prefetch']>['stats']): string {
  if (!s) return 'pulled the memory ahead of the lazy-pages daemon';
  return `pulled the memory ahead of the lazy-pages daemon: ${s.pages_ready} of ${s.pages_served} pages were there when it asked, ${s.pages_waited} on their way, ${s.pages_forwarded} asked of the source for it`;
}

function progressMode(v: string): ProgressMode {
  if (!(PROGRESS_MODES as readonly string[]).includes(v)) throw new MigrateError('BAD_INPUT', `Expected --progress to be one of ${PROGRESS_MODES.join(', ')}, got \`${v}\``);
  return v as ProgressMode;
}

/** --volume-map SOURCE=TARGET (repeatable). */
function volumeMap(pairs: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of pairs) {
    const m = /^([\w][\w.-]*)=([\w][\w.-]*)$/.exec(p);
    if (!m) throw new MigrateError('BAD_INPUT', `Expected --volume-map to be SOURCE_VOLUME=TARGET_VOLUME, got \`${p}\``);
    map.set(m[1]!, m[2]!);
  }
  return map;
}

export async function migrateCommand(argv: string[], out: Output): Promise<number> {
  const { values, container, pid, runc, pages, pageChannel, prefetch, pageForwarder, restore, level, strategy, precopy, tcp, freezeTimeoutS, volumeMap } = parse(argv);
  out.json = values.json ?? false;
  if (values.progress !== undefined) out.progressMode = progressMode(values.progress);
  const ssh = sshOptions(values);
  const source = openTransport(values.from, ssh, (m) => out.warn(m));
  const target = openTransport(values.to, ssh, (m) => out.warn(m));
  // Ctrl-C, `timeout`, a service manager and a closed terminal all mean "stop": before the freeze
  // nothing happens, after it the workload is put back on the source (or finished, if it already
  // runs on the target). A second signal changes nothing: the rollback must not be cut short.
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!abort.signal.aborted) out.warn(`interrupted (${signal}): stopping and putting the workload back where it belongs`);
    abort.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  const common = { source, target, strategy, precopy, tcp, freezeTimeoutMs: freezeTimeoutS && freezeTimeoutS * 1000, dryRun: values['dry-run'], zstdLevel: level, pages, pageChannel, ...(prefetch ? { prefetch } : {}), ...(pageForwarder ? { pageForwarder } : {}), restore, signal: abort.signal, onEvent: out.event.bind(out) };
  try {
    const report = pid !== undefined ? await migrate({ ...common, pid })
      : runc !== undefined ? await migrate({ ...common, runc, runcRoot: values['runc-root'] })
      : await migrate({
        ...common, container: container!, name: values.name, keepSource: values['keep-source'], transferImage: values['transfer-image'],
        volumeMap, force: values.force, copyBindMounts: values['copy-bind-mounts'],
      });
    if (out.json) out.result(report);
    else out.text(formatReport(report));
    return report.outcome === 'migrated' || report.outcome === 'dry-run' ? 0 : 1;
  } catch (e) {
    if (isMigrateError(e) && out.json) {
      // Nothing moved (preflight) or the rollback itself failed: say where the workload is.
      out.result({ outcome: 'failed', runs_on: e.runsOn ?? 'source', error: e.toJSON() });
      out.warn(e.message);
      return 1;
    }
    throw e;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await Promise.all([source.close(), target.close()]);
  }
}

/** The checkpoint phase's part before CRIU froze the workload, which the freeze does not count. */
const notFrozen = (r: MigrationReport): string => (r.freeze_start?.from === 'criu' ? ` − ${r.freeze_start.command_ms} before CRIU froze it` : '');

function formatReport(r: MigrationReport): string {
  if (r.outcome === 'dry-run') return `dry run: every preflight check passed for ${r.workload.source} (${r.phases_ms.preflight} ms); nothing was frozen`;
  const recovered = (r.recovered ?? []).map((x, i) => `${i === 0 ? '  recovered' : '           '}  ${x}`);
  if (r.outcome === 'migrated' && r.freeze_ms === null) return [`${r.workload.source} already runs on the target: ${r.strategy_reason}`, ...recovered].join('\n');
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const lines = [
    r.outcome === 'migrated'
      ? `migrated ${r.workload.source} → ${r.workload.target}: runs on the target`
      : `migration of ${r.workload.source} FAILED and was rolled back: it runs on the ${r.runs_on}`,
    `  freeze     ${r.freeze_ms ?? '-'} ms  (checkpoint ${r.phases_ms.checkpoint}${notFrozen(r)} + transfer ${r.phases_ms.transfer} + restore ${r.phases_ms.restore}, ${r.restore})`,
    `  strategy   ${r.strategy}${r.strategy_reason ? ` — ${r.strategy_reason}` : ''}`,
    ...(r.phases_ms.fill !== undefined ? [`  after      memory filled in on the target ${r.phases_ms.fill} ms after it resumed`] : []),
    ...(r.postcopy_ms !== undefined ? [`  post-copy  memory arrived from the source ${r.postcopy_ms} ms after it resumed`] : []),
    ...(r.lazy_pages ? [`  pages      ${r.lazy_pages.on_demand} fetched on demand (page faults), ${r.lazy_pages.background} in the background`] : []),
    ...(r.prefetch ? [`  prefetch   ${r.prefetch.used ? prefetchLine(r.prefetch.stats) : `not used: ${r.prefetch.reason}`}`] : []),
    ...(r.page_forwarder ? [`  forwarder  ${r.page_forwarder.used ? 'carried the memory from the source\'s page server to the link' : `not used: ${r.page_forwarder.reason}`}`] : []),
    `  before     preflight ${r.phases_ms.preflight} ms, ${r.phases_ms.image ? `image ${r.phases_ms.image} ms, ` : ''}prepare target ${r.phases_ms.create} ms` +
      (r.phases_ms.filesystem_before_freeze !== undefined ? `, files ${r.phases_ms.filesystem_before_freeze} ms` : ''),
    ...(r.tcp.established > 0 || r.tcp.policy !== 'refuse'
      ? [`  tcp        ${r.tcp.established} connection${r.tcp.established === 1 ? '' : 's'} (--tcp ${r.tcp.policy}${r.tcp.policy === 'close' ? `: ${r.tcp.closed} closed` : r.tcp.policy === 'keep' ? ': moved' : ''})`] : []),
    `  bytes      ${mib(r.bytes.raw)} MiB of images, ${mib(r.bytes.wire)} MiB on the wire (pages: ${r.pages}${r.page_channel ? `, channel ${r.page_channel}` : ''})`,
  ];
  if (r.precopy) {
    for (const x of r.precopy.rounds) {
      lines.push(`  pre-dump ${x.round} ${x.pages_written} pages written, ${x.pages_skipped} skipped, ${mib(x.bytes)} MiB in ${x.ms} ms (frozen ${x.frozen_ms} ms)`);
    }
    lines.push(`  stopped    ${r.precopy.stop.why}`);
  }
  const fs = r.bytes.filesystem;
  if (fs) {
    lines.push(`  files      ${mib(fs.before_freeze)} MiB before the freeze, ${mib(fs.frozen)} MiB while frozen (${r.phases_ms.filesystem ?? '-'} ms, beside the transfer), ${mib(fs.wire)} MiB on the wire`);
    for (const t of r.filesystem ?? []) {
      if (t.frozen) lines.push(`             ${t.tree}: ${t.frozen.entries} entries sent, ${t.frozen.removed} removed while frozen`);
    }
  }
  if (r.criu.dump) lines.push(`  criu dump  frozen ${(r.criu.dump.frozenTimeUs / 1000).toFixed(1)} ms, ${r.criu.dump.pagesWritten} pages written`);
  if (r.criu.restore) lines.push(`  criu rest. ${(r.criu.restore.restoreTimeUs / 1000).toFixed(1)} ms`);
  lines.push(...recovered);
  if (r.error) lines.push(`  error      ${String(r.error.message).split('\n').join('\n             ')}`);
  return lines.join('\n');
}
