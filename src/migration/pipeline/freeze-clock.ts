/**
 * The freeze on the controller's clock: from the moment CRIU began freezing the workload (once
 * its dump's log says when: `criuFroze`), else from just before the command that stops the workload
 * (`docker checkpoint create`, `criu dump`) was issued — which runs a while before anything is
 * frozen (Docker, runc, CRIU's start-up) — until the target's guard said it resumed the copy.
 */
export class FreezeClock {
  private enteredAt = 0;
  private stoppedAt?: number;
  private frozeAt?: number;
  private resumedAt?: number;

  /** The freeze phase begins: from here on a failure means a rollback. */
  enter(): void { this.enteredAt = Date.now(); }
  get entered(): boolean { return this.enteredAt !== 0; }
  /** Right before the command that stops the workload is issued. */
  readonly stopping = (): void => { this.stoppedAt ??= Date.now(); };
  /** Right after the command that resumed it on the target returned. */
  readonly resumed = (): void => { this.resumedAt ??= Date.now(); };
  /**
   * CRIU's own start of the freeze, mapped to the controller's clock: the freeze counts from
   * there. Refused (false) unless it lies between the command's issue and the resume — a wrong
   * clock offset must not make the freeze longer, nor negative.
   */
  criuFroze(at: number): boolean {
    if (!(at >= this.issuedAt && at <= (this.resumedAt ?? Date.now()))) return false;
    this.frozeAt = at;
    return true;
  }
  /** How long the checkpoint command ran before CRIU froze the workload (0 until criuFroze). */
  get notFrozenMs(): number { return this.frozeAt === undefined ? 0 : this.frozeAt - this.issuedAt; }
  /** When the command that stops the workload was issued (the freeze phase's start before that). */
  private get issuedAt(): number { return this.stoppedAt ?? this.enteredAt; }
  private get start(): number { return this.frozeAt ?? this.issuedAt; }
  /** Until it resumed on the target (whole ms). */
  frozenMs(): number { return Math.round((this.resumedAt ?? Date.now()) - this.start); }
  /** Until now (a rollback: it just resumed on the source). */
  untilNowMs(): number { return Math.round(Date.now() - this.start); }
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
