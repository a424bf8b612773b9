/** The SSH transport against host B of the lab (real sshd in its own network namespace). */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { isMigrateError } from '../../../transports/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';

const lab = ensureLab();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

test('a command on host B returns its output and exit code', async (t) => {
  const r = await b.exec(['sh', '-c', 'ip -br addr show mlab-b; echo to-stderr >&2; exit 5'], { allowFailure: true });
  t.regex(r.stdout, /10\.231\.0\.2/); // it really ran in B's network namespace
  t.is(r.stderr.trim(), 'to-stderr');
  t.is(r.exitCode, 5);
});

test('one connection serves many commands, also concurrently', async (t) => {
  const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => b.exec(['echo', String(i)])));
  t.deepEqual(outs.map((o) => o.stdout.trim()), ['0', '1', '2', '3', '4', '5', '6', '7']);
});

test('a failing remote command raises COMMAND_FAILED with its stderr', async (t) => {
  const e = await t.throwsAsync(b.exec(['ls', '/no/such/dir']));
  t.true(isMigrateError(e, 'COMMAND_FAILED'));
  t.is((e as any).exitCode, 2);
  t.regex(e!.message, /on root@10\.231\.0\.2: ls \/no\/such\/dir/);
  t.regex(e!.message, /No such file or directory/);
});

test('arguments cannot inject shell syntax on the remote side', async (t) => {
  const marker = join(tmpdir(), `pwned-${process.pid}`);
  const r = await b.exec(['echo', `$(touch ${marker})`, `; touch ${marker}`, "'"]);
  t.is(r.stdout, `$(touch ${marker}) ; touch ${marker} '\n`);
  t.throws(() => readFileSync(marker));
});

test('200 MiB stream through the SSH transport arrives byte-identical', async (t) => {
  const total = 200 * 1024 * 1024;
  const hash = createHash('sha256');
  async function* chunks() {
    for (let sent = 0; sent < total; sent += 1 << 20) {
      const c = randomBytes(1 << 20);
      hash.update(c);
      yield c;
    }
  }
  const cmd = b.spawn(['sh', '-c', 'sha256sum; wc -c < /dev/null']);
  let out = '';
  cmd.stdout.on('data', (d) => (out += d));
  const started = Date.now();
  await pipeline(Readable.from(chunks()), cmd.stdin);
  await cmd.done;
  t.is(out.split(' ')[0], hash.digest('hex'));
  t.log(`200 MiB in ${Date.now() - started} ms`);
});

test('prime pushes its megabytes through a fresh connection and leaves it serving commands', async (t) => {
  const fresh = new SshTransport(lab.target, sshOpts(lab));
  try {
    await fresh.prime();
    await fresh.prime(); // again: harmless
    t.is((await fresh.exec(['echo', 'still here'])).stdout, 'still here\n');
  } finally {
    await fresh.close();
  }
});

test('a wrong host key is refused (SSH_HOST_KEY_CHANGED), without retries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-'));
  const wrong = join(dir, 'known_hosts');
  const aKey = readFileSync('/var/lib/migrate-lab/a/ssh_host_ed25519_key.pub', 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(wrong, `10.231.0.2 ${aKey}\n`);
  const warnings: string[] = [];
  const bad = new SshTransport(lab.target, { identityFiles: [lab.sshKey], knownHostsFiles: [wrong] }, (m) => warnings.push(m));
  const e = await t.throwsAsync(bad.exec(['true']));
  t.true(isMigrateError(e, 'SSH_HOST_KEY_CHANGED'), String(e));
  t.regex(e!.message, /CHANGED/);
  t.regex(e!.message, /ssh-keygen -R/);
  t.deepEqual(warnings, []);
});

test('an unknown host key is refused with a fingerprint and what to do', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-'));
  const empty = join(dir, 'known_hosts');
  writeFileSync(empty, '');
  const bad = new SshTransport(lab.target, { identityFiles: [lab.sshKey], knownHostsFiles: [empty] });
  const e = await t.throwsAsync(bad.exec(['true']));
  t.true(isMigrateError(e, 'SSH_HOST_KEY_UNKNOWN'), String(e));
  t.regex(e!.message, /SHA256:/);
  t.regex(e!.message, /ssh-keyscan/);
});

test('the opt-out accepts any host key but warns loudly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-'));
  const empty = join(dir, 'known_hosts');
  writeFileSync(empty, '');
  const warnings: string[] = [];
  const t2 = new SshTransport(lab.target, { identityFiles: [lab.sshKey], knownHostsFiles: [empty], insecureIgnoreHostKey: true }, (m) => warnings.push(m));
  t.is((await t2.exec(['echo', 'ok'])).stdout, 'ok\n');
  await t2.close();
  t.regex(warnings.join('\n'), /NOT verified/);
});

