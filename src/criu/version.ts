/** Which CRIU a host has: `criu --version` parsed into numbers. */
import { MigrateError, isMigrateError } from '../../transports/errors.js';
import type { Transport } from '../../transports/transport.js';

export interface CriuVersion {
  major: number;
  minor: number;
  sublevel: number;
  /** As CRIU prints it, e.g. "4.1.1". */
  text: string;
}

/** CRIU releases older than this fail on these kernels or lack what migrate uses. */
export const MIN_CRIU: Readonly<CriuVersion> = { major: 4, minor: 1, sublevel: 0, text: '4.1' };

export function parseCriuVersion(output: string): CriuVersion | undefined {
  const m = /^Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/m.exec(output);
  if (!m) return undefined;
  const [major, minor, sublevel] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return { major, minor, sublevel, text: `${major}.${minor}${m[3] ? `.${sublevel}` : ''}` };
}

export function compareVersions(a: CriuVersion, b: CriuVersion): number {
  return a.major - b.major || a.minor - b.minor || a.sublevel - b.sublevel;
}

/**
 * Since Linux 6.16, getsockopt(SO_PASSCRED/SO_PASSSEC) fails on TCP sockets. CRIU before 4.2 asks
 * every socket for them, so it cannot dump any process holding a TCP socket (a listening server
 * included): "sockets: Can't get 1:16 opt: Operation not supported". CRIU 4.2 asks only Unix and
 * netlink sockets (criu/sockets.c, dump_socket_opts).
 */
export const TCP_KERNEL: Readonly<KernelVersion> = { major: 6, minor: 16 };
export const MIN_CRIU_TCP: Readonly<CriuVersion> = { major: 4, minor: 2, sublevel: 0, text: '4.2' };

export interface KernelVersion { major: number; minor: number }

/** `uname -r` ("6.18.3-cloud-amd64") as numbers; undefined when it does not start with them. */
export function parseKernelRelease(release: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

const kernelAtLeast = (k: KernelVersion, min: KernelVersion) => k.major > min.major || (k.major === min.major && k.minor >= min.minor);

/**
 * Why this CRIU is not good enough on a host running `kernel` (its `uname -r`), or undefined
 * when it is.
 */
export function versionProblem(v: CriuVersion, kernel?: string): string | undefined {
  if (compareVersions(v, MIN_CRIU) < 0) return `CRIU ${v.text} is older than ${MIN_CRIU.text}`;
  const k = kernel === undefined ? undefined : parseKernelRelease(kernel);
  if (k && kernelAtLeast(k, TCP_KERNEL) && compareVersions(v, MIN_CRIU_TCP) < 0) {
    return `CRIU ${v.text} cannot dump a process with a TCP socket on kernel ${kernel!.trim()} (since Linux ${TCP_KERNEL.major}.${TCP_KERNEL.minor} ` +
      `TCP sockets refuse SO_PASSCRED, which CRIU before ${MIN_CRIU_TCP.text} asks every socket for): CRIU ${MIN_CRIU_TCP.text} or newer is needed`;
  }
  return undefined;
}

export async function criuVersion(t: Transport): Promise<CriuVersion> {
  let out: string;
  try {
    out = (await t.exec(['criu', '--version'])).stdout;
  } catch (e) {
    if (isMigrateError(e, 'COMMAND_NOT_FOUND')) {
      throw new MigrateError('CRIU_UNUSABLE', 'CRIU is not installed', {
        host: t.name,
        hint: `install CRIU >= ${MIN_CRIU.text} (lab/provision.sh builds it from Debian's source package)`,
        cause: e,
      });
    }
    throw e;
  }
  const v = parseCriuVersion(out);
  if (!v) throw new MigrateError('CRIU_UNUSABLE', `cannot read CRIU's version from "${out.trim()}"`, { host: t.name, command: 'criu --version' });
  return v;
}
