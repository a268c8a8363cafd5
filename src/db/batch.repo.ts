import { completeKeyIfPublished, STILL_HOLDS_KEY, type IdempotencyHold } from "./idempotency.repo";
import type { CallingWindow, SmartCallbackConfig } from "../domain/batch-options";
import type { PreDial } from "../domain/batch-safety";
import type { BudgetCounters, EstimateRates } from "../domain/budget";
import type { StopRules } from "../domain/stop-rules";
import type { BatchProgress, LedgerBatch, ResultCounters } from "./call-ledger";
import type { BatchStatus as VisibleStatus } from "../domain/vocabulary";

/** A row's status: 'preparing' until the upload is published (no read path shows it), then what clients see. */
export type BatchStatus = "preparing" | VisibleStatus;

export type BatchRow = BatchProgress & {
  id: string;
  workspace_id: string;
  agent_id: string;
  name: string | null;
  /** The uploaded file's name as the client sent it; null when the part had none, or for a batch made before it was kept. */
  file_name: string | null;
  status: BatchStatus;
  duplicates_removed: number;
  suppressed: number;
  invalid_rows: number;
  scheduled_at: string | null;
  smart_callback_config: string | null;
  calling_window: string | null;
  /** JSON of the batch's StopRules; null: none (or a batch made before them). */
  stop_rules: string | null;
  /** The pre-dial check's URL and what its failure decides; null: none. */
  pre_dial_url: string | null;
  pre_dial_on_error: string | null;
  max_concurrent_calls: number | null;
  default_country: string;
  columns: string;
  csv_key: string;
  created_at: string;
  pass: number;
  /** JSON {outcome: n} as the batch's object last wrote it; null before it wrote one. */
  outcomes: string | null;
  /** JSON {label: n}, the DISPOSITIONS_SHOWN largest; null before the object wrote one. */
  dispositions: string | null;
  /** The budget (null: none), and the billed minutes and finished attempts the object last reported (0013; optional here: rows built by hand may leave them out). */
  max_minutes?: number | null;
  billed_minutes?: number;
  attempts_ended?: number;
  /** A draft's estimate, per call (JSON of EstimateRates, as of its upload or last edit); null otherwise. */
  estimate?: string | null;
};

export type NewBatch = {
  id: string;
  workspaceId: string;
  agentId: string;
  name: string | null;
  fileName: string | null;
  scheduledAt: string | null;
  smartCallbackConfig: SmartCallbackConfig | null;
  callingWindow: CallingWindow | null;
  maxConcurrentCalls: number | null;
  stopRules: StopRules | null;
  preDial: PreDial | null;
  maxMinutes: number | null;
  estimate: EstimateRates | null;
  defaultCountry: string;
  columns: string[];
  csvKey: string;
  createdAt: string;
};

/** Visible to nobody until `publishBatch` flips it from 'preparing'. */
export async function insertPreparingBatch(db: D1Database, b: NewBatch): Promise<void> {
  const json = (v: unknown) => (v ? JSON.stringify(v) : null);
  const settings = [json(b.smartCallbackConfig), json(b.callingWindow), b.maxConcurrentCalls, b.defaultCountry, JSON.stringify(b.columns), b.csvKey];
  const safety = [json(b.stopRules), b.preDial?.url ?? null, b.preDial?.onError ?? null, b.maxMinutes, json(b.estimate)];
  await db
    .prepare(
      `INSERT INTO batches (id, workspace_id, agent_id, name, status, scheduled_at, smart_callback_config,
         calling_window, max_concurrent_calls, default_country, columns, csv_key, created_at, file_name, stop_rules,
         pre_dial_url, pre_dial_on_error, max_minutes, estimate)
       VALUES (?1, ?2, ?3, ?4, 'preparing', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)`,
    )
    .bind(b.id, b.workspaceId, b.agentId, b.name, b.scheduledAt, ...settings, b.createdAt, b.fileName, ...safety)
    .run();
}

export type IntakeCounts = { totalCalls: number; duplicatesRemoved: number; suppressed: number; invalidRows: number };

/**
 * preparing → queued (or draft, `as`: an upload with start=false), with the
 * intake counters; false if the batch is gone
 * or already published. With `key`, only while that request still holds its
 * Idempotency-Key, and the key is completed with the 201 in the same D1
 * transaction: a process that dies at any point leaves either no batch and
 * a held key, or the batch and a key that replays it — never a published
 * batch whose key a retry could take over to create a second one.
 */
