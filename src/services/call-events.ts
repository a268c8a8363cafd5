import type { Outcome } from "../schemas/outcome";

/**
 * A provider's report about one attempt. Real status webhooks, the
 * simulated carrier and lease expiry all end up in the batch's object,
 * so they share one state machine.
 */
export type CallEvent =
  | { kind: "progress"; batchId: string; seq: number; attempt: number; providerCallId?: string }
  | {
      kind: "final";
      batchId: string;
      seq: number;
      attempt: number;
      outcome: Outcome;
      at: number;
      durationSec?: number | null;
      error?: string | null;
      providerCallId?: string;
    };

export type ApplyResult = "applied" | "ignored" | "unknown_call";

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
