/**
 * Seeded kill points for `npm run fault`. In development only, when the Worker
 * var FAULT_KILL_POINT names this point, the process announces it on the log
 * (`{"event":"fault.kill_point","point":…}`) and stops making progress, so the
 * fault script can SIGKILL wrangler and workerd at exactly this step and
 * check what a restart finds. Anywhere else it is a no-op that costs one
 * string comparison.
 */
export type KillPoint =
  | "intake.armed"
  | "intake.published"
  | "intake.noticed"
  | "cancel.committed"
  | "cancel.summarised"
  | "cancel.emitted"
  | "pause.committed"
  | "pause.summarised"
  | "resume.committed"
  | "resume.summarised"
  | "retry.committed"
  | "retry.summarised"
  | "dial.gated";

/** How long a reached kill point holds the request: far longer than the fault script needs to kill. */
const HOLD_MS = 10 * 60 * 1000;

export async function killPoint(env: { ENVIRONMENT?: string; FAULT_KILL_POINT?: string }, point: KillPoint): Promise<void> {
  if (env.FAULT_KILL_POINT !== point || env.ENVIRONMENT !== "development") return;
  console.log(JSON.stringify({ level: "warn", event: "fault.kill_point", point, time: new Date().toISOString() }));
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  throw new Error(`kill point ${point} was held and not killed`);
}
