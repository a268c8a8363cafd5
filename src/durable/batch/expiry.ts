import type { ExpiredAttempt } from "../../db/call-ledger";
import { DIAL_CONFIRM_MS, engineConfig } from "../../engine-config";
import { log } from "../../lib/log";
import { findLostDial } from "../../telephony/reconcile";
import { batchFields, type BatchContext } from "./context";
import type { AttemptRef, CallEvent, SchedulerState } from "./contract";
import { release } from "./effects";
import { applyLocal } from "./results";

/**
 * Active calls whose lease ran out; returns how many were settled.
 * A confirmed dial that never reported a final status fails, through the
 * normal outcome path. An unconfirmed one (its claimer died before the
 * provider answered) is looked up at the provider: a call it has goes on
 * with the full lease; one it certainly never got is dialled again as the
 * same attempt; one nobody can vouch for fails with its fate unknown —
 * never dialled a second time.
 */
export async function resolveExpired(c: BatchContext, state: SchedulerState, now: number): Promise<number> {
  const expired = c.ledger.expiredActive(now);
  if (expired.length === 0) return 0;
  const config = await c.config();
  const cfg = engineConfig(c.env);
  const events: CallEvent[] = [];
  const unclaimed: AttemptRef[] = [];
  const cancelled = c.ledger.batch()!.status === "cancelled";
  const fates = await Promise.all(
    expired.map((e) =>
      e.confirmed
        ? null
        : findLostDial(c.env, config.agent.provider, {
            batchId: state.batchId,
            seq: e.seq,
            attempt: e.attempts,
            to: e.phone_number,
            from: e.dial_from ?? config.agent.from_number,
            claimedAt: e.start_time ?? now - DIAL_CONFIRM_MS,
          }),
    ),
  );
  expired.forEach((e, i) => {
    const fate = fates[i];
    const base = { kind: "final" as const, batchId: state.batchId, seq: e.seq, attempt: e.attempts, outcome: "failed" as const, at: now };
    const fields = { ...batchFields(state), seq: e.seq, attempt: e.attempts };
    if (!fate) {
      events.push({ ...base, error: "No final status arrived from the provider before the call's lease expired." });
    } else if (fate.kind === "placed") {
      c.ledger.confirmDials([{ seq: e.seq, attempt: e.attempts, providerCallId: fate.providerCallId }], cfg.callLeaseMs);
      log("warn", "call.dial_reconciled", { ...fields, fate: "placed" });
    } else if (fate.kind === "not_placed") {
      if (redial(c, e, cancelled)) unclaimed.push({ seq: e.seq, attempt: e.attempts });
      log("warn", "call.dial_reconciled", { ...fields, fate: "not_placed" });
    } else {
      // A dial that got no response at all (placed() recorded it unreachable) ends saying so.
      const unreachable = c.ledger.unreachableError(e.seq, e.attempts);
      events.push({
        ...base,
        error:
          unreachable ??
          `The dial's fate is unknown: the service stopped after claiming this attempt and before the provider confirmed it (${fate.reason}), so it was not dialled again.`,
      });
      log("warn", "call.dial_fate_unknown", { ...fields, reason: fate.reason });
    }
  });
  release(c, state.batchId, unclaimed);
  const results = events.length > 0 ? await applyLocal(c, state, events) : [];
  results.forEach((r, i) => {
    if (r === "applied") log("warn", "call.lease_expired", { ...batchFields(state), seq: events[i]!.seq, attempt: events[i]!.attempt });
  });
  return expired.length;
}

/** A dial the provider never got: the same attempt is dialled again, unless the batch was cancelled meanwhile. */
function redial(c: BatchContext, e: ExpiredAttempt, cancelled: boolean): boolean {
  if (!c.ledger.unclaim(e.seq, e.attempts)) return false;
  if (cancelled) c.ledger.cancelWaiting();
  else c.ledger.undispatch(e.seq, e.attempts);
  return true;
}
