import test from 'ava';
import { nodeVersionProblem, PREFETCHER_NODE_MAJOR } from '../../../../src/prefetch/remote/node-version.js';

test('node 18 and later run the prefetcher; older ones and what is not a version are named', (t) => {
  t.is(PREFETCHER_NODE_MAJOR, 18);
  for (const v of ['v18.0.0', 'v20.20.2', '22.1.0', 'v100.0.0']) t.is(nodeVersionProblem(v), null, v);
  t.is(nodeVersionProblem('v16.20.2'), 'node v16.20.2 is older than 18');
  t.is(nodeVersionProblem('12.22.9'), 'node 12.22.9 is older than 18');
  t.is(nodeVersionProblem('garbage'), 'node garbage is older than 18');
});
