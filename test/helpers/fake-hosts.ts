/**
 * Two "hosts" on this machine for fast tests of the orchestration: both run commands locally,
 * but the target sees a directory tree of its own (every argument under `root` is moved under
 * `root/target-view`), as two real hosts with the same work root would. A fake workload stands in
 * for a container: it "dumps" by writing image files, "restores" by checking they arrived, and
 * records where it runs, so a test can assert it runs exactly once after any failure.
 */
import { createServer, type AddressInfo } from 'node:net';
import { execa } from 'execa';
import { LocalTransport } from '../../transports/local.js';
import type { ExecOptions, Transport } from '../../transports/transport.js';
import type { CriuService, PageServer, ServiceDirs } from '../../src/criu/services.js';
import type { Endpoint } from '../../src/transfer/page-relay.js';
import { MigrateError } from '../../transports/errors.js';
import { NO_FILES, type FilesystemPass } from '../../src/filesystem/tree-sync.js';
import type { CheckpointOptions, Dirs, RestoreHooks, Workload } from '../../src/migration/workload.js';
import type { CriuServices } from '../../src/migration/pipeline/context.js';
import type { TargetCopy } from '../../src/migration/host-guard.js';

/** LocalTransport whose paths under `root` are those of another host (root/target-view/...). */
export class MappedTransport extends LocalTransport {
  constructor(private readonly root: string, private readonly view: string) {
    super();
  }
  map(a: string): string { return a.startsWith(this.root) ? this.view + a.slice(this.root.length) : a; }
  override exec(argv: readonly string[], o?: ExecOptions) { return super.exec(argv.map((a) => this.map(a)), o); }
  override spawn(argv: readonly string[], o?: Pick<ExecOptions, 'env'>) { return super.spawn(argv.map((a) => this.map(a)), o); }
}

export async function fakeHosts(): Promise<{ source: Transport; target: MappedTransport; workRoot: string; cleanup: () => Promise<void> }> {
  const workRoot = (await execa('mktemp', ['-d', '/var/tmp/migrate-pipeline.XXXXXX'])).stdout;
  const view = `${workRoot}/target-view`;
  await execa('mkdir', ['-p', view]);
  return { source: new LocalTransport(), target: new MappedTransport(workRoot, view), workRoot, cleanup: async () => { await execa('rm', ['-rf', workRoot]); } };
}

export type FailAt = 'prepare' | 'files' | 'dump' | 'dump-after-stop' | 'hang' | 'restore' | 'hang-restore' | 'resume' | 'restore-unreachable' | 'reset-connections';

/** Where the fake workload runs: the invariant every test checks is "exactly one of them". */
export interface Whereabouts { source: 'running' | 'stopped' | 'gone'; target: 'none' | 'created' | 'running' }

export class FakeWorkload implements Workload {
  readonly kind = 'process-tree';
  readonly stoppedByCriu = true;
  readonly label = 'fake workload';
  readonly where: Whereabouts = { source: 'running', target: 'none' };
  readonly calls: string[] = [];
  private server?: ReturnType<typeof createServer>;

  constructor(private readonly target: MappedTransport, private readonly failAt?: FailAt, private readonly pageBytes = 1 << 20) {}

  private fail(at: FailAt): void {
    if (this.failAt === at) throw new MigrateError('CRIU_FAILED', `injected failure: ${at}`, { host: 'fake' });
  }

  async prepareTarget(): Promise<void> { this.calls.push('prepareTarget'); this.fail('prepare'); this.where.target = 'created'; }
  async guardTarget(): Promise<void> {}
  async copyFilesBeforeFreeze(): Promise<FilesystemPass> { this.fail('files'); return NO_FILES; }
  async copyFilesWhileFrozen(): Promise<FilesystemPass> { return NO_FILES; }
  async preDump(): Promise<void> {}

  async checkpoint(dirs: Dirs, o: CheckpointOptions = {}): Promise<void> {
    o.stopping?.();
    if (this.failAt === 'hang') return new Promise(() => {}); // a CRIU that stops answering (it never took hold of it)
    this.fail('dump'); // CRIU failed and resumed the tree: it runs on
    this.where.source = 'stopped';
    this.fail('dump-after-stop'); // failed late: left stopped
    await execa('sh', ['-c', 'head -c "$2" /dev/urandom > "$1/pages-1.img" && echo core > "$1/core-1.img"', 'x', dirs.images, String(this.pageBytes)]);
  }

