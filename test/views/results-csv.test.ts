import { describe, expect, it } from "vitest";
import { callRow } from "./call-rows";
import { resultsCsvStream } from "../../src/views/results-csv";

describe("resultsCsvStream", () => {
  it("walks the calls a page at a time after the last seq sent, until a page comes back empty", async () => {
    const calls = [
      callRow(0, ["Ann"], {
        status: "completed",
        outcome: "answered",
        attempts: 1,
        start_time: Date.UTC(2026, 0, 2, 3, 4, 5),
        end_time: Date.UTC(2026, 0, 2, 3, 4, 9),
        duration: 4,
      }),
      callRow(1, ["Bob"]),
      callRow(3, []), // a seq left out (do-not-call) and a row shorter than the header
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
