/** Everything `migrate check` learns about one host, through its transport. */
import type { Transport } from '../../transports/transport.js';
import { checkCriu, type FeatureMap } from '../criu/features.js';
import { criuVersion, versionProblem } from '../criu/version.js';
import { isMigrateError } from '../../transports/errors.js';

export interface HostInfo {
  host: string;
  kernel: string;
  criu: {
    installed: boolean;
    version: string | null;
    /** Version good enough for this kernel (versionProblem) and `criu check` passed. */
    usable: boolean;
    problems: string[];
    features: Partial<FeatureMap>;
  };
  docker: {
    version: string | null;
    experimental: boolean;
    rootDir: string | null;
    problem?: string;
  };
}

async function dockerInfo(t: Transport): Promise<HostInfo['docker']> {
  const r = await t
    .exec(['docker', 'version', '--format', '{{.Server.Version}} {{.Server.Experimental}}'], { allowFailure: true, timeoutMs: 15_000 })
    .catch((e: unknown) => (isMigrateError(e, 'COMMAND_NOT_FOUND') ? undefined : Promise.reject(e)));
  if (!r) return { version: null, experimental: false, rootDir: null, problem: 'docker is not installed' };
  if (r.exitCode !== 0) {
    return { version: null, experimental: false, rootDir: null, problem: (r.stderr.trim().split('\n').pop() ?? 'docker daemon not reachable') };
  }
  const [version, experimental] = r.stdout.trim().split(' ');
  const root = await t.exec(['docker', 'info', '--format', '{{.DockerRootDir}}'], { allowFailure: true, timeoutMs: 15_000 });
  return {
    version: version ?? null,
    experimental: experimental === 'true',
    rootDir: root.exitCode === 0 ? root.stdout.trim() : null,
  };
}

export async function hostInfo(t: Transport): Promise<HostInfo> {
  const kernel = (await t.exec(['uname', '-r'])).stdout.trim();
  const criu: HostInfo['criu'] = { installed: false, version: null, usable: false, problems: [], features: {} };
  try {
    const v = await criuVersion(t);
    criu.installed = true;
    criu.version = v.text;
    const check = await checkCriu(t);
    criu.features = check.features;
    const tooOld = versionProblem(v, kernel);
    criu.problems = tooOld ? [tooOld, ...check.problems] : check.problems;
    criu.usable = check.ok && !tooOld;
  } catch (e) {
    if (!isMigrateError(e, 'CRIU_UNUSABLE')) throw e;
    criu.problems.push(e.reason);
  }
  return { host: t.name, kernel, criu, docker: await dockerInfo(t) };
}
