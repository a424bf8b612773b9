/**
 * How far a host's clock is off the controller's. CRIU's dump log says when it froze the
 * workload on the source's clock (its mtime); to set that against the controller's own timings
 * (Date.now()) the run needs the difference. It is measured NTP-style: the host tells its time on request
 * (tell-time.sh over one command's stdin and stdout, so no command start-up is in the round
 * trip); the reply was taken somewhere between asking and hearing back, so the offset is known
 * within half the round trip, and the shortest of a few round trips wins.
 */
import { createInterface } from 'node:readline';
import type { Transport } from '../transports/transport.js';
import { hostScript } from './host-scripts/index.js';

export interface ClockOffset {
  /** The host's clock minus the controller's, in ms. */
  offsetMs: number;
  /** The offset is right within ± this (half the shortest round trip). */
  uncertaintyMs: number;
}

const PROBES = 3;
const GIVE_UP_MS = 5000;

/** The offset of the host's clock, or undefined when it could not be measured within `giveUpMs` (never throws). */
export async function hostClockOffset(t: Transport, { giveUpMs = GIVE_UP_MS } = {}): Promise<ClockOffset | undefined> {
  if (t.isLocal) return { offsetMs: 0, uncertaintyMs: 0 };
  let cmd: ReturnType<Transport['spawn']> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let measured: ClockOffset | undefined;
  try {
    cmd = t.spawn(hostScript('tell-time'));
    cmd.done.catch(() => {});
    const lines = createInterface({ input: cmd.stdout })[Symbol.asyncIterator]();
    // The controller's wall clock (Date.now(), whole ms: the true time lies within the next ms)
    // for the moment asked, its monotonic clock for the round trip.
    const probe = async (): Promise<ClockOffset | undefined> => {
      const asked = Date.now();
      const t0 = performance.now();
      cmd!.stdin.write('\n');
      const line = await lines.next();
      const roundTrip = performance.now() - t0;
      const m = /^(\d+) (\d+)$/.exec(String(line.value ?? '').trim());
      if (line.done || !m) return undefined;
      const host = Number(m[1]) * 1e3 + Number(m[2]) / 1e6;
      return { offsetMs: host - (asked + 0.5 + roundTrip / 2), uncertaintyMs: (roundTrip + 1) / 2 };
    };
    const probes = (async () => {
      let best: ClockOffset | undefined;
      for (let i = 0; i < PROBES; i++) {
        const p = await probe();
        if (!p) return undefined;
        if (!best || p.uncertaintyMs < best.uncertaintyMs) best = p;
      }
      return best;
    })();
    const giveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), giveUpMs);
      timer.unref();
    });
    measured = await Promise.race([probes, giveUp]);
  } catch {
    measured = undefined;
  } finally {
    clearTimeout(timer);
    if (measured) cmd?.stdin.end(); // its input ends, and so does the script
    else cmd?.kill();
  }
  return measured;
}
