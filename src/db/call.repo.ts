import { callId } from "../lib/ids";

export type CallStatus = "waiting" | "active" | "completed" | "failed" | "cancelled";

export type CallRow = {
  batch_id: string;
  seq: number;
  phone_number: string;
  metadata: string;
  status: CallStatus;
  outcome: string | null;
  attempts: number;
  next_attempt_at: string | null;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  error: string | null;
};

/**
 * Inserts a slice of call rows from one JSON parameter: `[[seq, e164, [values…]], …]`.
 * One bound parameter carries thousands of rows, so D1's 100-parameter limit
 * never binds and a slice is one statement. With `workspaceId`, numbers on
 * that workspace's do-not-call list are left out; the return value is how
 * many rows were written.
 */
export async function insertCallSlice(db: D1Database, batchId: string, rowsJson: string, dncWorkspaceId: string | null): Promise<number> {
  const select = `SELECT ?1, j.value ->> 0, j.value ->> 1, j.value -> 2 FROM json_each(?2) AS j`;
  const stmt = dncWorkspaceId
    ? db
        .prepare(
          `INSERT INTO calls (batch_id, seq, phone_number, metadata) ${select}
           WHERE NOT EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = ?3 AND dnc.phone_number = j.value ->> 1)`,
        )
        .bind(batchId, rowsJson, dncWorkspaceId)
    : db.prepare(`INSERT INTO calls (batch_id, seq, phone_number, metadata) ${select}`).bind(batchId, rowsJson);
  const res = await stmt.run();
  return res.meta.changes;
}

/** How many rows of a slice (same JSON shape) are on the workspace's do-not-call list. */
export async function countDncInSlice(db: D1Database, workspaceId: string, rowsJson: string): Promise<number> {
  const row = await db
    .prepare(
      `SELECT count(*) AS n FROM json_each(?2) AS j
       WHERE EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = ?1 AND dnc.phone_number = j.value ->> 1)`,
    )
    .bind(workspaceId, rowsJson)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export type CallFilter = CallStatus | "all";

/**
 * A page of calls in file order. Pages walk the primary key; the totals
 * come from the batch's counters, so no page ever counts rows.
 */
export async function listCalls(db: D1Database, batchId: string, filter: CallFilter, limit: number, offset: number): Promise<CallRow[]> {
  const status = filter === "all" ? null : filter;
  const where = status ? "batch_id = ?1 AND status = ?2" : "batch_id = ?1 AND ?2 IS NULL";
  const { results } = await db.prepare(`SELECT * FROM calls WHERE ${where} ORDER BY seq LIMIT ?3 OFFSET ?4`).bind(batchId, status, limit, offset).all<CallRow>();
  return results;
}

/** Calls after `afterSeq` in file order: keyset pages for exports that walk a whole batch. */
export async function callsAfter(db: D1Database, batchId: string, afterSeq: number, limit: number): Promise<CallRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM calls WHERE batch_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")
    .bind(batchId, afterSeq, limit)
    .all<CallRow>();
  return results;
}

/** The most recently finished calls of a batch, newest first. */
export async function recentCalls(db: D1Database, batchId: string, limit: number): Promise<CallRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM calls WHERE batch_id = ?1 AND end_time IS NOT NULL ORDER BY end_time DESC LIMIT ?2")
    .bind(batchId, limit)
    .all<CallRow>();
  return results;
}

export type CallView = {
  jobId: string;
  status: CallStatus;
  phone_number: string;
  startTime: number | null;
  endTime: number | null;
  duration: number | null;
  error: string | null;
  metadata: Record<string, string>;
  attempts: number;
  outcome: string | null;
  nextAttemptAt: string | null;
};

export function toCallView(row: CallRow, columns: string[]): CallView {
  const values = JSON.parse(row.metadata) as string[];
  const metadata: Record<string, string> = {};
  columns.forEach((name, i) => {
    metadata[name] = values[i] ?? "";
  });
  return {
    jobId: callId(row.batch_id, row.seq),
    status: row.status,
    phone_number: row.phone_number,
    startTime: row.start_time,
    endTime: row.end_time,
    duration: row.duration,
    error: row.error,
    metadata,
    attempts: row.attempts,
    outcome: row.outcome,
    nextAttemptAt: row.next_attempt_at,
  };
}
