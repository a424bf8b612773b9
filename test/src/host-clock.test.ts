import test from 'ava';
import { LocalTransport } from '../../transports/local.js';
import type { Transport } from '../../transports/transport.js';
import { hostClockOffset } from '../../src/host-clock.js';

/** This machine, as if it were another host: its commands run here, but it is not "local". */
function remoteLike(swap?: (argv: readonly string[]) => readonly string[]): Transport {
  const local = new LocalTransport();
  return new Proxy(local, {
    get(target, prop, receiver) {
      if (prop === 'isLocal') return false;
      if (prop === 'spawn') return (argv: readonly string[], o?: object) => target.spawn(swap ? swap(argv) : argv, o);
      return Reflect.get(target, prop, receiver);
    },
  });
}

test('the controller\'s own machine is off by nothing', async (t) => {
  t.deepEqual(await hostClockOffset(new LocalTransport()), { offsetMs: 0, uncertaintyMs: 0 });
});

test('a host with the same clock: the offset is within its uncertainty of zero', async (t) => {
  const o = await hostClockOffset(remoteLike());
  t.truthy(o);
  t.true(Math.abs(o!.offsetMs) <= o!.uncertaintyMs + 1, `offset ${o!.offsetMs} ± ${o!.uncertaintyMs} ms`);
  t.true(o!.uncertaintyMs < 50);
});

test('a host whose clock is far behind: the offset says by how much', async (t) => {
  // The "host" always says 1,000,000,000.5 s since the epoch.
  const o = await hostClockOffset(remoteLike(() => ['sh', '-c', 'while read -r _; do echo "1000000000 500000000"; done']));
  const expected = 1_000_000_000_500 - Date.now();
  t.true(Math.abs(o!.offsetMs - expected) < 1000, `offset ${o!.offsetMs}, expected about ${expected}`);
});

test('a host that cannot tell: undefined, not an error — also when it never answers', async (t) => {
  t.is(await hostClockOffset(remoteLike(() => ['sh', '-c', 'echo nonsense; read -r _'])), undefined);
  t.is(await hostClockOffset(remoteLike(() => ['sh', '-c', 'exit 3'])), undefined);
  const started = Date.now();
  t.is(await hostClockOffset(remoteLike(() => ['sleep', '30']), { giveUpMs: 300 }), undefined);
  t.true(Date.now() - started < 5000, 'it gave up in time');
});
