import test from 'ava';
import { execFileSync } from 'node:child_process';
import { quoteArg, quoteCommand } from '../../transports/quote.js';

const nasty = ["a b", "it's", '$(touch /tmp/pwned)', '`id`', 'x;rm -rf /', '"q"', '\\', '', '*', 'new\nline', '-n'];

test('every argument survives a real shell unchanged', (t) => {
  const cmd = quoteCommand(['printf', '%s\\0', ...nasty]);
  const out = execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
  t.deepEqual(out.split('\0').slice(0, -1), nasty);
});

test('plain words stay unquoted, others are single-quoted', (t) => {
  t.is(quoteArg('/var/lib/x-1'), '/var/lib/x-1');
  t.is(quoteArg("it's"), `'it'\\''s'`);
  t.is(quoteArg(''), "''");
});

test('environment assignments are quoted and names validated', (t) => {
  t.is(quoteCommand(['true'], { A: 'x y' }), "env A='x y' true");
  t.throws(() => quoteCommand(['true'], { 'A;B': '1' }), { instanceOf: TypeError });
  t.throws(() => quoteArg('a\0b'), { instanceOf: TypeError });
});