  /** A page server on this machine that serves `pageBytes` to whoever connects, then ends. */
  async checkpointLazy(dirs: Dirs, o: CheckpointOptions = {}): Promise<PageServer> {
    await this.checkpoint(dirs, { stopping: o.stopping });
    // As CRIU's page server: it sends, and hangs up once the target's daemon has hung up.
    const server = createServer((s) => { s.on('error', () => {}); s.write(Buffer.alloc(this.pageBytes, 7)); s.on('end', () => s.end()); });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const done = new Promise<void>((r) => server.on('connection', (s) => s.on('close', () => { server.close(); r(); })));
    return { port: (server.address() as AddressInfo).port, done, kill: () => server.close() };
  }

  async restoreOnTarget(dirs: Dirs, _lazy: boolean, { starting, restored }: RestoreHooks = {}): Promise<string> {
    this.calls.push('restore');
    await this.target.exec(['test', '-s', `${dirs.images}/core-1.img`]);
    await starting?.();
    if (this.failAt === 'hang-restore') return new Promise(() => {});
    if (this.failAt === 'restore-unreachable') { this.where.target = 'running'; throw new MigrateError('SSH_CHANNEL', 'connection lost during the restore', { host: 'fake-target' }); }
    this.fail('restore');
    this.where.target = 'running';
    await restored?.();
    return 'fake';
  }

  targetCopy(dirs: Dirs): TargetCopy {
    return { pidfile: `${dirs.root}.pid` };
  }

  async removeFromTarget(): Promise<void> {
    this.calls.push('removeFromTarget');
    if (this.failAt === 'restore-unreachable') throw new MigrateError('SSH_UNREACHABLE', 'the target cannot be reached', { host: 'fake-target' });
    this.where.target = 'none';
  }
  async stoppedPids(): Promise<number[]> { return []; }
  async unlockSourceNetwork(): Promise<void> { this.calls.push('unlockSourceNetwork'); }
  async resumeOnSource(): Promise<void> {
    this.calls.push('resumeOnSource');
    if (this.where.target === 'running') throw new Error('resumed while the target runs it: two copies');
    this.fail('resume');
    if (this.where.source === 'stopped') this.where.source = 'running';
  }
  async runsOnSource(): Promise<boolean> { return this.where.source === 'running'; }
  async resetSourceConnections(): Promise<number> {
    this.calls.push(`resetSourceConnections (target ${this.where.target})`);
    this.fail('reset-connections');
    return 1;
  }
  async finishSource(): Promise<void> { this.where.source = 'gone'; this.server?.close(); }
  resumeHint(): string { return 'kill -CONT it'; }
}

/** CRIU's helpers, faked: a lazy-pages daemon that reads the source's pages (or fails). */
export function fakeServices(o: { lazyFails?: boolean; pageBytes?: number } = {}): CriuServices {
  const service = (run: () => Promise<void>): CriuService => {
    const done = run();
    done.catch(() => {});
    return { done, kill: () => {} };
  };
  return {
    pageServer: async () => { throw new Error('the fake hosts have no page server: use pages "stream"'); },
    pageForwarder: async () => ({ unavailable: 'the fake hosts have no page forwarder' }),
    lazyPages: async (_t: Transport, _d: ServiceDirs) => service(async () => {
      if (o.lazyFails) throw new MigrateError('CRIU_FAILED', 'criu lazy-pages failed', { host: 'fake-target' });
    }),
    remoteLazyPages: async (t: Transport, _d: ServiceDirs, ep: Endpoint) => service(async () => {
      const s = await t.openStream(ep.port, ep.host);
      if (o.lazyFails) { s.destroy(); throw new MigrateError('CRIU_FAILED', 'criu lazy-pages failed', { host: 'fake-target' }); }
      // As CRIU's daemon: it reads every page, then hangs up.
      let got = 0;
      for await (const chunk of s) {
        got += (chunk as Buffer).length;
        if (got >= (o.pageBytes ?? 1 << 20)) break;
      }
      s.end();
    }),
  };
}
