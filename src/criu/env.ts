/**
 * Environment every CRIU run gets.
 *
 * CRIU_FAULT=130 is CRIU's FI_NO_BREAKPOINTS switch: when CRIU removes its parasite from a task
 * it normally stops the task just before `rt_sigreturn` with a hardware breakpoint. On the
 * virtual machines this project runs on (kernel 6.18 under a paravirtualised hypervisor),
 * hardware breakpoints never fire and every dump hangs forever in wait4 (observed 2026-11-27;
 * same symptom as checkpoint-restore/criu#162). With the switch CRIU single-steps with
 * PTRACE_SYSCALL instead, which works everywhere and costs well under a millisecond.
 * Set MIGRATE_CRIU_BREAKPOINTS=1 to leave CRIU's default alone.
 */
export function criuEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env.MIGRATE_CRIU_BREAKPOINTS === '1' ? {} : { CRIU_FAULT: '130' };
}
