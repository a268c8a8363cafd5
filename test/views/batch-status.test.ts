import { describe, expect, it } from "vitest";
import type { BatchRow } from "../../src/db/batch.repo";
import { largestDispositions } from "../../src/db/batch.repo";
import { callPage, summaryStatus } from "../../src/views/batch";
import { statusBody, type BatchCounters } from "../../src/views/batch-status";

const counters: BatchCounters = {
  status: "processing",
  total_calls: 10,
  waiting_count: 4,
  active_count: 1,
  completed_count: 4,
  failed_count: 1,
  cancelled_count: 0,
  total_duration_ms: 0,
  start_time: 1,
  last_completed_time: 2,
  completed_time: null,
};

function batchRow(extra: Partial<BatchRow> = {}): BatchRow {
  return {
    ...counters,
    status: "processing",
    id: "batch_abc",
    workspace_id: "ws_x",
    agent_id: "agent_x",
    name: null,
    duplicates_removed: 0,
    suppressed: 0,
    invalid_rows: 0,
    scheduled_at: null,
    smart_callback_config: null,
    calling_window: null,
    stop_rules: null,
    pre_dial_url: null,
    pre_dial_on_error: null,
    max_concurrent_calls: null,
    default_country: "US",
    columns: JSON.stringify(["phone_number"]),
    csv_key: "k",
    file_name: null,
    created_at: "2026-01-01T00:00:00Z",
    pass: 1,
    outcomes: null,
    dispositions: null,
    ...extra,
  };
}

const ZERO = { answered: 0, voicemail: 0, no_answer: 0, busy: 0, failed: 0, canceled: 0, callback_requested: 0 };

describe("the status body's outcome and disposition counters", () => {
  it("shows every outcome, 0 for those the counters lack, and the dispositions as counted", () => {
    const body = statusBody(
      "batch_abc",
      { ...counters, outcomes: { answered: 3, callback_requested: 1 } as never, dispositions: { booked: 2, no_interest: 1 } },
      [],
      [],
    );
    expect(body.outcomes).toEqual({ ...ZERO, answered: 3, callback_requested: 1 });
    expect(body.dispositions).toEqual({ booked: 2, no_interest: 1 });
    // Counters from before they were kept: zeros and no labels.
    expect(statusBody("batch_abc", counters, [], [])).toMatchObject({ outcomes: ZERO, dispositions: {} });
  });

  it("keeps the 100 largest labels (ties by label), leaving out labels with no call", () => {
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`label_${String(i).padStart(3, "0")}`, i % 50]));
    const shown = statusBody("batch_abc", { ...counters, dispositions: { ...many, gone: 0 } }, [], []).dispositions;
    expect(Object.keys(shown)).toHaveLength(100);
    expect(shown).not.toHaveProperty("gone");
    // Each count 0–49 is held by three labels: 49 down to 17 fill 99 places, the 100th is the first label counting 16.
    expect(Math.min(...Object.values(shown))).toBe(16);
    expect([shown.label_016, shown.label_066]).toEqual([16, undefined]);
    expect(Object.keys(largestDispositions({ b: 1, a: 1, c: 2 }, 2))).toEqual(["c", "a"]);
  });

  it("reads the D1 summary's JSON columns when the object is not asked, and zeros when they are missing or broken", () => {
    const row = batchRow({ outcomes: JSON.stringify({ ...ZERO, answered: 4, busy: 1 }), dispositions: JSON.stringify({ booked: 3 }) });
    expect(summaryStatus(row)).toMatchObject({ outcomes: { ...ZERO, answered: 4, busy: 1 }, dispositions: { booked: 3 }, completed: 4 });
    expect(summaryStatus(batchRow())).toMatchObject({ outcomes: ZERO, dispositions: {} });
    expect(summaryStatus(batchRow({ outcomes: "not json", dispositions: "[1]" }))).toMatchObject({ outcomes: ZERO, dispositions: {} });
  });
});

describe("callPage with a disposition", () => {
  it("pages by that label's counter, never an inherited key's", () => {
    const batch = { ...counters, pass: 1, version: 3, outcomes: ZERO, dispositions: { booked: 45 } };
    expect(callPage(batchRow(), { calls: [], batch }, "all", 2, 20, "booked").pagination).toMatchObject({ total: 45, totalPages: 3, hasNext: true });
    expect(callPage(batchRow(), { calls: [], batch }, "all", 1, 20, "constructor").pagination).toMatchObject({ total: 0, totalPages: 0 });
    // Without one: the status filter's counter, as before.
    expect(callPage(batchRow(), { calls: [], batch }, "waiting", 1, 20).pagination.total).toBe(4);
    // No ledger: the D1 summary's counts.
    expect(callPage(batchRow({ dispositions: JSON.stringify({ booked: 7 }) }), null, "all", 1, 20, "booked").pagination.total).toBe(7);
  });
});
