/** Listening on the controller's loopback, for the transports' forwards. */
import type { Server } from 'node:net';
import { MigrateError } from './errors.js';

/**
 * Starts `server` on 127.0.0.1:`port` (0: a free one) and resolves with the port it got; a
 * failure to listen rejects with FORWARD_FAILED, `message` on host `host`.
 */
export async function listenOnLoopback(server: Server, port: number, message: string, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MigrateError('FORWARD_FAILED', message, { host, cause: e })));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
