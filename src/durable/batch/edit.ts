import type { BatchStatus } from "../../domain/vocabulary";
import { log } from "../../lib/log";
import { armFor } from "./clock";
import { batchFields, type BatchContext } from "./context";
import type { BatchConfig, EditInput, EditResult } from "./contract";
import { ready } from "./materialise";

// An edit of a batch that has not started, or is paused: the object's
// side of PATCH /v1/api/batch-calls/{batchId}. The object is the authority
// on the batch's status (D1's may be behind) and on the settings its
// attempts use.

/** The states an edit applies to: nothing is being dialled under the old settings. */
export const EDITABLE: readonly BatchStatus[] = ["draft", "queued", "paused"];

/**
 * Replaces the batch's config whole, in one put, after checking the
 * ledger's status in the same synchronous step: a tick or a claim reads
 * the config once, so it dials with all of the old settings or all of the
 * new ones, never a mix. A new scheduledAt moves a draft's or a queued
 * batch's start (and a queued batch's alarm); a paused batch has started
 * and refuses it. Sending the same edit again writes the same config:
 * a retry converges.
 */
export async function edit(c: BatchContext, input: EditInput): Promise<EditResult> {
  if (!(await ready(c))) return { ok: false, status: "gone" };
  const current = await c.config();
  const state = await c.state();
  const b = c.ledger.batch();
  if (!state || !b || c.discarded) return { ok: false, status: "gone" };
  // No await from here to the put: the status checked is the status the put is made under.
  if (!EDITABLE.includes(b.status)) return { ok: false, status: b.status };
  if (input.dueAt !== undefined && b.status === "paused") return { ok: false, status: b.status };
  const config: BatchConfig = { ...current, ...input.changes };
  if (input.preDialOnError && input.changes.preDial === undefined) {
    config.preDial = current.preDial ? { ...current.preDial, onError: input.preDialOnError } : null;
  }
  const rulesChanged = input.changes.stopRules !== undefined && JSON.stringify(input.changes.stopRules) !== JSON.stringify(current.stopRules ?? null);
  // The stop rules judge the attempts made under them, not the ones before the edit.
  if (rulesChanged) c.ledger.stopWindow.reset();
  const next = input.dueAt === undefined ? state : { ...state, dueAt: input.dueAt };
  await c.replaceConfig(config, next);
  // A queued batch's clock follows its new start (an alarm set for the old, later one fires early and finds it not yet due).
  if (b.status === "queued" && input.dueAt !== undefined) await armFor(c, "queued", next, false);
  log("info", "batch.edited", { ...batchFields(state), status: b.status, fields: Object.keys(input.changes).join(","), dueAt: input.dueAt ?? null });
  return { ok: true, config };
}
