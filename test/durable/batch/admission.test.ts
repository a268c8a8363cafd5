import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIT_TARGET_MS } from "../../../src/domain/admission";
import { engineConfig } from "../../../src/engine-config";
import { callRow, claimJobsAt, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { newWorkspace } from "../../helpers";
import { env } from "cloudflare:workers";

/** A workspace whose limits never bind in these tests: only the batch's allowance on the shared queue does. */
async function bigBatch(calls: number) {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1000, maxConcurrentCalls: 1000 } });
  return uploaded(ws, phoneList(calls));
}

describe("admission to the shared call queue", () => {
  it("keeps only what is claimed soon on the queue: admits more while its jobs are taken quickly, stops once they wait, resumes as they are claimed", async () => {
    const { batchId, due } = await bigBatch(300);
    const q = recordingQueue();
    const sentAt = async (at: number) => {
      const before = q.sent.length;
      await tick(batchId, q, at);
      return q.sent.length - before;
    };
    expect(await sentAt(due)).toBe(100);
    // Its jobs wait a little: the allowance grows, another slice goes.
    expect(await sentAt(due + 100)).toBe(100);
    // The oldest has now waited past the target: nothing more until some are claimed.
    expect(await sentAt(due + ADMIT_TARGET_MS + 300)).toBe(0);
    expect(await sentAt(due + 2 * ADMIT_TARGET_MS + 600)).toBe(0);
    // 150 claimed: the allowance (one slice, after halving) has room for the 50 it no longer holds.
    const claimed = await claimJobsAt(batchId, q.sent.slice(0, 150), due + 2 * ADMIT_TARGET_MS + 650);
    expect(claimed.every((r) => r.kind === "claimed")).toBe(true);
    expect(await sentAt(due + 2 * ADMIT_TARGET_MS + 700)).toBe(50);
    // Nothing was sent twice.
    expect(new Set(q.sent.map((j) => j.seq)).size).toBe(q.sent.length);
  });

  it("a restarted object finds the jobs an earlier instance left on the queue: counted against its allowance, re-sent only once lost", async () => {
    const { batchId, due } = await bigBatch(300);
    const q = recordingQueue();
    await tick(batchId, q, due);
    await tick(batchId, q, due + 100);
    expect(q.sent).toHaveLength(200);
    await abortAllDurableObjects();
    // Waiting past the target, not lost: nothing is re-sent, and nothing new is admitted.
    const after = recordingQueue();
    await tick(batchId, after, due + 5_000);
    expect(after.sent).toEqual([]);
    expect((await callRow(batchId, 0))?.dispatched_attempt).toBe(1);
    // Unclaimed for dispatchStaleMs: lost with their messages, handed out again (same attempt).
    await abortAllDurableObjects();
    const stale = engineConfig(env).dispatchStaleMs;
    await tick(batchId, after, due + stale + 1_000);
    const resent = after.sent.filter((j) => j.seq < 200);
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((j) => j.attempt === 1)).toBe(true);
  });
});
