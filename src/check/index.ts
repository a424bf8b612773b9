/** `migrate check`: probe both hosts and say what migration between them can do. */
import type { Transport } from '../../transports/transport.js';
import { assess, type Assessment } from './assess.js';
import { hostInfo, type HostInfo } from './host-info.js';

export type { HostInfo } from './host-info.js';
export type { Assessment, Strategy } from './assess.js';

export interface CheckReport {
  source: HostInfo;
  target: HostInfo;
  assessment: Assessment;
}

export async function checkHosts(source: Transport, target: Transport): Promise<CheckReport> {
  const [s, t] = await Promise.all([hostInfo(source), hostInfo(target)]);
  return { source: s, target: t, assessment: assess(s, t) };
}
