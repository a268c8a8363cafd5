import type { CallRow } from "../../src/db/call-ledger";

/** A waiting call's ledger row with these CSV values, as the views receive it. */
export function callRow(seq: number, values: string[], extra: Partial<CallRow> = {}): CallRow {
  return {
    seq,
    phone_number: `+1212555010${seq}`,
    metadata: JSON.stringify(values),
    status: "waiting",
    outcome: null,
    attempts: 0,
    next_attempt_at: null,
    start_time: null,
    end_time: null,
    duration: null,
    error: null,
    dispatched_attempt: 0,
    dispatched_at: null,
    pass_base: 0,
    due_at: 0,
    provider_call_id: null,
    lease_expires_at: null,
    ...extra,
  };
}
