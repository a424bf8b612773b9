/**
 * The freeze's deadline (`--freeze-timeout`): every step inside the freeze races it, so a step
 * that hangs — a CRIU stuck in the kernel, a daemon that stopped answering — ends the freeze in a
 * rollback instead of wedging the workload for ever. The hung command itself is not killed (a
 * CRIU killed half-way can leave the workload stopped for good): the host's guard waits for it.
 */
import { MigrateError } from '../../../transports/errors.js';

/**
 * Fits a 1 GiB workload on the project's 2-core machines with room to spare: its slowest cold
 * freeze measured in the lab was ~10 s (the soft-dirty guest's TCG runs several times slower).
 */
export const DEFAULT_FREEZE_TIMEOUT_MS = 120_000;

export class Deadline {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  private expired?: MigrateError;
  private readonly waiters = new Set<(e: MigrateError) => void>();

  /** Aborts when the user aborts (`outer`) or the deadline passes, for steps that take a signal. */
  readonly signal: AbortSignal;

  constructor(private readonly ms: number, private readonly host: string, outer?: AbortSignal) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
  }

  /** The freeze begins: the clock runs. */
  start(): void {
    this.timer = setTimeout(() => this.expire(), this.ms);
    this.timer.unref();
  }

  /** The workload runs again (or the run ended): no more deadline. */
  stop(): void {
    clearTimeout(this.timer);
  }

  private expire(): void {
    this.cut(new MigrateError('FREEZE_TIMEOUT', `the freeze took longer than ${this.ms} ms`, {
      host: this.host, hint: 'migrate rolled back; raise --freeze-timeout if the workload is this slow to checkpoint, or see which step hung in the message',
    }));
  }

  /**
   * Ends the freeze now, as if its deadline had passed, with `why` as the racing step's error:
   * for a step known to be stuck (a direct page channel whose handshake never came), whose
   * command is then left to the host's guard like any other hung command.
   */
  cut(why: MigrateError): void {
    if (this.expired) return;
    clearTimeout(this.timer);
    this.expired = why;
    this.controller.abort(why);
    for (const w of this.waiters) w(why);
  }

  /** `step` (named `what`), or FREEZE_TIMEOUT naming it should the deadline pass first. */
  async race<T>(what: string, step: Promise<T>): Promise<T> {
    step.catch(() => {}); // it may settle after the deadline: nobody awaits it then
    if (this.expired) throw this.expired.code === 'FREEZE_TIMEOUT' ? this.timedOut(what) : this.expired;
    let onExpire!: (e: MigrateError) => void;
    const timeout = new Promise<never>((_, reject) => {
      onExpire = (e) => reject(e.code === 'FREEZE_TIMEOUT' ? this.timedOut(what) : e);
      this.waiters.add(onExpire);
    });
    try {
      return await Promise.race([step, timeout]);
    } finally {
      this.waiters.delete(onExpire);
    }
  }

  /** Whether the deadline has passed. */
  get passed(): boolean {
    return this.expired !== undefined;
  }

  private timedOut(what: string): MigrateError {
    return new MigrateError('FREEZE_TIMEOUT', `${what} did not finish within the freeze's deadline (${this.ms} ms, --freeze-timeout)`, {
      host: this.host,
      hint: 'the command is left to finish on its own (killing CRIU half-way could leave the workload stopped for good); ' +
        'raise --freeze-timeout if the workload is this slow to move',
    });
  }
}
