/** Which CRIU a host has: `criu --version` parsed into numbers. */
import { MigrateError, isMigrateError } from '../errors.js';
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

/** Why this version is not good enough, or undefined when it is. */
export function versionProblem(v: CriuVersion): string | undefined {
  return compareVersions(v, MIN_CRIU) < 0 ? `CRIU ${v.text} is older than ${MIN_CRIU.text}` : undefined;
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
