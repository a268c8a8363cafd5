import type { CallRow } from "../db/call-ledger";
import { callId } from "../lib/ids";
import type { CallView } from "../schemas/call";

/** A ledger row as the API shows a call: its id, times, result and the row's CSV columns by name. */
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
