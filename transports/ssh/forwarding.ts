/**
 * Port forwarding over one SSH connection: a stream to a port on the host (direct-tcpip), a local
 * listener that forwards to it, and reverse forwards (a port on the host that leads back to one
 * on the controller). The connection is asked for each time: a reconnect gets a fresh one.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { MigrateError } from '../errors.js';
import { listenOnLoopback } from '../listen.js';
import type { Forward, ReverseForward } from '../transport.js';
import type { Warn } from './connect.js';

/** Joins a TCP socket and a forwarded SSH channel both ways; an error on either ends both. */
function splice(sock: Socket, ch: ClientChannel): void {
  sock.pipe(ch).pipe(sock);
  sock.on('error', () => ch.close());
  ch.on('error', () => sock.destroy());
}

/** Where a reverse forward's connections go on the controller: a port there, or straight to a handler. */
type ReverseTarget = { host: string; port: number } | ((stream: Duplex) => void);

export class Forwarding {
  /** Reverse forwards by the port bound on the host: where their connections go on the controller. */
  private readonly reverse = new Map<number, ReverseTarget>();

  /** Whether sshd there binds reverse forwards to loopback as asked (checked once: loopbackOnly). */
  private loopback?: Promise<void>;

  /** `sshdConfig`: `sshd -T`'s output on the host (its effective configuration), or undefined when it cannot be read. */
  constructor(private readonly conn: () => Promise<Client>, private readonly name: string, private readonly warn: Warn,
    private readonly sshdConfig: () => Promise<string | undefined> = async () => undefined) {}

  /**
   * sshd's `GatewayPorts yes` binds every reverse forward to the wildcard address whatever the
   * client asks: migrate's loopback-only listener would face the network. Refused (with
   * `clientspecified` or `no`, the default, sshd binds 127.0.0.1 as asked). Read from `sshd -T`,
   * which shows the configuration for connections without Match blocks; when it cannot be read
   * (no sshd binary in PATH, not root) nothing is refused.
   */
  private loopbackOnly(): Promise<void> {
    this.loopback ??= this.sshdConfig().then((conf) => {
      if (conf !== undefined && /^gatewayports yes$/im.test(conf)) {
        throw new MigrateError('FORWARD_FAILED', 'sshd there has GatewayPorts yes: a reverse forward would listen on every address, not on loopback only', {
          host: this.name, hint: 'set GatewayPorts clientspecified (or no, the default) in its sshd_config',
        });
      }
    });
    return this.loopback;
  }

  /** The connection was replaced: reverse forwards died with the old one. */
  reset(): void {
    this.reverse.clear();
  }

  /** For the connection's 'tcp connection' event: a connection to one of our reverse forwards. */
  readonly onReverseConnection = (info: { destPort: number }, accept: () => ClientChannel, reject: () => void): void => {
    const target = this.reverse.get(info.destPort);
    if (!target) return reject();
    if (typeof target === 'function') target(accept());
    else splice(netConnect(target.port, target.host), accept());
  };

  async openStream(port: number, host: string): Promise<Duplex> {
    const client = await this.conn();
    return new Promise<Duplex>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
        if (err) reject(new MigrateError('FORWARD_FAILED', `cannot open a channel to ${host}:${port}`, { host: this.name, hint: 'is something listening there, and does sshd allow TCP forwarding?', cause: err }));
        else resolve(ch);
      });
    });
  }

  async forward(port: number, host: string): Promise<Forward> {
    const client = await this.conn();
    const server: Server = createServer((sock) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
        if (err) {
          this.warn(`port forward to ${host}:${port} on ${this.name} failed: ${err.message}`);
          sock.destroy();
          return;
        }
        splice(sock, ch);
      });
    });
    const localPort = await listenOnLoopback(server, 0, `cannot listen for a forward to ${host}:${port}`, 'local');
    return { localHost: '127.0.0.1', localPort, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  reverseForward(remotePort: number, port: number, host: string): Promise<ReverseForward> {
    return this.listenBack(remotePort, { host, port });
  }

  /** Connections to `remotePort` on the host's loopback reach `onStream` as SSH channels: no socket on the controller. */
  reverseStream(remotePort: number, onStream: (stream: Duplex) => void): Promise<ReverseForward> {
    return this.listenBack(remotePort, onStream);
  }

  private async listenBack(remotePort: number, target: ReverseTarget): Promise<ReverseForward> {
    await this.loopbackOnly();
    const client = await this.conn();
    const bound = await new Promise<number>((resolve, reject) => {
      client.forwardIn('127.0.0.1', remotePort, (err, p) => {
        if (err) {
          reject(new MigrateError('FORWARD_FAILED', `cannot listen on 127.0.0.1:${remotePort}`, {
            host: this.name, hint: 'the port may be taken, or sshd has AllowTcpForwarding off', cause: err,
          }));
        } else resolve(p || remotePort);
      });
    });
    this.reverse.set(bound, target);
    return {
      remoteHost: '127.0.0.1',
      remotePort: bound,
      close: () => new Promise<void>((resolve) => {
        this.reverse.delete(bound);
        client.unforwardIn('127.0.0.1', bound, () => resolve());
      }),
    };
  }
}
