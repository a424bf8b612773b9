/**
 * The host-script registries match their folders, every script runs under the shell its shebang
 * names, and every header documents the script's arguments and exit codes.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../helpers/lab.js';
import { EXIT, HOST_SCRIPTS, hostScript } from '../../../src/host-scripts/index.js';
import { TRANSPORT_SCRIPTS, transportScript } from '../../../transports/host-scripts/index.js';
import { PID_TAG } from '../../../transports/ssh/ssh-transport.js';

const REGISTRIES = [
  { dir: 'src/host-scripts', names: HOST_SCRIPTS as readonly string[], run: hostScript as (name: string, ...args: string[]) => string[] },
  { dir: 'transports/host-scripts', names: TRANSPORT_SCRIPTS as readonly string[], run: transportScript as (name: string, ...args: string[]) => string[] },
];

interface Parsed { shebang: string; header: string[]; body: string[] }

function parse(dir: string, name: string): Parsed {
  const [shebang = '', ...rest] = readFileSync(join(REPO, dir, `${name}.sh`), 'utf8').split('\n');
  const end = rest.findIndex((l) => !l.startsWith('#'));
  return { shebang, header: rest.slice(0, end), body: rest.slice(end) };
}

/** A line sourcing a shared function file (lib/NAME.sh), which the loader inlines. */
const SOURCES = /^\. "\$\(dirname "\$0"\)\/(lib\/[a-z0-9-]+)\.sh"$/;

/** The body as the host gets it: each sourcing line replaced by that lib file's body. */
function inlined(dir: string, body: string[]): string[] {
  return body.flatMap((l) => {
    const m = SOURCES.exec(l);
    if (!m) return [l];
    const lib = parse(dir, m[1]!).body;
    while (lib.length && lib[0] === '') lib.shift();
    while (lib.length && lib[lib.length - 1] === '') lib.pop();
    return lib;
  });
}

/** The header lines of a section (`# Exit:`), up to the next section or the end. */
function section(header: string[], title: string): string[] {
  const start = header.findIndex((l) => l.startsWith(`# ${title}:`));
  if (start < 0) return [];
  const next = header.findIndex((l, i) => i > start && /^# [A-Z]\w*:/.test(l));
  return header.slice(start, next < 0 ? undefined : next);
}

/** Code without comments and single-quoted text (awk programs, trap strings). */
const code = (body: string[]): string => body.filter((l) => !/^\s*#/.test(l)).map((l) => l.replace(/'[^']*'/g, "''")).join('\n');

for (const { dir, names, run } of REGISTRIES) {
  test(`${dir}: every registered name has a file, and every file is registered`, (t) => {
    const files = readdirSync(join(REPO, dir)).filter((f) => f.endsWith('.sh')).map((f) => f.slice(0, -3)).sort();
    t.deepEqual([...names].sort(), files);
  });

  for (const name of names) {
    test(`${dir}/${name}.sh: runs under its shebang's shell, without its header`, (t) => {
      const { shebang, body } = parse(dir, name);
      const argv = run(name, 'x');
      t.deepEqual(argv.slice(0, 2), [shebang === '#!/usr/bin/env bash' ? 'bash' : 'sh', '-c']);
      t.deepEqual(argv.slice(3), [name, 'x']);
      t.is(argv[2], inlined(dir, body).join('\n').replace(/^\n+/, ''));
    });

    test(`${dir}/${name}.sh: its header documents its arguments and exit codes`, (t) => {
      const { header, body } = parse(dir, name);
      const text = code(body);
      const args = section(header, 'Arguments').join('\n');
      t.regex(args, /Arguments:/, 'no "# Arguments:" section');
      for (const [, n] of text.matchAll(/\$\{?([1-9])/g)) t.true(args.includes(`$${n}`), `$${n} is used but not in # Arguments`);
      if (/"\$@"|\bfor \w+;/.test(text)) t.true(args.includes('...'), 'takes a list of arguments ("$@") but # Arguments names no "$N..."');
      const exits = section(header, 'Exit');
      t.true(exits.length > 1, 'no "# Exit:" section');
      const documented = new Set(exits.map((l) => /^#\s+(\d+)\s/.exec(l)?.[1]).filter((n) => n !== undefined));
      for (const m of text.matchAll(/\bexit\s+(\d+)|\bflock -E (\d+)/g)) {
        const n = m[1] ?? m[2]!;
        t.true(documented.has(n), `exit ${n} is used but not in # Exit`);
      }
      for (const l of exits) {
        const m = /^#\s+(\d+)\s+EXIT\.(\w+)/.exec(l);
        if (m) t.is((EXIT as Record<string, number>)[m[2]!], Number(m[1]), `${l}: EXIT.${m[2]} is not ${m[1]}`);
      }
    });
  }
}

test('src/host-scripts/lib: every shared function file is sourced by a script, and the host gets it inlined', (t) => {
  const libs = readdirSync(join(REPO, 'src/host-scripts/lib')).filter((f) => f.endsWith('.sh')).map((f) => f.slice(0, -3));
  t.true(libs.length > 0);
  for (const lib of libs) {
    const users = HOST_SCRIPTS.filter((n) => parse('src/host-scripts', n).body.includes(`. "$(dirname "$0")/lib/${lib}.sh"`));
    t.true(users.length > 0, `lib/${lib}.sh is sourced by no script`);
    for (const n of users) {
      const sent = hostScript(n)[2]!;
      t.false(/^\. "\$\(dirname/m.test(sent), `${n}: a sourcing line reached the host`);
      t.true(sent.includes(parse('src/host-scripts', `lib/${lib}`).body.find((l) => /^\w+\(\) \{$/.test(l))!), `${n}: lib/${lib}.sh's function is not inlined`);
    }
  }
});

test('every EXIT constant is named in a script header', (t) => {
  const headers = HOST_SCRIPTS.map((n) => parse('src/host-scripts', n).header.join('\n')).join('\n');
  for (const [key, value] of Object.entries(EXIT)) t.regex(headers, new RegExp(`#\\s+${value}\\s+EXIT\\.${key}\\b`), `EXIT.${key}`);
});

test('the SSH transport looks for the PID tag its wrapper prints', (t) => {
  t.true(transportScript('exec-reporting-pid')[2]!.includes(`echo "${PID_TAG}$$"`));
});
