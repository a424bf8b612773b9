import test from 'ava';
import { parseProbe } from '../../../src/process/probe.js';
import { connections, foreignProcesses } from '../../../src/migration/dumpable.js';

const probe = (capEff: string, uid2: string) => parseProbe(`C Uid:\t0\t0\t0\t0
C Gid:\t0\t0\t0\t0
C CapEff:\t${capEff}
P 100
Uid:\t0\t0\t0\t0
Gid:\t0\t0\t0\t0
S socket:[123456]
S socket:[123457]
T 100
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 020011AC:18EB 010011AC:B8A2 01 00000000:00000000 00:00000000 00000000     0        0 123457 1 0000000000000000 20 4 30 10 -1
   2: 020011AC:18EB 010011AC:B8A3 01 00000000:00000000 00:00000000 00000000     0        0 999999 1 0000000000000000 20 4 30 10 -1
P 101
Uid:\t${uid2}\t${uid2}\t${uid2}\t${uid2}
Gid:\t0\t0\t0\t0
`);

test('only the sockets the tree holds count: another process\'s connection in the same namespace does not', (t) => {
  const p = probe('000001ffffffffff', '0');
  t.deepEqual(p.sockets.map((s) => s.inode), [123456, 123457]);
  t.deepEqual(connections(p).map((s) => `${s.local} ${s.remote}`), ['172.17.0.2:6379 172.17.0.1:47266']);
});

test('processes of another user are foreign only where root lacks CAP_SYS_RESOURCE', (t) => {
  // 0x1fffeffffff: every capability but bit 24 (CAP_SYS_RESOURCE).
  t.deepEqual(foreignProcesses(probe('000001fffeffffff', '999')).map((x) => x.pid), [101]);
  t.deepEqual(foreignProcesses(probe('000001ffffffffff', '999')), []);
  t.deepEqual(foreignProcesses(probe('000001fffeffffff', '0')), []);
});
