import type { AttemptRow, CallRow, ResultRow } from "../../src/db/call-ledger";

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
    disposition: null,
    result_attempt: null,
    requested_callbacks: 0,
    opted_out: 0,
    numbers: null,
    dial_to: null,
    dial_from: null,
    wait_reason: null,
    ...extra,
  };
}

/** An agent's result for attempt 1 of call `seq`, as the ledger joins it. */
export function resultRow(seq: number, extra: Partial<ResultRow> = {}): ResultRow {
  return {
    seq,
    attempt: 1,
    disposition: null,
    summary: null,
    sentiment: null,
    data: null,
    transcript_key: null,
    recording_url: null,
    callback_at: null,
    opt_out: 0,
    received_at: Date.UTC(2026, 0, 2, 3, 5),
    updated_at: Date.UTC(2026, 0, 2, 3, 5),
    revision: 1,
    ...extra,
  };
}

/** A finished attempt of call `seq`. */
export function attemptRow(seq: number, attempt: number, extra: Partial<AttemptRow> = {}): AttemptRow {
  return {
    seq,
    attempt,
    from_number: "+14155550100",
    to_number: null,
    start_time: Date.UTC(2026, 0, 2, 3, attempt),
    end_time: Date.UTC(2026, 0, 2, 3, attempt, 30),
    outcome: "no_answer",
    duration: null,
    error: null,
    provider_call_id: null,
    ...extra,
  };
}
