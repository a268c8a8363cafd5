import type { BatchStatus } from "../../domain/vocabulary";
import { POKE_COALESCE_MS } from "../../engine-config";
import type { BatchContext } from "./context";
import type { SchedulerState } from "./contract";

// The batch's clock: its one alarm, kept at the earliest time something is
// due (the cloudflare/agents discipline). This is the only code that sets or
// deletes it; an alarm that finds nothing to do is harmless.

/** The alarm fires no later than `at` (an earlier one is kept). */
export async function wakeBy(c: BatchContext, at: number): Promise<void> {
  const current = await c.storage.getAlarm();
  if (current === null || current > at) await c.storage.setAlarm(at);
}

/** When a batch in `status` should next look at its calls: a queued one at its start, any other one soon. */
function soonFor(c: BatchContext, status: BatchStatus | undefined, state: SchedulerState): number {
  const now = c.now();
  // Calls ending together coalesce into one tick per POKE_COALESCE_MS instead of one each.
  return status === "queued" ? Math.max(state.dueAt, now + POKE_COALESCE_MS) : now + POKE_COALESCE_MS;
}

/** Something changed (a call ended, the batch resumed): look again soon. `rewind` restarts the first-attempt scan. */
export async function poke(c: BatchContext, rewind = false): Promise<void> {
  const state = await c.state();
  if (!state) return;
  if (rewind) await c.patchState({ cursor: 0 });
  await wakeBy(c, soonFor(c, c.ledger.head()?.status, state));
}

/**
 * The clock for a transition about to be committed, set before it: a
 * process that dies after the transition and before its D1 summary or
 * webhook still leaves an alarm, and the tick it fires writes the summary
 * and moves the batch.
 */
export async function armFor(c: BatchContext, to: BatchStatus, state: SchedulerState, rewind: boolean): Promise<void> {
  if (rewind) await c.patchState({ cursor: 0 });
  await wakeBy(c, soonFor(c, to, state));
}

/** A newly armed batch starts materialising at once. */
export async function startNow(c: BatchContext): Promise<void> {
  await c.storage.setAlarm(c.now());
}

/** After a tick: run again at `next`, unless a poke during the tick already set an earlier alarm. */
export async function afterTick(c: BatchContext, next: number | null): Promise<void> {
  if (next !== null) await wakeBy(c, next);
}

/** The cron's repair: sets the alarm if there is none (returns whether it had to). */
export async function restoreAlarm(c: BatchContext, at: number): Promise<boolean> {
  if ((await c.storage.getAlarm()) !== null) return false;
  await c.storage.setAlarm(at);
  return true;
}

export async function alarmAt(c: BatchContext): Promise<number | null> {
  return c.storage.getAlarm();
}

export async function stopClock(c: BatchContext): Promise<void> {
  await c.storage.deleteAlarm();
}
