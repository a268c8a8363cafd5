import { describe, expect, it } from "vitest";
import type { CallRow } from "../../src/db/call-ledger";
import { resultsCsvStream } from "../../src/views/results-csv";

function row(seq: number, values: string[], extra: Partial<CallRow> = {}): CallRow {
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

describe("resultsCsvStream", () => {
  it("walks the calls a page at a time after the last seq sent, until a page comes back empty", async () => {
    const calls = [
      row(0, ["Ann"], {
        status: "completed",
        outcome: "answered",
        attempts: 1,
        start_time: Date.UTC(2026, 0, 2, 3, 4, 5),
        end_time: Date.UTC(2026, 0, 2, 3, 4, 9),
        duration: 4,
      }),
      row(1, ["Bob"]),
      row(3, []), // a seq left out (do-not-call) and a row shorter than the header
    ];
    const asked: [number, number][] = [];
    const body = resultsCsvStream(
      "batch_abc",
      ["first_name"],
      async (after, limit) => {
        asked.push([after, limit]);
        return calls.filter((c) => c.seq > after).slice(0, limit);
      },
      2,
    );

    const lines = (await new Response(body).text()).split("\r\n");
    expect(asked).toEqual([
      [-1, 2],
      [1, 2],
      [3, 2],
    ]);
    expect(lines).toEqual([
      "first_name,e164,call_id,call_status,call_outcome,call_attempts,call_started_at,call_ended_at,call_duration_seconds,call_error",
      "Ann,+12125550100,call_abc_0,completed,answered,1,2026-01-02T03:04:05.000Z,2026-01-02T03:04:09.000Z,4,",
      "Bob,+12125550101,call_abc_1,waiting,,0,,,,",
      ",+12125550103,call_abc_3,waiting,,0,,,,",
      "",
    ]);
  });

  it("sends the header alone for a batch without calls", async () => {
    const body = resultsCsvStream("batch_abc", ["phone_number", "note"], async () => []);
    expect(await new Response(body).text()).toBe(
      "phone_number,note,e164,call_id,call_status,call_outcome,call_attempts,call_started_at,call_ended_at,call_duration_seconds,call_error\r\n",
    );
  });
});
