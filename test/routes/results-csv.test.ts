import Papa from "papaparse";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { csvCell } from "../../src/domain/results-csv";
import { applyCallEvent } from "../../src/services/call-events";
import { claimAsConsumerWould, recordingQueue, tick, uploaded } from "../engine-helpers";
import { authHeaders, call, newWorkspace } from "../helpers";

describe("results.csv", () => {
  it("neutralises formula cells but keeps E.164 numbers", () => {
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("+12125550101")).toBe("+12125550101");
    expect(csvCell("+1 212 555")).toBe("'+1 212 555");
    expect(csvCell("-5")).toBe("'-5");
    expect(csvCell("@cmd")).toBe("'@cmd");
    expect(csvCell("\tx")).toBe("'\tx");
    expect(csvCell('say "hi", then')).toBe('"say ""hi"", then"');
    expect(csvCell(null)).toBe("");
  });

  it("streams one row per recipient with the file's columns and the call's result", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = 'Phone Number,First Name,Note\n+12125551001,Ann,"=HYPERLINK(""http://x"")"\n(212) 555-1016,Bob,plain\n';
    const { batchId, due } = await uploaded(ws, csv);
    await tick(batchId, recordingQueue(), due);
    await claimAsConsumerWould(batchId, 0, 1, due + 10);
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
    ]);
    expect(parsed[2]?.slice(0, 8)).toEqual(["(212) 555-1016", "Bob", "plain", "+12125551016", `call_${batchId.slice(6)}_1`, "waiting", "", "0"]);
    expect(parsed).toHaveLength(3);

    const other = await newWorkspace();
    expect((await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(other) })).status).toBe(404);
  });

  it("keeps the phone number as sent, neutralised, with the dialled number in e164", async () => {
    const ws = await newWorkspace();
    // A number written with a leading "+" and spaces is neutralised in its own column;
    // the e164 column is what a spreadsheet user reads to see who was called.
    const { batchId } = await uploaded(ws, "phone_number,name\n+1 212 555 1002,Ann\n+1-212-555-1003,Bob\n");
    const res = await call(`/v1/api/batch-calls/${batchId}/results.csv`, { headers: authHeaders(ws) });
    const parsed = Papa.parse<string[]>((await res.text()).trim(), { newline: "\r\n" }).data;
    const e164At = parsed[0]!.indexOf("e164");
    expect(e164At).toBe(2);
    expect(parsed.slice(1).map((r) => [r[0], r[e164At]])).toEqual([
      ["'+1 212 555 1002", "+12125551002"],
      ["'+1-212-555-1003", "+12125551003"],
    ]);
  });
});
