/**
 * Runs one of migrate's own node programs on a host for one run: its modules are written into a
 * directory of the run there (0700) and started with that host's `node`; the controller speaks
 * to it in lines on its stdin and hears it in lines on its stdout, `WORD ARG` (`started` first,
 * once it runs). Used for the post-copy prefetcher on the target (prefetch/prefetcher.ts) and
 * the page forwarder on the source (transfer/page-forwarder.ts).
 *
 * A host without a node that runs it is no error here: the caller hears why (`unavailable`) and
 * moves without the program.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Transport } from '../transports/transport.js';
import { MigrateError } from '../transports/errors.js';
import { writeFileVia } from '../transports/files.js';

export interface RemoteProgram {
  /** Calls `f` with the rest of every line its stdout starts with `word`: those said so far, then those to come. */
  on(word: string, f: (arg: string) => void): void;
  /** Writes one line to its stdin. */
  send(line: string): void;
  /** Settles once it exited: undefined after exit 0, else why (a MigrateError with its stderr). */
  readonly ended: Promise<unknown>;
  kill(): void;
}

export interface RemoteProgramOptions {
  /** The directory on the host the program is written into (created, 0700). */
  dir: string;
  /** Its modules: name and text; node's ESM loader needs the package.json that is added beside them. */
  files: ReadonlyArray<readonly [name: string, text: string]>;
  /** The module to run, one of `files`, and its arguments. */
  main: string;
  args: readonly string[];
  env?: Record<string, string>;
  /** What the program needs of the host's node, for the reason it did not start ("Node 18 or later"). */
  needs: string;
}

/** The modules `names`, as built in the directory `dir` (a file: URL). */
export function builtModules(dir: URL, names: readonly string[]): Array<[name: string, text: string]> {
  const path = fileURLToPath(dir);
  return names.map((m): [string, string] => [m, readFileSync(posix.join(path, m), 'utf8')]);
}

/** What a failed command said: its stderr when it has one. */
export const stderrOf = (e: unknown): string => (e instanceof MigrateError ? e.stderr?.trim() || e.message : String(e));

/** Writes and starts it; resolves once it said `started`, or with why it cannot run on `t`'s host. */
export async function startRemoteProgram(t: Transport, o: RemoteProgramOptions): Promise<RemoteProgram | { unavailable: string }> {
  await t.exec(['mkdir', '-p', '-m', '0700', o.dir]);
  const files: Array<readonly [string, string]> = [['package.json', '{"type":"module"}\n'], ...o.files];
  await Promise.all(files.map(([name, text]) => writeFileVia(t, posix.join(o.dir, name), text)));
  const cmd = t.spawn(['node', posix.join(o.dir, o.main), ...o.args], o.env ? { env: o.env } : undefined);
  const listeners = new Map<string, Array<(arg: string) => void>>();
  // A line may come before anyone listens for it (several arrive in one read): kept, and replayed.
  const said: Array<[word: string, arg: string]> = [];
  const on = (word: string, f: (arg: string) => void) => {
    listeners.set(word, [...(listeners.get(word) ?? []), f]);
    for (const [w, arg] of said) if (w === word) f(arg);
  };
  let buffered = '';
  cmd.stdout.setEncoding('utf8');
  cmd.stdout.on('data', (s: string) => {
    buffered += s;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const sp = line.indexOf(' ');
      const [word, arg] = sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp + 1)];
      said.push([word, arg]);
      for (const f of listeners.get(word) ?? []) f(arg);
    }
  });
  const ended = cmd.done.then(() => undefined, (e: unknown) => e);
  try {
    await new Promise<void>((resolve, reject) => {
      on('started', () => resolve());
      void ended.then((e) => reject(e ?? new Error('it exited before it started')));
    });
  } catch (e) {
    cmd.kill();
    const said = stderrOf(e);
    return { unavailable: /node: (command )?not found|No such file/.test(said) ? `no node on ${t.name}` : `it did not start on ${t.name} (${o.needs} needed): ${said}` };
  }
  return { on, send: (line) => cmd.stdin.write(`${line}\n`), ended, kill: () => cmd.kill() };
}
