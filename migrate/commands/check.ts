/** `migrate check`: print both hosts' capabilities and what they mean for migration. */
import { parseArgs } from 'node:util';
import { MigrateError, check, openTransport, type CheckReport, type HostInfo } from '../../src/index.js';
import { SSH_FLAGS, sshOptions } from '../ssh-options.js';
import type { Output } from '../output.js';

export async function checkCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { to: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' }, ...SSH_FLAGS },
    strict: true,
  });
  if (!values.to) throw new MigrateError('BAD_INPUT', 'check needs a target host', { hint: 'add --to ssh://root@HOST' });
  out.json = values.json ?? false;
  const ssh = sshOptions(values);
  const source = openTransport(values.from, ssh, (m) => out.warn(m));
  const target = openTransport(values.to, ssh, (m) => out.warn(m));
  try {
    const report = await check({ source, target });
    if (out.json) out.result(toJson(report));
    else out.text(formatReport(report));
    return 0;
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

function hostJson(h: HostInfo) {
  return {
    host: h.host,
    kernel: h.kernel,
    criu: { version: h.criu.version, usable: h.criu.usable, features: h.criu.features, problems: h.criu.problems, kdat_cache: h.criu.kdatCache },
    docker: h.docker,
    node: h.node,
  };
}

function toJson(r: CheckReport) {
  return { source: hostJson(r.source), target: hostJson(r.target), strategies: r.assessment.strategies, docker: r.assessment.docker, lazy_restore: r.assessment.lazyRestore, prefetch: r.assessment.prefetch, page_forwarder: r.assessment.pageForwarder };
}

/** Not a problem, but time inside every freeze. */
export const KDAT_NOTE = 'CRIU does not keep its kernel probes between runs (RUNDIR/criu.kdat, kept only on a tmpfs; RUNDIR is /run by default): '
  + 'every CRIU run probes again (~40 ms on 2 vCPUs), the restore\'s and the lazy-pages daemon\'s inside the freeze. Mount a tmpfs on /run, or build CRIU with RUNDIR= a root-only tmpfs directory';

function formatHost(role: string, h: HostInfo): string {
  const feats = Object.entries(h.criu.features).map(([k, v]) => `${v ? '+' : '-'}${k}`).join(' ');
  const lines = [
    `${role}: ${h.host}`,
    `  kernel  ${h.kernel}`,
    `  criu    ${h.criu.version ?? 'not installed'}${h.criu.usable ? '' : '  (UNUSABLE)'}`,
  ];
  if (feats) lines.push(`          ${feats}`);
  for (const p of h.criu.problems) lines.push(`          ! ${p}`);
  if (h.criu.usable && !h.criu.kdatCache) lines.push(`          ~ ${KDAT_NOTE}`);
  lines.push(`  docker  ${h.docker.version ?? `none (${h.docker.problem ?? 'unknown'})`}${h.docker.version ? (h.docker.experimental ? ' (experimental)' : ' (experimental OFF)') : ''}`);
  lines.push(`  node    ${h.node.version ?? `none (${h.node.problem ?? 'unknown'})`}`);
  return lines.join('\n');
}

function formatReport(r: CheckReport): string {
  const parts = [formatHost('source', r.source), formatHost('target', r.target), 'migration:'];
  for (const [name, s] of Object.entries(r.assessment.strategies)) {
    parts.push(`  ${s.available ? 'ok ' : 'no '} ${name}`);
    for (const why of s.reasons) parts.push(`        ${why}`);
  }
  parts.push(`  ${r.assessment.docker.available ? 'ok ' : 'no '} docker containers`);
  for (const why of r.assessment.docker.reasons) parts.push(`        ${why}`);
  parts.push(`  ${r.assessment.lazyRestore.available ? 'ok ' : 'no '} lazy restore (the workload resumes before all its memory is back)`);
  for (const why of r.assessment.lazyRestore.reasons) parts.push(`        ${why}`);
  parts.push(`  ${r.assessment.prefetch.available ? 'ok ' : 'no '} prefetcher (--prefetch auto: post-copy pulls the memory ahead of CRIU's lazy-pages daemon)`);
  for (const why of r.assessment.prefetch.reasons) parts.push(`        ${why}`);
  parts.push(`  ${r.assessment.pageForwarder.available ? 'ok ' : 'no '} page forwarder (--page-forwarder auto: direct post-copy's pages reach the link through it)`);
  for (const why of r.assessment.pageForwarder.reasons) parts.push(`        ${why}`);
  return parts.join('\n');
}
