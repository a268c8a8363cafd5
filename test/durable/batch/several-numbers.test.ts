import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../../src/services/call-events";
import { callRow, claimJobsAt, ledgerQuery, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, newWorkspace } from "../../helpers";

const MIN = 60_000;
const callbacks = JSON.stringify({ enabled: true, maxAttempts: 3, gaps: [{ minutes: 10 }] });

/** Claims attempt `attempt` of call 0 at `at` and ends it with `outcome`; the number it dialled. */
async function attemptOf(batchId: string, attempt: number, outcome: "no_answer" | "answered", at: number): Promise<string> {
  const [claimed] = await claimJobsAt(batchId, [{ seq: 0, attempt }], at);
  if (claimed?.kind !== "claimed") throw new Error(`attempt ${attempt} was not claimed: ${claimed?.kind}`);
  await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt, outcome, at: at + 100, durationSec: outcome === "answered" ? 4 : null });
  return claimed.dial.to;
}

describe("a recipient with several numbers", () => {
  it("takes its numbers in turn, one per attempt; maxAttempts counts across them; a connection ends the recipient", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = "phone_number,phone_number_2,phone_number_3\n+12125551001,+12125551002,+12125551003\n";
    const { batchId, due } = await uploaded(ws, csv, { smartCallbackConfig: callbacks });
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(await attemptOf(batchId, 1, "no_answer", due + 10)).toBe("+12125551001");
    await tick(batchId, q, due + 200 + 10 * MIN);
    expect(await attemptOf(batchId, 2, "answered", due + 300 + 10 * MIN)).toBe("+12125551002");
    expect(await callRow(batchId, 0)).toMatchObject({ status: "completed", attempts: 2 });
    const history = await ledgerQuery(batchId, "SELECT attempt, to_number FROM attempt_log WHERE seq = 0 ORDER BY attempt");
    expect(history).toEqual([
      { attempt: 1, to_number: "+12125551001" },
      { attempt: 2, to_number: "+12125551002" },
    ]);
  });

  it("passes over a number put on the do-not-call list after the upload, and closes the recipient only when every number is", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = "phone_number,phone_number_2\n+12125551001,+12125551002\n+12125551011,+12125551012\n";
    const { batchId, due } = await uploaded(ws, csv, { smartCallbackConfig: callbacks });
    const add = await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125551001", "+12125551011", "+12125551012"] }),
    });
    expect(add.status).toBe(201);
    // The object's copy of the workspace (has it a list?) is refreshed, as it is every few seconds.
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
      (obj as unknown as { c: { workspaceCache: unknown } }).c.workspaceCache = null;
    });
    const q = recordingQueue();
    await tick(batchId, q, due);
    // Recipient 0 is called on its second number; recipient 1 has none left.
    expect(q.sent.map((j) => j.seq)).toEqual([0]);
    expect(await callRow(batchId, 0)).toMatchObject({ dial_to: "+12125551002" });
    const [claimed] = await claimJobsAt(batchId, [{ seq: 0, attempt: 1 }], due + 10);
    expect(claimed).toMatchObject({ kind: "claimed", dial: { to: "+12125551002" } });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "cancelled", error: expect.stringContaining("do-not-call") });
  });
});