test('a key the host does not accept fails with SSH_AUTH and is not retried', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
  const warnings: string[] = [];
  const bad = new SshTransport(lab.target, { identityFiles: [join(dir, 'k')], knownHostsFiles: [lab.knownHosts], agent: '' }, (m) => warnings.push(m));
  const e = await t.throwsAsync(bad.exec(['true']));
  t.true(isMigrateError(e, 'SSH_AUTH'), String(e));
  t.deepEqual(warnings, []);
});

test('an unreachable host is retried, then reported as SSH_UNREACHABLE', async (t) => {
  const warnings: string[] = [];
  const bad = new SshTransport('ssh://root@10.231.0.2:2', { ...sshOpts(lab), retries: 2 }, (m) => warnings.push(m));
  const e = await t.throwsAsync(bad.exec(['true']));
  t.true(isMigrateError(e, 'SSH_UNREACHABLE'), String(e));
  t.regex(e!.message, /ECONNREFUSED/);
  t.is(warnings.length, 1);
});

test('a port forward reaches a listener that only host B can see', async (t) => {
  const port = 40000 + (process.pid % 10000);
  const listener = b.spawn(['node', '-e',
    `require('net').createServer(s => s.end('hello from B')).listen(${port}, '127.0.0.1', () => console.log('ready'))`]);
  listener.stdin.end();
  await new Promise<void>((resolve) => listener.stdout.once('data', () => resolve()));
  const fwd = await b.forward(port);
  const got = await new Promise<string>((resolve, reject) => {
    let data = '';
    const s = createConnection(fwd.localPort, fwd.localHost);
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  t.is(got, 'hello from B');
  await fwd.close();
  listener.kill();
  await listener.done.catch(() => {});
});

test('openStream gives a byte stream to a listener that only host B can see', async (t) => {
  const port = 41000 + (process.pid % 10000);
  const listener = b.spawn(['node', '-e',
    `require('net').createServer(s => s.on('data', d => s.end('B got ' + d))).listen(${port}, '127.0.0.1', () => console.log('ready'))`]);
  listener.stdin.end();
  await new Promise<void>((resolve) => listener.stdout.once('data', () => resolve()));
  const stream = await b.openStream(port);
  const got = new Promise<string>((resolve, reject) => {
    let data = '';
    stream.on('data', (d: Buffer) => (data += d));
    stream.on('end', () => resolve(data));
    stream.on('error', reject);
  });
  stream.write('hi');
  t.is(await got, 'B got hi');
  listener.kill();
  await listener.done.catch(() => {});
});

test('a reverse forward lets host B reach a listener on the controller', async (t) => {
  const server = createServer((s) => s.end('hello from A'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const localPort = (server.address() as { port: number }).port;
  const rev = await b.reverseForward(0, localPort);
  const r = await b.exec(['node', '-e',
    `const s=require('net').connect(${rev.remotePort},'127.0.0.1');let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d))`]);
  t.is(r.stdout.trim(), 'hello from A');
  await rev.close();
  server.close();
});

test('a reverse stream hands host B\'s connection to the controller as a channel, both ways', async (t) => {
  const back = await b.reverseStream(0, (s) => {
    let heard = '';
    s.on('data', (d: Buffer) => {
      heard += d;
      if (heard.endsWith('\n')) s.end(`controller got ${heard}`);
    });
  });
  const r = await b.exec(['node', '-e',
    `const s=require('net').connect(${back.remotePort},'127.0.0.1');let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d));s.write('hi from B\\n')`]);
  t.is(r.stdout.trim(), 'controller got hi from B');
  await back.close();
  const after = await b.exec(['node', '-e', `require('net').connect(${back.remotePort},'127.0.0.1').on('error',e=>console.log(e.code))`]);
  t.is(after.stdout.trim(), 'ECONNREFUSED');
});

test('outlive: a command runs to its end when the connection drops half-way, and returns its output and status while it lives', async (t) => {
  const r = await b.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'], { outlive: true, allowFailure: true });
  t.deepEqual([r.stdout, r.stderr.trim(), r.exitCode], ['out\n', 'err', 3]);
  const dir = (await b.exec(['mktemp', '-d'])).stdout.trim();
  const cut = new SshTransport(lab.target, sshOpts(lab));
  const [plain, kept] = [`${dir}/plain`, `${dir}/kept`];
  const running = [
    cut.exec(['sh', '-c', 'sleep 1; echo done > "$1"', 'plain', plain]).catch(() => {}),
    cut.exec(['sh', '-c', 'sleep 1; echo done > "$1"', 'kept', kept], { outlive: true }).catch(() => {}),
  ];
  await new Promise((r) => setTimeout(r, 300));
  await cut.close();
  await Promise.all(running);
  await new Promise((r) => setTimeout(r, 1500));
  t.is((await b.exec(['cat', kept], { allowFailure: true })).stdout, 'done\n', 'the outliving command finished');
  await b.exec(['rm', '-rf', dir]);
});
