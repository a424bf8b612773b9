/** The rule for directories only root may use (work root, lock directory): a pure decision. */
import test from 'ava';
import { parseDirStat, privateDirFix, privateDirProblems, type DirStat } from '../../src/private-dir.js';

const dir = (mode: number, uid = 0, type = 'directory'): DirStat => ({ type, uid, owner: uid === 0 ? 'root' : 'someone', mode });

test('stat\'s line is read as type, uid, owner and octal mode', (t) => {
  t.deepEqual(parseDirStat('directory|0|root|1777\n'), { type: 'directory', uid: 0, owner: 'root', mode: 0o1777 });
  t.deepEqual(parseDirStat('symbolic link|1000|alice|777'), { type: 'symbolic link', uid: 1000, owner: 'alice', mode: 0o777 });
});

test('work root rule: root-owned and nobody else may write (0700, 0755, 0711 pass)', (t) => {
  for (const mode of [0o700, 0o755, 0o711, 0o500]) t.deepEqual(privateDirProblems(dir(mode)), [], mode.toString(8));
  t.deepEqual(privateDirProblems(dir(0o777)), ['it is writable by group or others']);
  t.deepEqual(privateDirProblems(dir(0o1777)), ['it is writable by group or others'], 'sticky does not help');
  t.deepEqual(privateDirProblems(dir(0o720)), ['it is writable by group or others']);
  t.deepEqual(privateDirProblems(dir(0o702)), ['it is writable by group or others']);
  t.deepEqual(privateDirProblems(dir(0o700, 1000)), ['it is owned by uid 1000, not root']);
  t.deepEqual(privateDirProblems(dir(0o777, 1000)), ['it is owned by uid 1000, not root', 'it is writable by group or others']);
});

test('symlinks and non-directories are refused whatever they point at', (t) => {
  t.deepEqual(privateDirProblems(dir(0o777, 0, 'symbolic link')), ['it is a symbolic link']);
  t.deepEqual(privateDirProblems(dir(0o600, 0, 'regular file')), ['it is a regular file, not a directory']);
  t.deepEqual(privateDirProblems({ type: '', uid: NaN, owner: '', mode: NaN }), ['it is a thing of unknown type, not a directory'], 'an unreadable answer is not a pass');
});

test('lock directory rule: exactly 0700', (t) => {
  const rule = { exactMode: 0o700 };
  t.deepEqual(privateDirProblems(dir(0o700), rule), []);
  t.deepEqual(privateDirProblems(dir(0o755), rule), ['its mode is 0755, not 0700']);
  t.deepEqual(privateDirProblems(dir(0o777), rule), ['it is writable by group or others']);
  t.deepEqual(privateDirProblems(dir(0o700, 65534), rule), ['it is owned by uid 65534, not root']);
});

test('the fix: chown/chmod for a directory, removal for anything else', (t) => {
  t.is(privateDirFix('/w', dir(0o777)), 'chown root:root /w && chmod 0700 /w there, after checking who else used it and what it holds');
  t.regex(privateDirFix('/w', dir(0o777, 0, 'symbolic link')), /^remove \/w there \(migrate makes the directory, 0700, when nothing is at its path\)/);
});
