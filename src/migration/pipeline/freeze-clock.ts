/**
 * The freeze as close as the controller can see it: from just before the command that stops the
 * workload (`docker checkpoint create`, `criu dump`) is issued — not before the preparations
 * around it — until the command that resumes it on the target returned (before migrate's own
 * check that it runs). The workload's own view is still shorter by the commands' start-up and
 * return (bench/ measures both).
 */
export class FreezeClock {
  private enteredAt = 0;
  private stoppedAt?: number;
  private resumedAt?: number;

  /** The freeze phase begins: from here on a failure means a rollback. */
  enter(): void { this.enteredAt = Date.now(); }
  get entered(): boolean { return this.enteredAt !== 0; }
  /** Right before the command that stops the workload is issued. */
  readonly stopping = (): void => { this.stoppedAt ??= Date.now(); };
  /** Right after the command that resumed it on the target returned. */
  readonly resumed = (): void => { this.resumedAt ??= Date.now(); };
  private get start(): number { return this.stoppedAt ?? this.enteredAt; }
  /** Until it resumed on the target. */
  frozenMs(): number { return (this.resumedAt ?? Date.now()) - this.start; }
  /** Until now (a rollback: it just resumed on the source). */
  untilNowMs(): number { return Date.now() - this.start; }
}

/** Times the phases of one run: each call returns the ms since the previous one. */
export function lapTimer(): () => number {
  let t = Date.now();
  return () => {
    const now = Date.now();
    const ms = now - t;
    t = now;
    return ms;
  };
}
