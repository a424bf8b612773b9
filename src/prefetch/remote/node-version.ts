/**
 * Which Node runs the prefetcher: the check both `migrate check` (on the target's
 * `node --version`) and the prefetcher itself (on its own version, before anything else) make.
 * Only builtins here: the module is shipped to the target with the rest of remote/.
 */

/** The oldest Node (major version) that runs the prefetcher. */
export const PREFETCHER_NODE_MAJOR = 18;

/** Why Node `version` ("v20.1.0" or "20.1.0") cannot run the prefetcher; null when it can. */
export function nodeVersionProblem(version: string): string | null {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  return Number.isInteger(major) && major >= PREFETCHER_NODE_MAJOR ? null : `node ${version} is older than ${PREFETCHER_NODE_MAJOR}`;
}
