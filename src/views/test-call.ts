import type { TestCallRow } from "../db/ledger/test-calls";
import type { StoredResult } from "../db/ledger/results";
import { callId } from "../lib/ids";
import type { TestCallView } from "../schemas/test-call";
import { resultView } from "./call";

/** A test call as the API shows it: its result as a call's is shown (the transcript as a link). */
export function testCallView(batchId: string, t: TestCallRow): TestCallView {
  return {
    callId: callId(batchId, t.seq),
    batchId,
    test: true,
    row: t.row_number,
    to: t.to_number,
    from: t.from_number,
    variables: JSON.parse(t.variables) as Record<string, string>,
    status: t.status,
    outcome: t.outcome,
    startTime: t.start_time,
    endTime: t.end_time,
    duration: t.duration,
    error: t.error,
    result: t.result ? resultView(batchId, JSON.parse(t.result) as StoredResult) : null,
  };
}
