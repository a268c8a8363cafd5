import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../../src/services/call-events";
import { callRow, captureEvents, claimAt, hookedWorkspace, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json } from "../../helpers";

async function end(batchId: string, seq: number, attempt: number, outcome: "no_answer" | "busy" | "failed", at: number, error?: string) {
  await claimAt(batchId, seq, attempt, at - 10);
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt, outcome, at, durationSec: null, error })).toBe("applied");
}

describe("results people can act on", () => {
  it("announces each scheduled callback and says why every failed call failed", async () => {
    const ws = await hookedWorkspace();
    const config = { enabled: true, maxAttempts: 2, gaps: [{ hours: 1 }] };
    const { batchId, due } = await uploaded(ws, phoneList(3, 6), { smartCallbackConfig: JSON.stringify(config) });
    const events = await captureEvents(batchId);
    const q = recordingQueue();
    await tick(batchId, q, due);

    await end(batchId, 0, 1, "no_answer", due + 1000);
    await end(batchId, 1, 1, "busy", due + 1000);
    await end(batchId, 2, 1, "failed", due + 1000, "the carrier reported the call failed (error 31005)");
    const scheduled = events.filter((e) => e.type === "call.retry_scheduled");
    expect(scheduled.map((e) => e.data)).toEqual([
      {
        batchId,
        callId: expect.any(String),
        attempt: 1,
        outcome: "no_answer",
        error: "No answer.",
        nextAttemptAt: new Date(due + 1000 + 3_600_000).toISOString(),
        reason: "smart_callback",
      },
      {
        batchId,
        callId: expect.any(String),
        attempt: 1,
        outcome: "busy",
        error: "The line was busy.",
        nextAttemptAt: new Date(due + 1000 + 3_600_000).toISOString(),
        reason: "smart_callback",
      },
      {
        batchId,
        callId: expect.any(String),
        attempt: 1,
        outcome: "failed",
        error: "The carrier reported the call failed (error 31005).",
        nextAttemptAt: expect.any(String),
        reason: "smart_callback",
      },
    ]);
    // A replayed report changes nothing and announces nothing twice.
    expect(await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "no_answer", at: due + 1000, durationSec: null })).toBe("ignored");
    expect(events.filter((e) => e.type === "call.retry_scheduled")).toHaveLength(3);

    const later = due + 1000 + 3_600_000;
    await tick(batchId, q, later);
    await end(batchId, 0, 2, "no_answer", later + 1000);
    await end(batchId, 1, 2, "busy", later + 1000);
    await end(batchId, 2, 2, "failed", later + 1000);
    const failed = events.filter((e) => e.type === "call.failed").map((e) => e.data.error);
    expect(failed).toEqual(["No answer after 2 attempts.", "The line was busy on all 2 attempts.", "The carrier reported the call failed after 2 attempts."]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", error: "No answer after 2 attempts." });
    const view = await json(await call(`/v1/api/batch-calls/${batchId}/calls?status=failed`, { headers: authHeaders(ws) }));
    for (const c of view.calls) expect(c.error).toEqual(expect.stringMatching(/^[A-Z].*\.$/));
  });
});
