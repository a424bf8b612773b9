/** The `migrate` command line: dispatches to a command and turns errors into messages and exit codes. */
import { MigrateError, errorJson } from '../src/index.js';
import { checkCommand } from './commands/check.js';
import { drainCommand, undrainCommand } from './commands/drain.js';
import { migrateCommand } from './commands/migrate.js';
import { recoverCommand } from './commands/recover.js';
import { HELP } from './help.js';
import { Output } from './output.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export async function main(argv: string[], out = new Output()): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      out.text(HELP);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === 'check') return await checkCommand(rest, out);
    if (first === 'recover') return await recoverCommand(rest, out);
    if (first === 'drain') return await drainCommand(rest, out);
    if (first === 'undrain') return await undrainCommand(rest, out);
    // Anything else migrates: `migrate CONTAINER --to ...` or `migrate --pid PID --to ...`.
    return await migrateCommand(argv, out);
  } catch (e) {
    return report(e, out, argv.includes('--json'));
  }
}

function report(e: unknown, out: Output, json: boolean): number {
  const usage = (e instanceof MigrateError && e.code === 'BAD_INPUT') || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const message = e instanceof Error ? e.message : String(e);
  if (json) out.result({ error: errorJson(e) });
  out.warn(message);
  if (!(e instanceof MigrateError) && !usage && e instanceof Error && process.env.MIGRATE_DEBUG) out.warn(e.stack ?? '');
  return usage ? EXIT.usage : EXIT.failed;
}

