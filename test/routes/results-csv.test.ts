import Papa from "papaparse";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { csvCell } from "../../src/domain/results-csv";
import { applyCallEvent } from "../../src/services/call-events";
import { claimAt, recordingQueue, reportAt, tick, uploaded } from "../engine-helpers";
import { authHeaders, call, newWorkspace } from "../helpers";

describe("results.csv", () => {
  it("neutralises formula cells but keeps phone numbers, E.164 or written with spaces, dashes, dots and parentheses", () => {
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("+12125550101")).toBe("+12125550101");
    expect(csvCell("+1 212 555")).toBe("+1 212 555");
    expect(csvCell("+1 (212) 555-0103")).toBe("+1 (212) 555-0103");
    expect(csvCell("+44.20.7946.0018")).toBe("+44.20.7946.0018");
    // a letter, a formula character, a line break or no digit at all: neutralised as before
    expect(csvCell("+1 212 555 0103 ext")).toBe("'+1 212 555 0103 ext");
    expect(csvCell("+1+SUM(A1)")).toBe("'+1+SUM(A1)");
    expect(csvCell("+1*2")).toBe("'+1*2");
    expect(csvCell("+1 212\n=1")).toBe(`"'+1 212\n'=1"`);
    expect(csvCell("+ ( )")).toBe("'+ ( )");
    expect(csvCell(" +1 212")).toBe("' +1 212");
    expect(csvCell("-5")).toBe("'-5");
    expect(csvCell("@cmd")).toBe("'@cmd");
    expect(csvCell("\tx")).toBe("'\tx");
    expect(csvCell('say "hi", then')).toBe('"say ""hi"", then"');
    expect(csvCell(null)).toBe("");
  });

  it.each([
    ["a leading space", " =1+1", "' =1+1"],
    ["a leading newline", "\n=1+1", `"\n'=1+1"`],
    ["a zero-width space", "\u200B=1+1", "'\u200B=1+1"],
    ["a BOM and a no-break space", "\uFEFF\u00A0@SUM(A1)", "'\uFEFF\u00A0@SUM(A1)"],
    ["a full-width ＝", "＝1+1", "'＝1+1"],
    ["a full-width ＋", "＋1", "'＋1"],
    ["a full-width －", "－1", "'－1"],
    ["a full-width ＠", "＠cmd", "'＠cmd"],
    ["an ideographic space then ＝", "\u3000＝1", "'\u3000＝1"],
    ["an embedded LF then =", "note\n=HYPERLINK(1)", `"note\n'=HYPERLINK(1)"`],
    ["an embedded CRLF, spaces, then +", "a\r\n  +1", `"a\r\n'  +1"`],
    ["several lines", "a\n=1\n-2", `"a\n'=1\n'-2"`],
    ["a CR first", "\r=1", `"'\r'=1"`],
  ])("neutralises a formula behind %s", (_, cell, out) => {
    expect(csvCell(cell)).toBe(out);
  });

  it.each([
    ["an E.164 number", "+12125550101", "+12125550101"],
    ["a hyphen inside", "a-b", "a-b"],
    ["a formula sign inside a line", "x = 1 + 2", "x = 1 + 2"],
    ["a line break not followed by a formula", "a\nb", `"a\nb"`],
    ["a number", 42, "42"],
  ])("leaves %s as it is", (_, cell, out) => {
    expect(csvCell(cell)).toBe(out);
  });

  it("streams one row per recipient with the file's columns and the call's result", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = 'Phone Number,First Name,Note\n+12125551001,Ann,"=HYPERLINK(""http://x"")"\n(212) 555-1016,Bob,plain\n';
    const { batchId, due } = await uploaded(ws, csv);
    await tick(batchId, recordingQueue(), due);
    await claimAt(batchId, 0, 1, due + 10);
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 4010, durationSec: 4 });

    const res = await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(ws) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const parsed = Papa.parse<string[]>((await res.text()).trim(), { newline: "\r\n" }).data;
    expect(parsed[0]).toEqual([
      "phone_number",
      "first_name",
      "note",
      "e164",
      "call_id",
      "call_status",
      "call_outcome",
      "call_attempts",
      "call_started_at",
      "call_ended_at",
      "call_duration_seconds",
      "call_error",
      "disposition",
      "summary",
      "sentiment",
      "recording_url",
      "transcript_url",
      "callback_requested_at",
      "opted_out",
      "from_number",
      "to_number",
    ]);
    expect(parsed[1]).toEqual([
      "+12125551001",
      "Ann",
      `'=HYPERLINK("http://x")`,
      "+12125551001",
      `call_${batchId.slice(6)}_0`,
      "completed",
      "answered",
      "1",
      new Date(due + 10).toISOString(),
      new Date(due + 4010).toISOString(),
      "4",
      "",
      ...["", "", "", "", "", "", "false"],
      // The simulated agent has no caller ID; the attempt called the row's only number.
      ...["", "+12125551001"],
    ]);
    expect(parsed[2]?.slice(-2)).toEqual(["", ""]);
    expect(parsed[2]?.slice(0, 8)).toEqual(["(212) 555-1016", "Bob", "plain", "+12125551016", `call_${batchId.slice(6)}_1`, "waiting", "", "0"]);
    expect(parsed).toHaveLength(3);

    const other = await newWorkspace();
    expect((await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(other) })).status).toBe(404);
  });

  it("reads wide rows from the batch's object a few at a time, and the file still has every row", async () => {
    const ws = await newWorkspace();
    const cols = Array.from({ length: 10 }, (_, j) => `col_${j}`);
    const rows = [0, 1, 2].map((i) => [`+1212555100${i}`, ...cols.map(() => String(i).repeat(500))].join(","));
    const { batchId } = await uploaded(ws, `phone_number,${cols.join(",")}\n${rows.join("\n")}\n`);
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    // Each row holds about 5 KB: a 12 KB page takes two, the next one starts after them; a page always has at least one row.
    expect((await stub.callsAfter(-1, 1000, 12_000)).map((r) => r.seq)).toEqual([0, 1]);
    expect((await stub.callsAfter(1, 1000, 12_000)).map((r) => r.seq)).toEqual([2]);
    expect((await stub.callsAfter(-1, 1000, 10)).map((r) => r.seq)).toEqual([0]);
    expect((await stub.callsAfter(-1, 2, 1_000_000)).map((r) => r.seq)).toEqual([0, 1]);
    expect(await stub.callsAfter(2, 1000, 12_000)).toEqual([]);

    const res = await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(ws) });
    const parsed = Papa.parse<string[]>((await res.text()).trim(), { newline: "\r\n" }).data;
    expect(parsed.slice(1).map((r) => [r[0], r[10]])).toEqual([
      ["+12125551000", "0".repeat(500)],
      ["+12125551001", "1".repeat(500)],
      ["+12125551002", "2".repeat(500)],
    ]);
  });

  it("keeps the phone number as sent, with the dialled number in e164", async () => {
    const ws = await newWorkspace();
    // A number written with a leading "+" and spaces stays readable in its own column;
    // the e164 column is the number as dialled.
    const { batchId } = await uploaded(ws, "phone_number,name\n+1 212 555 1002,Ann\n+1-212-555-1003,Bob\n");
    const res = await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(ws) });
    const parsed = Papa.parse<string[]>((await res.text()).trim(), { newline: "\r\n" }).data;
    const e164At = parsed[0]!.indexOf("e164");
    expect(e164At).toBe(2);
    expect(parsed.slice(1).map((r) => [r[0], r[e164At]])).toEqual([
      ["+1 212 555 1002", "+12125551002"],
      ["+1-212-555-1003", "+12125551003"],
    ]);
  });

  it("adds the agent's result and data fields, and never repeats a header: the file's own e164, call_id and disposition keep their names", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = "phone_number,e164,call_id,disposition,data.score\n+12125551001,mine-1,crm-1,warm,9\n+12125551002,mine-2,crm-2,cold,3\n";
    const { batchId, due } = await uploaded(ws, csv);
    await tick(batchId, recordingQueue(), due);
    await claimAt(batchId, 0, 1, due + 10);
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 4010, durationSec: 4 });
    const callId = `call_${batchId.slice(6)}_0`;
    const callbackAt = due + 86_400_000;
    const report = {
      attempt: 1,
      disposition: "callback",
      summary: "Call back tomorrow.",
      sentiment: "neutral" as const,
      data: { score: 7, vip: true, e164: "said-another" },
      transcriptKey: `transcripts/${batchId}/${callId}/1-test.json`,
      recordingUrl: "https://rec.example.com/0.mp3",
      callbackAt,
    };
    expect(await reportAt(batchId, 0, report, due + 5000)).toMatchObject({ kind: "recorded" });

    const res = await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(ws) });
    const [header, first, second, ...rest] = Papa.parse<string[]>((await res.text()).trim(), { newline: "\r\n" }).data;
    expect(rest).toEqual([]);
    expect(new Set(header).size).toBe(header!.length);
    expect(header).toEqual([
      ...["phone_number", "e164", "call_id", "disposition", "data.score"],
      ...["e164_2", "call_id_2", "call_status", "call_outcome", "call_attempts", "call_started_at", "call_ended_at", "call_duration_seconds", "call_error"],
      ...["disposition_2", "summary", "sentiment", "recording_url", "transcript_url", "callback_requested_at", "opted_out"],
      ...["data.score_2", "data.vip", "data.e164"],
      ...["from_number", "to_number"],
    ]);
    const row = (line: string[]) => Object.fromEntries(header!.map((h, i) => [h, line[i]]));
    expect(row(first!)).toMatchObject({
      e164: "mine-1",
      e164_2: "+12125551001",
      call_id: "crm-1",
      call_id_2: callId,
      disposition: "warm",
      disposition_2: "callback",
      summary: "Call back tomorrow.",
      sentiment: "neutral",
      recording_url: "https://rec.example.com/0.mp3",
      transcript_url: `/v1/api/batch-calls/${batchId}/calls/${callId}/transcript?attempt=1`,
      callback_requested_at: new Date(callbackAt).toISOString(),
      opted_out: "false",
      "data.score": "9",
      "data.score_2": "7",
      "data.vip": "true",
      "data.e164": "said-another",
    });
    expect(row(second!)).toMatchObject({
      e164_2: "+12125551002",
      disposition: "cold",
      disposition_2: "",
      transcript_url: "",
      "data.score_2": "",
      opted_out: "false",
    });
  });
});
