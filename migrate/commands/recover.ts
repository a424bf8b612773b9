/**
 * `migrate recover CONTAINER|--pid PID --to URL [--from URL] [--json]`: puts back what a
 * migration of the container or process tree that died left on both hosts
 * (src/migration/recover.ts), and says where it runs.
 */
import { parseArgs } from 'node:util';
import { MigrateError, openTransport, recover, type RecoverReport } from '../../src/index.js';
import { SSH_FLAGS, sshOptions } from '../ssh-options.js';
import type { Output } from '../output.js';

export async function recoverCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { to: { type: 'string' }, from: { type: 'string' }, pid: { type: 'string' }, json: { type: 'boolean' }, ...SSH_FLAGS },
  });
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new MigrateError('BAD_INPUT', `--pid needs a process ID, not "${values.pid}"`, { hint: 'migrate recover --pid PID --to ssh://root@HOST' });
  if ((pid === undefined) === (positionals.length !== 1)) {
    throw new MigrateError('BAD_INPUT', 'recover needs exactly one container or one --pid', { hint: 'migrate recover CONTAINER --to ssh://root@HOST, or migrate recover --pid PID --to ssh://root@HOST' });
  }
  if (!values.to) throw new MigrateError('BAD_INPUT', 'recover needs the target the migration went to', { hint: 'add --to ssh://root@HOST' });
  out.json = values.json ?? false;
  const ssh = sshOptions(values);
  const source = openTransport(values.from, ssh, (m) => out.warn(m));
  const target = openTransport(values.to, ssh, (m) => out.warn(m));
  try {
    const workload = pid === undefined ? { container: positionals[0]! } : { pid };
    const report = await recover({ source, target, workload, resumeUnmarked: true, onEvent: out.event.bind(out) });
    if (out.json) out.result(report);
    else out.text(formatRecover(report));
    return report.runs_on === 'source' || report.runs_on === 'target' ? 0 : 1;
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

function formatRecover(r: RecoverReport): string {
  const done = r.actions.length === 0 ? ['  nothing was left behind'] : r.actions.map((a) => `  ${a}`);
  return [`${r.workload}: runs on the ${r.runs_on}`, ...done].join('\n');
}
