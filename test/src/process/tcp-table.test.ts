import test from 'ava';
import { CONNECTED_STATES, decodeAddress, parseTcpTable } from '../../../src/process/tcp-table.js';

// Rows as the kernel prints them (a listener, a connection, a TIME_WAIT without owner, IPv6).
const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:18EB 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 020011AC:18EB 010011AC:B8A2 01 00000000:00000000 00:00000000 00000000     0        0 123457 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:18EB 0100007F:9C40 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:18EB 00000000000000000000000001000000:D431 08 00000000:00000000 00:00000000 00000000     0        0 123458 1 0000000000000000 20 4 0 10 -1
   1: 0000000000000000FFFF0000020011AC:18EB 0000000000000000FFFF0000010011AC:D432 04 00000000:00000000 00:00000000 00000000     0        0 123459 1 0000000000000000 20 4 0 10 -1
`;

test('decodes IPv4, IPv6 and v4-mapped addresses from the kernel\'s little-endian hex', (t) => {
  t.is(decodeAddress('0100007F:1F90'), '127.0.0.1:8080');
  t.is(decodeAddress('020011AC:18EB'), '172.17.0.2:6379');
  t.is(decodeAddress('00000000000000000000000001000000:0016'), '[::1]:22');
  t.is(decodeAddress('000080FE00000000FF005002A4F1D6FE:0016'), '[fe80::250:ff:fed6:f1a4]:22');
  t.is(decodeAddress('0000000000000000FFFF0000020011AC:18EB'), '172.17.0.2:6379');
});

test('parses both tables: states, inodes and a listener\'s accept queue', (t) => {
  const rows = parseTcpTable(TABLE);
  t.deepEqual(rows.map((r) => [r.local, r.remote, r.state, r.inode]), [
    ['0.0.0.0:6379', '0.0.0.0:0', 'listen', 123456],
    ['172.17.0.2:6379', '172.17.0.1:47266', 'established', 123457],
    ['127.0.0.1:6379', '127.0.0.1:40000', 'time-wait', 0],
    ['[::1]:6379', '[::1]:54321', 'close-wait', 123458],
    ['172.17.0.2:6379', '172.17.0.1:54322', 'fin-wait1', 123459],
  ]);
  t.is(rows[0]!.rxQueue, 2);
});

test('the states CRIU needs a TCP option for are the connected ones, not listen, close or time-wait', (t) => {
  for (const s of ['established', 'close-wait', 'fin-wait1', 'fin-wait2', 'last-ack', 'closing', 'syn-sent']) t.true(CONNECTED_STATES.has(s), s);
  for (const s of ['listen', 'close', 'time-wait', 'syn-recv']) t.false(CONNECTED_STATES.has(s), s);
});
