import type { ApplyResult, CallEvent } from "../domain/call-event";

/**
 * Hands one report to the batch's object, which applies it if, and only
 * if, it is news: duplicates, late and out-of-order reports change
 * nothing (the caller still acknowledges them). The slot it frees goes
 * back to the limiter with the object's next tick.
 */
export async function applyCallEvent(env: Env, ev: CallEvent): Promise<ApplyResult> {
  const [result] = await env.BATCH_SCHEDULER.getByName(ev.batchId).applyEvents([ev], { coalesce: true });
  return result ?? "unknown_call";
}
