import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../../src/services/call-events";
import { callRow, claimAt, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json, newWorkspace } from "../../helpers";

const MIN = 60_000;

/** Dial attempt `attempt` of call 0 and end it with `outcome` at `at`. */
async function attempt(batchId: string, n: number, outcome: "no_answer" | "busy" | "voicemail" | "answered" | "failed", at: number) {
  await claimAt(batchId, 0, n, at - 10);
  expect(
    await applyCallEvent(env, {
      kind: "final",
      batchId,
      seq: 0,
      attempt: n,
      outcome,
      at,
      durationSec: outcome === "answered" || outcome === "voicemail" ? 5 : null,
    }),
  ).toBe("applied");
}

describe("smart callbacks through the scheduler", () => {
  it("calls back after each gap (the last repeating) until maxAttempts, then fails the call", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const config = { enabled: true, maxAttempts: 3, gaps: [{ minutes: 10 }, { hours: 1 }] };
    const { batchId, due } = await uploaded(ws, phoneList(1, 6), { smartCallbackConfig: JSON.stringify(config) });
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent).toEqual([{ batchId, seq: 0, attempt: 1 }]);

    await attempt(batchId, 1, "no_answer", due + 1000);
    const first = await callRow(batchId, 0);
    expect(first).toMatchObject({ status: "waiting", attempts: 1, outcome: "no_answer", due_at: due + 1000 + 10 * MIN });
    const view = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(view.calls[0]).toMatchObject({ status: "waiting", attempts: 1, nextAttemptAt: new Date(due + 1000 + 10 * MIN).toISOString() });

    // the scheduler sleeps until the callback is due, and sends nothing before
    expect(await tick(batchId, q, due + 2000)).toBe(due + 1000 + 10 * MIN);
    await tick(batchId, q, due + 999 + 10 * MIN);
    expect(q.sent).toHaveLength(1);
    await tick(batchId, q, due + 1000 + 10 * MIN);
    expect(q.sent.at(-1)).toEqual({ batchId, seq: 0, attempt: 2 });

    const second = due + 2000 + 10 * MIN;
    await attempt(batchId, 2, "busy", second);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 2, due_at: second + 60 * MIN });
    await tick(batchId, q, second + 60 * MIN);
    expect(q.sent.at(-1)).toEqual({ batchId, seq: 0, attempt: 3 });

    await attempt(batchId, 3, "no_answer", second + 61 * MIN);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", attempts: 3, outcome: "no_answer", next_attempt_at: null });
    expect(await tick(batchId, q, second + 62 * MIN)).toBeNull();
    expect(await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }))).toMatchObject({ status: "completed", failed: 1 });
  });

  it.each([
    ["answered", undefined, "completed", 1],
    ["voicemail", undefined, "completed", 1],
    ["voicemail", ["voicemail"], "waiting", 1],
    ["failed", undefined, "waiting", 1],
    ["failed", ["busy"], "failed", 1],
  ] as const)("after %s (retryOn %j) the call is %s", async (outcome, retryOn, status, attempts) => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const config = { enabled: true, maxAttempts: 2, gaps: [{ minutes: 5 }], ...(retryOn ? { retryOn } : {}) };
    const { batchId, due } = await uploaded(ws, phoneList(1), { smartCallbackConfig: JSON.stringify(config) });
    await tick(batchId, recordingQueue(), due);
    await attempt(batchId, 1, outcome, due + 100);
    expect(await callRow(batchId, 0)).toMatchObject({ status, attempts, outcome });
  });

  it("without a config a call gets one attempt", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const { batchId, due } = await uploaded(ws, phoneList(1));
    await tick(batchId, recordingQueue(), due);
    await attempt(batchId, 1, "busy", due + 100);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "failed", attempts: 1, outcome: "busy" });
  });

  it("defers calls outside the calling window to its next opening", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = "phone_number,timezone\n+12125551001,America/New_York\n+12125551011,Asia/Tokyo\n";
    const window = { start: "09:00", end: "17:00", timezone: "recipient" };
    // Scheduled (through the upload, as a client would) for 15:00 UTC two days from now: 10:00 or 11:00 in
    // New York (with or without daylight saving), midnight in Tokyo (which has none). The clock is the tick's.
    const day = new Date(Date.now() + 2 * 86_400_000);
    day.setUTCHours(0, 0, 0, 0);
    const at = day.getTime() + 15 * 3_600_000;
    const { batchId, due } = await uploaded(ws, csv, { callingWindow: JSON.stringify(window), scheduledAt: new Date(at).toISOString() });
    expect(due).toBe(at);
    const q = recordingQueue();
    // before its start the scheduler sleeps until then and sends nothing
    expect(await tick(batchId, q, at - 1)).toBe(at);
    expect(q.sent).toEqual([]);
    await tick(batchId, q, at);
    expect(q.sent.map((j) => j.seq)).toEqual([0]);
    const tokyo = await callRow(batchId, 1);
    // 09:00 in Tokyo the next morning is midnight UTC
    const opening = day.getTime() + 24 * 3_600_000;
    expect(tokyo).toMatchObject({ status: "waiting", due_at: opening, next_attempt_at: new Date(opening).toISOString() });
    const view = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(view.calls.map((c: { status: string; nextAttemptAt: string | null }) => [c.status, c.nextAttemptAt])).toEqual([
      ["waiting", null],
      ["waiting", new Date(opening).toISOString()],
    ]);
  });
});
