import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { attemptRow, callRow, resultRow } from "./call-rows";
import { resultsCsvHeader, resultsCsvStream, type ExportRow } from "../../src/views/results-csv";

const CALL_COLUMNS = "e164,call_id,call_status,call_outcome,call_attempts,call_started_at,call_ended_at,call_duration_seconds,call_error";
const RESULT_HEADER = "disposition,summary,sentiment,recording_url,transcript_url,callback_requested_at,opted_out";
const DIAL_HEADER = "from_number,to_number";

const exportRow = (r: ReturnType<typeof callRow>): ExportRow => ({ ...r, result: r.result ?? null });
const parse = (text: string) => Papa.parse<string[]>(text.trim(), { newline: "\r\n" }).data;

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
    ].map(exportRow);
    const asked: [number, number][] = [];
    const body = resultsCsvStream(
      "batch_abc",
      ["first_name"],
      {
        rows: async (after, limit) => {
          asked.push([after, limit]);
          return calls.filter((c) => c.seq > after).slice(0, limit);
        },
        fields: async () => [],
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
      `first_name,${CALL_COLUMNS},${RESULT_HEADER},${DIAL_HEADER}`,
      "Ann,+12125550100,call_abc_0,completed,answered,1,2026-01-02T03:04:05.000Z,2026-01-02T03:04:09.000Z,4,,,,,,,,false,,+12125550100",
      "Bob,+12125550101,call_abc_1,waiting,,0,,,,,,,,,,,false,,",
      ",+12125550103,call_abc_3,waiting,,0,,,,,,,,,,,false,,",
      "",
    ]);
  });

  it("sends the header alone for a batch without calls", async () => {
    const body = resultsCsvStream("batch_abc", ["phone_number", "note"], { rows: async () => [], fields: async () => [] });
    expect(await new Response(body).text()).toBe(`phone_number,note,${CALL_COLUMNS},${RESULT_HEADER},${DIAL_HEADER}\r\n`);
  });

  it("writes the agent's result and one column per data field, in the order the batch's object gives them", async () => {
    const result = resultRow(0, {
      attempt: 2,
      disposition: "booked",
      summary: 'Booked, said "Tuesday".',
      sentiment: "positive",
      data: JSON.stringify({ guests: 2, vip: true, note: "=cmd", slot: null }),
      transcript_key: "transcripts/batch_abc/call_abc_0/2.json",
      recording_url: "https://rec.example.com/0.mp3",
      callback_at: Date.UTC(2026, 0, 3, 17),
    });
    const rows = [exportRow(callRow(0, ["Ann"], { disposition: "booked", opted_out: 1, result })), exportRow(callRow(1, ["Bob"]))];
    const body = resultsCsvStream("batch_abc", ["first_name"], {
      rows: async (after) => rows.filter((r) => r.seq > after),
      fields: async () => ["guests", "slot", "vip", "note", "absent"],
    });
    const [header, ann, bob] = parse(await new Response(body).text());
    expect(header!.slice(10)).toEqual([
      ...RESULT_HEADER.split(","),
      "data.guests",
      "data.slot",
      "data.vip",
      "data.note",
      "data.absent",
      ...DIAL_HEADER.split(","),
    ]);
    expect(ann!.slice(10)).toEqual([
      "booked",
      'Booked, said "Tuesday".',
      "positive",
      "https://rec.example.com/0.mp3",
      "/v1/api/batch-calls/batch_abc/calls/call_abc_0/transcript?attempt=2",
      "2026-01-03T17:00:00.000Z",
      "true",
      "2",
      "",
      "true",
      "'=cmd",
      "",
      "",
      "",
    ]);
    expect(bob!.slice(10)).toEqual(["", "", "", "", "", "", "false", "", "", "", "", "", "", ""]);
  });

  it("never repeats a header name: a service column the file already has gets the smallest free suffix", async () => {
    const columns = ["phone_number", "e164", "call_id", "disposition", "e164_2", "data.score"];
    const header = resultsCsvHeader(columns, ["score", "e164"]);
    expect(new Set(header).size).toBe(header.length);
    // The file's own columns keep their names and places.
    expect(header.slice(0, 6)).toEqual(columns);
    expect(header.slice(6)).toEqual([
      "e164_3",
      "call_id_2",
      ...CALL_COLUMNS.split(",").slice(2),
      "disposition_2",
      ...RESULT_HEADER.split(",").slice(1),
      "data.score_2",
      "data.e164",
      ...DIAL_HEADER.split(","),
    ]);

    const row = exportRow(callRow(0, ["+1 212 555 0100", "file-e164", "file-call-id", "file-disposition", "x", "7"], { disposition: "booked" }));
    const body = resultsCsvStream("batch_abc", columns, { rows: async (after) => (after < 0 ? [row] : []), fields: async () => ["score", "e164"] });
    const [parsedHeader, line] = parse(await new Response(body).text());
    expect(parsedHeader).toEqual(header);
    const cell = (name: string) => line![header.indexOf(name)];
    expect([cell("e164"), cell("e164_3"), cell("call_id"), cell("call_id_2"), cell("disposition"), cell("disposition_2")]).toEqual([
      "file-e164",
      "+12125550100",
      "file-call-id",
      "call_abc_0",
      "file-disposition",
      "booked",
    ]);
  });

  it("ends each line with the last attempt's caller ID and the number it called, after every earlier column", async () => {
    const cols = ["phone_number", "phone_number_2", "from_number"];
    const numbers = JSON.stringify(["+12125550100", "+13125550199"]);
    const rows: ExportRow[] = [
      // A pool: the second attempt went to the recipient's second number from the pool's number in that area.
      {
        ...exportRow(callRow(0, ["+12125550100", "+13125550199", "file's own"], { status: "completed", outcome: "answered", attempts: 2, numbers })),
        attemptList: [
          attemptRow(0, 2, { from_number: "+13125550000", to_number: "+13125550199", outcome: "answered" }),
          attemptRow(0, 1, { from_number: "+12125550000", to_number: "+12125550100" }),
        ],
      },
      // No pool: the agent's fromNumber, and history from before to_number (phone_number was called).
      { ...exportRow(callRow(1, ["+12125550101", "", ""], { status: "failed", outcome: "no_answer", attempts: 1 })), attemptList: [attemptRow(1, 1)] },
      // Under way with a pool: the dial's own numbers.
      {
        ...exportRow(callRow(2, ["+12125550102", "", ""], { status: "active", attempts: 1, dial_from: "+12125550000", dial_to: "+12125550102" })),
        attemptList: [],
      },
      // Never dialled.
      { ...exportRow(callRow(3, ["+12125550103", "", ""])), attemptList: [] },
    ];
    const body = resultsCsvStream("batch_abc", cols, { rows: async (after) => rows.filter((r) => r.seq > after), fields: async () => ["x"] });
    const [header, ...lines] = parse(await new Response(body).text());
    // The file's own from_number keeps its name and place; the service's moves to the smallest free suffix.
    expect(header).toEqual([...cols, ...CALL_COLUMNS.split(","), ...RESULT_HEADER.split(","), "data.x", "from_number_2", "to_number"]);
    expect(lines.map((l) => [l[2], ...l.slice(-2)])).toEqual([
      ["file's own", "+13125550000", "+13125550199"],
      ["", "+14155550100", "+12125550101"],
      ["", "+12125550000", "+12125550102"],
      ["", "", ""],
    ]);
  });

  it("reads the last dial from the row itself when a page comes without attempts", async () => {
    const pooled = exportRow(callRow(0, ["x"], { status: "completed", attempts: 2, dial_from: "+13125550000", dial_to: "+13125550199" }));
    const plain = exportRow(callRow(1, ["y"], { status: "completed", attempts: 1 }));
    const fresh = exportRow(callRow(2, ["z"]));
    const body = resultsCsvStream("batch_abc", ["note"], {
      rows: async (after) => [pooled, plain, fresh].filter((r) => r.seq > after),
      fields: async () => [],
    });
    const [, ...lines] = parse(await new Response(body).text());
    expect(lines.map((l) => l.slice(-2))).toEqual([
      ["+13125550000", "+13125550199"],
      ["", "+12125550101"],
      ["", ""],
    ]);
  });
});
