/** Everything `migrate check` learns about one host, through its transport. */
import type { Transport } from '../../transports/transport.js';
import { checkCriu, type FeatureMap } from '../criu/features.js';
import { criuVersion, versionProblem } from '../criu/version.js';
import { isMigrateError } from '../../transports/errors.js';
import { engineCall } from '../docker/engine.js';

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
    /** CRIU keeps its kernel probes between runs (features.ts CriuCheck.kdatCache); false also when it was not checked. */
    kdatCache: boolean;
  };
  docker: {
    version: string | null;
    experimental: boolean;
    rootDir: string | null;
    problem?: string;
  };
  /** The host's `node`, which runs the post-copy prefetcher on a target and the page forwarder on a source. */
  node: { version: string | null; problem?: string };
}

async function dockerInfo(t: Transport): Promise<HostInfo['docker']> {
  const none = (problem: string): HostInfo['docker'] => ({ version: null, experimental: false, rootDir: null, problem });
  try {
    const [v, info] = await Promise.all([
      engineCall(t, 'report its version', (d) => d.version() as Promise<{ Version: string; Experimental?: boolean }>),
      engineCall(t, 'describe itself (GET /info)', (d) => d.info() as Promise<{ DockerRootDir?: string }>),
    ]);
    return { version: v.Version, experimental: v.Experimental === true, rootDir: info.DockerRootDir ?? null };
  } catch (e) {
    if (isMigrateError(e, 'COMMAND_NOT_FOUND')) return none('docker is not installed');
    if (isMigrateError(e)) return none(e.reason);
    throw e;
  }
}

async function nodeInfo(t: Transport): Promise<HostInfo['node']> {
  try {
    return { version: (await t.exec(['node', '--version'])).stdout.trim() };
  } catch (e) {
    if (isMigrateError(e, 'COMMAND_NOT_FOUND')) return { version: null, problem: 'node is not installed' };
    if (isMigrateError(e)) return { version: null, problem: e.reason };
    throw e;
  }
}

export async function hostInfo(t: Transport): Promise<HostInfo> {
  const kernel = (await t.exec(['uname', '-r'])).stdout.trim();
  const criu: HostInfo['criu'] = { installed: false, version: null, usable: false, problems: [], features: {}, kdatCache: false };
  try {
    const v = await criuVersion(t);
    criu.installed = true;
    criu.version = v.text;
    const check = await checkCriu(t);
    criu.features = check.features;
    criu.kdatCache = check.kdatCache;
    const tooOld = versionProblem(v, kernel);
    criu.problems = tooOld ? [tooOld, ...check.problems] : check.problems;
    criu.usable = check.ok && !tooOld;
  } catch (e) {
    if (!isMigrateError(e, 'CRIU_UNUSABLE')) throw e;
    criu.problems.push(e.reason);
  }
  const [docker, node] = await Promise.all([dockerInfo(t), nodeInfo(t)]);
  return { host: t.name, kernel, criu, docker, node };
}
