/**
 * An SSH server on this machine (ssh2's Server) that accepts anyone and answers every command
 * with exit status 0: enough to test what the SSH transport does when a host goes away, comes
 * back, or shows another key.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';

const { Server, utils } = ssh2;

/**
 * A fresh ed25519 private key in OpenSSH format that ssh2 itself can read: now and then ssh2's
 * generateKeyPairSync writes one its own parser refuses ("Malformed OpenSSH private key"; it
 * failed a CI run as the fake host's key), so one that does not parse is made again.
 */
export function newSshKey(): string {
  for (let attempt = 1; ; attempt++) {
    const key = utils.generateKeyPairSync('ed25519').private;
    if (!(utils.parseKey(key) instanceof Error) || attempt >= 10) return key;
  }
}

type Conn = Parameters<ConstructorParameters<typeof ssh2.Server>[1] & {}>[0];

export class FakeSshHost {
  private server?: InstanceType<typeof Server>;
  private readonly conns = new Set<Conn>();
  /** Kept across stop() and start(): a host that comes back listens where it did. */
  port = 0;

  /**
   * Listens on `port`; the first time on a random port below the kernel's ephemeral range
   * (32768–60999) and CRIU's page-server ports (20000–49999): a port the kernel handed out to
   * another test's listener could be taken while this host is stopped, and its client would
   * reconnect to the wrong server.
   */
  async start(hostKey: string): Promise<void> {
    if (this.port !== 0) return this.listen(hostKey, this.port);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listen(hostKey, 10000 + Math.floor(Math.random() * 10000));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
      }
    }
  }

  private async listen(hostKey: string, port: number): Promise<void> {
    const server = (this.server = new Server({ hostKeys: [hostKey] }, (conn) => {
      this.conns.add(conn);
      conn.on('close', () => this.conns.delete(conn));
      conn.on('error', () => {});
      conn.on('authentication', (ctx) => ctx.accept());
      conn.on('ready', () => conn.on('session', (accept) => accept().on('exec', (acceptExec) => {
        const ch = acceptExec();
        ch.exit(0);
        ch.end();
      })));
    }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  /** Drops every connection (the client sees its link lost) and stops listening. */
  async stop(): Promise<void> {
    for (const c of this.conns) c.end();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    this.server = undefined;
    await sleep(200); // the client notices the closed connection
  }
}