export async function publishBatch(
  db: D1Database,
  batchId: string,
  c: IntakeCounts,
  columns: string[],
  key?: { hold: IdempotencyHold; status: number; body: string },
  as: "queued" | "draft" = "queued",
): Promise<boolean> {
  const params = [batchId, c.totalCalls, c.duplicatesRemoved, c.suppressed, c.invalidRows, JSON.stringify(columns)];
  // A literal of a closed set, not a parameter: ?7–?9 belong to the key's check.
  const status = as === "draft" ? "draft" : "queued";
  const publish = db
    .prepare(
      `UPDATE batches SET status = '${status}', total_calls = ?2, waiting_count = ?2, duplicates_removed = ?3,
         suppressed = ?4, invalid_rows = ?5, columns = ?6
       WHERE id = ?1 AND status = 'preparing'${key ? ` AND ${STILL_HOLDS_KEY}` : ""} RETURNING id`,
    )
    .bind(...params, ...(key ? [key.hold.workspaceId, key.hold.key, key.hold.claimedAt] : []));
  if (!key) return (await publish.first()) !== null;
  const [published] = await db.batch([publish, completeKeyIfPublished(db, key.hold, batchId, key.status, key.body)]);
  return (published?.results?.length ?? 0) > 0;
}
/** Removes an unpublished batch (its calls live in its object, which the caller discards). */
export async function discardPreparingBatch(db: D1Database, batchId: string): Promise<void> {
  await db.prepare("DELETE FROM batches WHERE id = ?1 AND status = 'preparing'").bind(batchId).run();
}

export async function staleBatches(db: D1Database, olderThan: string): Promise<{ id: string; csv_key: string }[]> {
  const { results } = await db
    .prepare("SELECT id, csv_key FROM batches WHERE status = 'preparing' AND created_at < ?1 LIMIT 50")
    .bind(olderThan)
    .all<{ id: string; csv_key: string }>();
  return results;
}

export async function getBatch(db: D1Database, workspaceId: string, id: string): Promise<BatchRow | null> {
  return db.prepare("SELECT * FROM batches WHERE id = ?1 AND workspace_id = ?2 AND status != 'preparing'").bind(id, workspaceId).first<BatchRow>();
}

export async function listBatches(db: D1Database, workspaceId: string, limit: number, offset: number): Promise<{ rows: BatchRow[]; total: number }> {
  const [rows, total] = await db.batch([
    db
      .prepare("SELECT * FROM batches WHERE workspace_id = ?1 AND status != 'preparing' ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3")
      .bind(workspaceId, limit, offset),
    db.prepare("SELECT count(*) AS n FROM batches WHERE workspace_id = ?1 AND status != 'preparing'").bind(workspaceId),
  ]);
  return {
    rows: (rows?.results ?? []) as BatchRow[],
    total: (total?.results?.[0] as { n: number } | undefined)?.n ?? 0,
  };
}

/** The counters and status a batch's object reports; written in version order, so an older report never overwrites a newer one. */
export type BatchSummary = LedgerBatch & ResultCounters & BudgetCounters;

/** Disposition labels a summary keeps and /status shows: an agent may invent any number of them, a status body stays small. */
export const DISPOSITIONS_SHOWN = 100;

/** The `n` largest disposition counts (ties by label), largest first; labels counting 0 are left out. */
export function largestDispositions(d: Record<string, number>, n = DISPOSITIONS_SHOWN): Record<string, number> {
  const entries = Object.entries(d).filter(([, v]) => typeof v === "number" && v > 0);
  entries.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.slice(0, n));
}

export async function writeBatchSummary(db: D1Database, batchId: string, s: BatchSummary): Promise<void> {
  await db
    .prepare(
      `UPDATE batches SET status = ?2, pass = ?3, total_calls = ?4, waiting_count = ?5, active_count = ?6, completed_count = ?7,
         failed_count = ?8, cancelled_count = ?9, total_duration_ms = ?10, start_time = ?11, last_completed_time = ?12,
         completed_time = ?13, summary_version = ?14, outcomes = ?15, dispositions = ?16, paused_reason = ?17, billed_minutes = ?18, attempts_ended = ?19
       WHERE id = ?1 AND status != 'preparing' AND summary_version < ?14`,
    )
    .bind(
      batchId,
      s.status,
      s.pass,
      s.total_calls,
      s.waiting_count,
      s.active_count,
      s.completed_count,
      s.failed_count,
      s.cancelled_count,
      s.total_duration_ms,
      s.start_time,
      s.last_completed_time,
      s.completed_time,
      s.version,
      JSON.stringify(s.outcomes),
      JSON.stringify(largestDispositions(s.dispositions)),
      s.status === "paused" ? (s.paused_reason ?? "manual") : null,
      s.billed_minutes ?? 0,
      s.attempts_ended ?? 0,
    )
    .run();
}

