import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../src/services/call-events";
import { claimAt, recordingQueue, reportAt, tick, uploaded } from "../engine-helpers";
import { authHeaders, bodyText, call, newWorkspace } from "../helpers";

const jsonl = async (res: Response) =>
  (await bodyText(res))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("results.jsonl", () => {
  it("streams one object per recipient with every column, every attempt and the result with its transcript inline", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due } = await uploaded(ws, "Phone Number,First Name\n(212) 555-1001,Ann\n+12125551006,Bob\n");
    const q = recordingQueue();
    await tick(batchId, q, due);
    const id = (seq: number) => `call_${batchId.slice(6)}_${seq}`;
    await claimAt(batchId, 0, 1, due + 10);
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 4010, durationSec: 4 });
    const turns = [
      { role: "agent", text: "Hi Ann, it's the clinic." },
      { role: "user", text: "Tuesday works.", at: 1200 },
    ];
    const key = `transcripts/${batchId}/${id(0)}/1-test.json`;
    await env.CSV_BUCKET.put(key, JSON.stringify({ callId: id(0), attempt: 1, turns }));
    await reportAt(batchId, 0, { attempt: 1, disposition: "booked", summary: "Booked.", data: { slot: "tue" }, transcriptKey: key, optOut: true }, due + 5000);

    const res = await call(`/v1/api/batch-calls/${batchId}/results.jsonl`, { headers: authHeaders(ws) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const [ann, bob, ...rest] = await jsonl(res);
    expect(rest).toEqual([]);
    expect(ann).toMatchObject({
      callId: id(0),
      status: "completed",
      outcome: "answered",
      attempts: 1,
      phone_number: "(212) 555-1001",
      e164: "+12125551001",
      metadata: { phone_number: "(212) 555-1001", first_name: "Ann" },
      attemptHistory: [{ attempt: 1, outcome: "answered", duration: 4 }],
      result: {
        attempt: 1,
        disposition: "booked",
        summary: "Booked.",
        data: { slot: "tue" },
        optOut: true,
        transcriptUrl: `/v1/api/batch-calls/${batchId}/calls/${id(0)}/transcript?attempt=1`,
        transcript: turns,
      },
    });
    expect(bob).toMatchObject({ callId: id(1), status: "waiting", attempts: 0, e164: "+12125551006", attemptHistory: [], result: null });

    const other = await newWorkspace();
    expect((await call(`/v1/api/batch-calls/${batchId}/results.jsonl`, { headers: authHeaders(other) })).status).toBe(404);
  });

  it("a transcript gone from R2 leaves the line's transcript null, the rest of the result intact", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due } = await uploaded(ws, "phone_number\n+12125551001\n");
    await tick(batchId, recordingQueue(), due);
    await claimAt(batchId, 0, 1, due + 10);
    await reportAt(
      batchId,
      0,
      { attempt: 1, disposition: "booked", transcriptKey: `transcripts/${batchId}/call_${batchId.slice(6)}_0/1-test.json` },
      due + 500,
    );
    const [line] = await jsonl(await call(`/v1/api/batch-calls/${batchId}/results.jsonl`, { headers: authHeaders(ws) }));
    expect(line.result).toMatchObject({ disposition: "booked", transcript: null });
    expect(line.attemptHistory).toEqual([
      { attempt: 1, from: null, to: "+12125551001", startTime: due + 10, endTime: null, outcome: null, duration: null, error: null },
    ]);
  });

  it("walks a batch of wide rows over several pages from the batch's object, every row whole and in file order", async () => {
    const ws = await newWorkspace();
    const n = 24;
    const rows = Array.from({ length: n }, (_, i) => `+1212555${1000 + i},${String(i % 10).repeat(60_000)},${String(i % 10).repeat(40_000)}`);
    const { batchId } = await uploaded(ws, `phone_number,a,b\n${rows.join("\n")}\n`);
    // About 100 KB of metadata a row: the 2 MiB pages hold about 20, so this takes two.
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    expect((await stub.exportAfter(-1, 1000, 2 * 1024 * 1024, true)).length).toBeLessThan(n);
    const lines = await jsonl(await call(`/v1/api/batch-calls/${batchId}/results.jsonl`, { headers: authHeaders(ws) }));
    expect(lines.map((l) => l.e164)).toEqual(Array.from({ length: n }, (_, i) => `+1212555${1000 + i}`));
    expect(lines.every((l, i) => l.metadata.a === String(i % 10).repeat(60_000) && l.metadata.b.length === 40_000)).toBe(true);
  });
});
