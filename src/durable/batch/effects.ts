import { summaryVersion, writeBatchSummary } from "../../db/batch.repo";
import type { LedgerBatch } from "../../db/call-ledger";
import { MAX_SLICE, SUMMARY_FLUSH_MS } from "../../engine-config";
import { leaseId } from "../../lib/lease";
import { enqueueCallJobs } from "../../queue/call-job";
import { emitWebhook, type WebhookEventType } from "../../queue/webhook-event";
import type { BatchContext } from "./context";
import type { AttemptRef, SchedulerState } from "./contract";

// What the ledger records first and the world hears after: jobs in the
// outbox, leases to hand back to the workspace's limiter, the batch's D1
// summary and its webhooks. Each is written to the ledger in the same step
// as the transition that causes it, and sent from here, so a step that dies
// before sending leaves it for the next one.

/**
 * Sends the outbox's jobs, a slice (≤ MAX_SLICE jobs, one sendBatch each) at
 * a time, forgetting each slice once sent. A slice that dies half-way is
 * sent whole again: a job sent twice finds its attempt claimed and does nothing.
 */
export async function flushOutbox(c: BatchContext): Promise<void> {
  const pending = c.ledger.outbox();
  if (pending.length === 0) return;
  const state = (await c.state())!;
  for (const slice of pending) {
    for (let i = 0; i < slice.jobs.length; i += MAX_SLICE) {
      const chunk = slice.jobs.slice(i, i + MAX_SLICE);
      const backlog = await enqueueCallJobs(
        c.ports.queue,
        chunk.map((j) => ({ batchId: state.batchId, seq: j.seq, attempt: j.attempt })),
      );
      // What the queue held as it took them: the next admission's view of it, for free.
      if (backlog) c.queueSeen = { backlog, at: c.now() };
    }
    c.ledger.clearOutbox(slice.id);
  }
}

/** Records attempts whose limiter leases are free now, and whether they were calls that ended (or answered); flushReleases hands them back. */
export function release(c: BatchContext, batchId: string, attempts: AttemptRef[], outcome: "freed" | "ended" | "answered" = "freed"): void {
  if (attempts.length === 0) return;
  c.ledger.releases.add(
    attempts.map((j) => leaseId(batchId, j.seq, j.attempt)),
    outcome,
  );
}

/** Hands freed leases back to the workspace's limiter (one call for all of them). */
export async function flushReleases(c: BatchContext): Promise<void> {
  const state = await c.state();
  if (!state || !c.ledger.releases.pending()) return;
  const listed = c.ledger.releases.list(state.batchId);
  await c.env.WORKSPACE_LIMITER.getByName(state.workspaceId).release(listed.leases, { ended: listed.ended, answered: listed.answered });
  c.ledger.releases.clear(listed);
}

/**
 * Writes the ledger's status and counters to the batch's D1 row: at once
 * when `force` (a status change), otherwise at most every
 * SUMMARY_FLUSH_MS. Returns whether the summary is still behind.
 * `checkD1` is the cron's check: compare with what D1 really holds, not
 * with what this object last wrote; returns whether it had to write.
 */
export async function syncSummary(c: BatchContext, force: boolean, checkD1 = false): Promise<boolean> {
  const state = await c.state();
  // The head first: most calls find the summary current or not yet due, and need no whole row.
  const head = c.ledger.head();
  if (!state || !head || !state.published) return false;
  if (checkD1) {
    const written = await summaryVersion(c.env.DB, state.batchId);
    if (written === null || written >= head.version) return false;
    await writeSummary(c, state.batchId, c.ledger.batch()!);
    return true;
  }
  if (head.version === state.summaryVersion) return false;
  if (!force && c.now() - state.summaryAt < SUMMARY_FLUSH_MS) return true;
  await writeSummary(c, state.batchId, c.ledger.batch()!);
  return false;
}

async function writeSummary(c: BatchContext, batchId: string, b: LedgerBatch): Promise<void> {
  await writeBatchSummary(c.env.DB, batchId, { ...b, ...c.ledger.results.counters() });
  const latest = (await c.state())!;
  await c.patchState({ summaryVersion: Math.max(latest.summaryVersion, b.version), summaryAt: c.now() });
}

export async function emit(c: BatchContext, type: WebhookEventType, key: string, data: Record<string, unknown>): Promise<void> {
  const state = await c.state();
  if (!state) return;
  const ws = await c.workspace(state);
  await emitWebhook(c.env, state.workspaceId, type, key, data, ws?.webhookUrl ?? null);
}

/**
 * The batch-level webhooks not sent yet: batch.paused for a pause the
 * batch's stop rules made, batch.cancelled for a cancel. Sent by the control call, by the tick and by
 * the cron's visit, until one of them records it; the event's id is
 * stable, so a second send is a duplicate the receiver can drop.
 */
export async function announce(c: BatchContext, state: SchedulerState): Promise<void> {
  const b = c.ledger.batch();
  if (!b || !announcePending(state, b)) return;
  if (state.published && pauseUnannounced(b)) {
    // Keyed by the pause's number: a second send after a crash is the same event.
    const n = b.auto_pauses!;
    const config = await c.config();
    await emit(c, "batch.paused", `${state.batchId}:paused:${n}`, {
      batchId: state.batchId,
      pausedReason: b.paused_reason ?? null,
      ...c.ledger.stopWindow.counts(),
      billedMinutes: b.billed_minutes ?? 0,
      maxMinutes: config.maxMinutes ?? null,
      completedCalls: b.completed_count,
      failedCalls: b.failed_count,
      totalCalls: b.total_calls,
    });
    c.ledger.stopWindow.announced(n);
  }
  if (!(b.status === "cancelled" && !state.cancelAnnounced)) return;
  await emit(c, "batch.cancelled", state.batchId, {
    batchId: state.batchId,
    completedCalls: b.completed_count,
    failedCalls: b.failed_count,
    cancelledCalls: b.cancelled_count,
    totalCalls: b.total_calls,
  });
  await c.patchState({ cancelAnnounced: true });
}

export function announcePending(state: SchedulerState, b: LedgerBatch): boolean {
  return state.published && ((b.status === "cancelled" && !state.cancelAnnounced) || pauseUnannounced(b));
}

/** A pause the batch's stop rules made that no batch.paused event was handed over for yet. */
export function pauseUnannounced(b: LedgerBatch): boolean {
  return (b.auto_pauses ?? 0) > (b.pauses_announced ?? 0);
}