/** An upload's status as D1 has it (null: gone), for an object that has not heard it was published. */
export async function batchStatus(db: D1Database, batchId: string): Promise<BatchStatus | null> {
  const row = await db.prepare("SELECT status FROM batches WHERE id = ?1").bind(batchId).first<{ status: BatchStatus }>();
  return row?.status ?? null;
}

/**
 * Batches of every workspace that are queued or running, or were sent a
 * control request since the last visit, a page at a time (by id): the
 * cron's safety net visits each. A draft has no clock to keep, so it is
 * visited only when a control request (its start, a cancel) marked it.
 */
export async function batchesToVisit(db: D1Database, afterId: string, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT id FROM batches WHERE id > ?1 AND (status IN ('queued', 'processing') OR control_at IS NOT NULL)
       ORDER BY id LIMIT ?2`,
    )
    .bind(afterId, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * The batch the caller may see, marked as sent a control request now (one
 * statement): the cron's next visit checks its object against its summary.
 */
export async function markControl(db: D1Database, workspaceId: string, id: string, now: number): Promise<BatchRow | null> {
  return db
    .prepare("UPDATE batches SET control_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND status != 'preparing' RETURNING *")
    .bind(id, workspaceId, now)
    .first<BatchRow>();
}

/** Clears marks the cron's visit has covered; a control request that came after the visit began keeps its mark. */
export async function clearControlMarks(db: D1Database, ids: string[], visitedAt: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .prepare("UPDATE batches SET control_at = NULL WHERE control_at <= ?2 AND id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids), visitedAt)
    .run();
}

/** The ledger version D1's summary holds (null: no such published batch). */
export async function summaryVersion(db: D1Database, batchId: string): Promise<number | null> {
  const row = await db
    .prepare("SELECT summary_version FROM batches WHERE id = ?1 AND status != 'preparing'")
    .bind(batchId)
    .first<{ summary_version: number }>();
  return row?.summary_version ?? null;
}

/** Batches whose objects may still call someone (a draft may be started): told at once when numbers join the do-not-call list. */
export async function liveBatchIds(db: D1Database, workspaceId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT id FROM batches WHERE workspace_id = ?1 AND status IN ('draft', 'queued', 'processing', 'paused')")
    .bind(workspaceId)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** A published batch's summary as D1 holds it, by id alone (operator reads). */
export async function summaryById(
  db: D1Database,
  batchId: string,
): Promise<{ workspace_id: string; status: VisibleStatus; summary_version: number; control_at: number | null } | null> {
  return db.prepare("SELECT workspace_id, status, summary_version, control_at FROM batches WHERE id = ?1 AND status != 'preparing'").bind(batchId).first();
}

/** The settings an edit wrote to the batch's object, as the views show them (name and scheduledAt only when the edit sent them). */
export type BatchEdit = Pick<
  NewBatch,
  "agentId" | "smartCallbackConfig" | "callingWindow" | "maxConcurrentCalls" | "stopRules" | "preDial" | "maxMinutes" | "estimate"
> & {
  name?: string | null;
  scheduledAt?: string;
};

/**
 * Copies an edit the batch's object accepted into the row the views read.
 * The object decided (its status is the truth; D1's may be behind), so the
 * only condition is that the row is published; every setting is written
 * from the object's config, so repeating the edit repairs a copy that failed.
 */
export async function writeBatchEdit(db: D1Database, workspaceId: string, id: string, e: BatchEdit): Promise<BatchRow | null> {
  const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
  const settings = [e.agentId, json(e.smartCallbackConfig), json(e.callingWindow), e.maxConcurrentCalls, json(e.stopRules), e.preDial?.url ?? null];
  const optional = [e.preDial?.onError ?? null, e.name !== undefined ? 1 : 0, e.name ?? null, e.scheduledAt !== undefined ? 1 : 0, e.scheduledAt ?? null];
  const budget = [e.maxMinutes, json(e.estimate)];
  return db
    .prepare(
      `UPDATE batches SET agent_id = ?3, smart_callback_config = ?4, calling_window = ?5, max_concurrent_calls = ?6, stop_rules = ?7,
         pre_dial_url = ?8, pre_dial_on_error = ?9, max_minutes = ?14, estimate = ?15,
         name = CASE WHEN ?10 THEN ?11 ELSE name END, scheduled_at = CASE WHEN ?12 THEN ?13 ELSE scheduled_at END
       WHERE id = ?1 AND workspace_id = ?2 AND status != 'preparing' RETURNING *`,
    )
    .bind(id, workspaceId, ...settings, ...optional, ...budget)
    .first<BatchRow>();
}
