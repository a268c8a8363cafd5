import { describe, expect, it } from "vitest";
import { attemptRow, callRow, resultRow } from "./call-rows";
import type { ExportRow } from "../../src/views/results-csv";
import { resultsJsonlStream, TRANSCRIPT_READS, transcriptTurns } from "../../src/views/results-jsonl";

const lines = async (body: ReadableStream<Uint8Array>) =>
  (await new Response(body).text())
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("resultsJsonlStream", () => {
  it("writes one object per recipient: every column by name, every attempt, and the result with its transcript inline", async () => {
    const result = resultRow(0, {
      attempt: 2,
      disposition: "booked",
      summary: "Booked.",
      data: JSON.stringify({ guests: 2 }),
      transcript_key: "transcripts/batch_abc/call_abc_0/2.json",
    });
    const rows: ExportRow[] = [
      {
        ...callRow(0, ["(212) 555-0100", "Ann"], { status: "completed", outcome: "answered", attempts: 2, disposition: "booked", result }),
        result,
        attemptList: [attemptRow(0, 1), attemptRow(0, 2, { outcome: "answered", duration: 40 })],
      },
      { ...callRow(1, ["212 555 0101", "Bob"], { status: "active", attempts: 1, start_time: 9000 }), result: null, attemptList: [] },
    ];
    const turns = [{ role: "agent", text: "Hi Ann" }];
    const read: string[] = [];
    const body = resultsJsonlStream("batch_abc", ["phone_number", "first_name"], {
      rows: async (after) => rows.filter((r) => r.seq > after),
      transcript: async (key) => {
        read.push(key);
        return turns;
      },
    });
    const [ann, bob, ...rest] = await lines(body);
    expect(rest).toEqual([]);
    expect(read).toEqual(["transcripts/batch_abc/call_abc_0/2.json"]);
    expect(ann).toMatchObject({
      callId: "call_abc_0",
      status: "completed",
      outcome: "answered",
      attempts: 2,
      phone_number: "(212) 555-0100",
      e164: "+12125550100",
      metadata: { phone_number: "(212) 555-0100", first_name: "Ann" },
      result: {
        attempt: 2,
        disposition: "booked",
        summary: "Booked.",
        data: { guests: 2 },
        transcriptUrl: "/v1/api/batch-calls/batch_abc/calls/call_abc_0/transcript?attempt=2",
        transcript: turns,
      },
    });
    expect(ann.attemptHistory.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome])).toEqual([
      [1, "no_answer"],
      [2, "answered"],
    ]);
    expect(bob).toMatchObject({ callId: "call_abc_1", result: null, attemptHistory: [{ attempt: 1, startTime: 9000, endTime: null, outcome: null }] });
  });

  it("reads pages after the last seq sent and transcripts a bounded number at a time, sending as the client reads", async () => {
    const n = 40;
    const rows: ExportRow[] = Array.from({ length: n }, (_, i) => {
      const result = resultRow(i, { transcript_key: `t/${i}` });
      return { ...callRow(i, [`+1212555${String(1000 + i)}`]), result, attemptList: [] };
    });
    const asked: number[] = [];
    let inFlight = 0;
    let most = 0;
    const body = resultsJsonlStream(
      "batch_abc",
      ["phone_number"],
      {
        rows: async (after, limit) => {
          asked.push(after);
          return rows.filter((r) => r.seq > after).slice(0, limit);
        },
        transcript: async (key) => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 1));
          inFlight--;
          return key === "t/3" ? null : [{ role: "user", text: key }];
        },
      },
      25,
    );
    const reader = body.getReader();
    // The first read sends the first group only: no page beyond the first has been asked for.
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.split("\n").filter(Boolean)).toHaveLength(TRANSCRIPT_READS);
    expect(asked).toEqual([-1]);
    let text = first;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    const all = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(all.map((l) => l.callId)).toEqual(rows.map((r) => `call_abc_${r.seq}`));
    expect(all[3].result.transcript).toBeNull();
    expect(all[4].result.transcript).toEqual([{ role: "user", text: "t/4" }]);
    expect(asked).toEqual([-1, 24, 39]);
    expect(most).toBeLessThanOrEqual(TRANSCRIPT_READS);
    expect(most).toBeGreaterThan(1);
  });

  it("shows the recipient's numbers, why a call waits, and each attempt's caller ID and called number", async () => {
    const numbers = JSON.stringify(["+12125550100", "+13125550199"]);
    const rows: ExportRow[] = [
      {
        ...callRow(0, ["+12125550100", "+13125550199"], {
          attempts: 1,
          numbers,
          wait_reason: "contact_policy",
          next_attempt_at: "2026-03-03T09:00:00.000Z",
        }),
        result: null,
        attemptList: [attemptRow(0, 1, { from_number: "+12125550000", to_number: "+12125550100" })],
      },
      { ...callRow(1, ["+12125550101", ""], { status: "failed", attempts: 1, wait_reason: "contact_policy" }), result: null, attemptList: [attemptRow(1, 1)] },
    ];
    const [held, plain] = await lines(
      resultsJsonlStream("batch_abc", ["phone_number", "phone_number_2"], {
        rows: async (after) => rows.filter((r) => r.seq > after),
        transcript: async () => null,
      }),
    );
    expect(held).toMatchObject({
      status: "waiting",
      phoneNumbers: ["+12125550100", "+13125550199"],
      waitReason: "contact_policy",
      nextAttemptAt: "2026-03-03T09:00:00.000Z",
      metadata: { phone_number: "+12125550100", phone_number_2: "+13125550199" },
      attemptHistory: [{ attempt: 1, from: "+12125550000", to: "+12125550100" }],
    });
    expect(plain).toMatchObject({ phoneNumbers: ["+12125550101"], waitReason: null, attemptHistory: [{ from: "+14155550100", to: "+12125550101" }] });
  });

  it("reads the turns of a stored transcript, or none from anything else", () => {
    expect(transcriptTurns({ callId: "c", attempt: 1, turns: [{ role: "agent", text: "Hi" }] })).toEqual([{ role: "agent", text: "Hi" }]);
    expect(transcriptTurns([{ role: "user", text: "Yes" }])).toEqual([{ role: "user", text: "Yes" }]);
    expect(transcriptTurns({ turns: "no" })).toBeNull();
    expect(transcriptTurns(null)).toBeNull();
  });
});
