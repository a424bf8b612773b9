/**
 * Runs shell scripts kept as files: `NAME.sh` beside the registry module that names it. A file's
 * shebang says its shell (`#!/bin/sh` or `#!/usr/bin/env bash`). Its header comment (what it
 * does, its arguments, its exit codes) is for readers and stays behind: the host gets the rest,
 * which is also what an error message quotes of a failed command. A function shared by several
 * scripts lives in `lib/NAME.sh` beside them; a script sources it with the line
 * `. "$(dirname "$0")/lib/NAME.sh"`, which the loader replaces with that file's body (without its
 * header), so a host still receives one self-contained script.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SHELLS: Readonly<Record<string, 'sh' | 'bash'>> = { '#!/bin/sh': 'sh', '#!/usr/bin/env bash': 'bash' };

export interface ScriptFile {
  shell: 'sh' | 'bash';
  /** The file without its shebang and header comment. */
  body: string;
}

/** A line that sources a shared function file: `. "$(dirname "$0")/lib/NAME.sh"`. */
const INCLUDE = /^\. "\$\(dirname "\$0"\)\/(lib\/[a-z0-9-]+)\.sh"$/gm;

/**
 * Reads `NAME.sh` next to the module at `base` (its import.meta.url), with the shared function
 * files it sources inlined (one level: a lib file sources nothing).
 */
export function readScript(base: string, name: string): ScriptFile {
  const file = readOne(base, name);
  return { ...file, body: file.body.replace(INCLUDE, (_, lib: string) => readOne(base, lib).body.replace(/\n$/, '')) };
}

function readOne(base: string, name: string): ScriptFile {
  const path = fileURLToPath(new URL(`./${name}.sh`, base));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`host script ${name} cannot be read at ${path} (npm run build copies the .sh files into dist/)`, { cause: e });
  }
  const shebang = text.slice(0, text.indexOf('\n'));
  const shell = SHELLS[shebang];
  if (!shell) throw new Error(`${path}: the first line must be #!/bin/sh or #!/usr/bin/env bash, not ${JSON.stringify(shebang)}`);
  return { shell, body: text.replace(/^(?:#.*\n|[ \t]*\n)*/, '') };
}

/**
 * The argv builder of a registry at `base`: `run(name, ...args)` is `[shell, '-c', body, name,
 * ...args]` (the name is the script's $0). Each file is read once, when first run.
 */
export function scriptRunner<Name extends string>(base: string): (name: Name, ...args: string[]) => string[] {
  const files = new Map<Name, ScriptFile>();
  return (name, ...args) => {
    let file = files.get(name);
    if (!file) files.set(name, (file = readScript(base, name)));
    return [file.shell, '-c', file.body, name, ...args];
  };
}
