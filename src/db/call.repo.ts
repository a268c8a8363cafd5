import type { CallRow } from "./call-ledger";
import { callId } from "../lib/ids";
import type { CallStatus } from "../schemas/call";

/**
 * Which rows of an intake slice (`[[seq, e164, [values…]], …]`) are on the
 * workspace's do-not-call list: their seqs, so the batch's object leaves
 * exactly those out when it materialises the calls.
 */
export async function dncSeqsInSlice(db: D1Database, workspaceId: string, rowsJson: string): Promise<number[]> {
  const { results } = await db
    .prepare(
      `SELECT j.value ->> 0 AS seq FROM json_each(?2) AS j
       WHERE EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = ?1 AND dnc.phone_number = j.value ->> 1)`,
    )
    .bind(workspaceId, rowsJson)
    .all<{ seq: number }>();
  return results.map((r) => r.seq);
}

export type CallFilter = CallStatus | "all";

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

export function toCallView(batchId: string, row: CallRow, columns: string[]): CallView {
  const values = JSON.parse(row.metadata) as string[];
  const metadata: Record<string, string> = {};
  columns.forEach((name, i) => {
    metadata[name] = values[i] ?? "";
  });
  return {
    jobId: callId(batchId, row.seq),
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
