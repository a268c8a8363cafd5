import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIT_START, ADMIT_TARGET_MS } from "../../../src/domain/admission";
import { engineConfig } from "../../../src/engine-config";
import { callRow, claimJobsAt, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { newWorkspace } from "../../helpers";

/** A workspace whose limits never bind in these tests: only the batch's allowance on the shared queue does. */
async function bigBatch(calls: number) {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1000, maxConcurrentCalls: 1000 } });
  return uploaded(ws, phoneList(calls));
}

describe("admission to the shared call queue", () => {
  it("keeps about half a second of its claims' pace on the queue: one slice until claims come, more as they come, the floor once they stop", async () => {
    const { batchId, due } = await bigBatch(300);
    const q = recordingQueue();
    const sentAt = async (at: number) => {
      const before = q.sent.length;
      await tick(batchId, q, at);
      return q.sent.length - before;
    };
    expect(await sentAt(due)).toBe(ADMIT_START);
    // Nothing claimed yet: nothing more.
    expect(await sentAt(due + 100)).toBe(0);
    // 50 claimed in the first 100 ms: 500 a second, an allowance of 250 — room for another slice.
    const claimed = await claimJobsAt(batchId, q.sent.slice(0, 50), due + 100);
    expect(claimed.every((r) => r.kind === "claimed")).toBe(true);
    expect(await sentAt(due + 150)).toBe(100);
    // Claims stopped over a second ago: the floor (10), and 150 already wait — nothing more.
    expect(await sentAt(due + 2_000)).toBe(0);
    // Nothing was sent twice.
    expect(new Set(q.sent.map((j) => j.seq)).size).toBe(q.sent.length);
  });

  it("keeps only the floor while the shared queue's oldest job has waited past the target, and its own pace again once the queue catches up", async () => {
    const { batchId, due } = await bigBatch(400);
    let view: QueueMetrics = { backlogCount: 0, backlogBytes: 0 };
    let asked = 0;
    const q = Object.assign(recordingQueue(), {
      metrics: async () => {
        asked++;
        return view;
      },
    });
    const sentAt = async (at: number) => {
      const before = q.sent.length;
      await tick(batchId, q, at);
      return q.sent.length - before;
    };
    expect(await sentAt(due)).toBe(ADMIT_START);
    // Its jobs waited 700 ms on the queue before 50 were claimed at once: 500 claims a second (over the
    // first 100 ms) would allow 250 — but other batches' jobs fill the queue: its oldest has waited 600 ms.
    const late = due + ADMIT_TARGET_MS + 200;
    await claimJobsAt(batchId, q.sent.slice(0, 50), late);
    view = { backlogCount: 900, backlogBytes: 0, oldestMessageTimestamp: new Date(late + 50 - ADMIT_TARGET_MS - 100) };
    const askedBefore = asked;
    expect(await sentAt(late + 50)).toBe(0); // 50 on the queue already: more than the floor
    expect(asked).toBe(askedBefore + 1);
    // The queue has caught up: the batch's own pace decides again.
    view = { backlogCount: 20, backlogBytes: 0, oldestMessageTimestamp: new Date(late + 190) };
    const resumed = await sentAt(late + 200);
    expect(resumed).toBeGreaterThan(0);
    // Nothing was sent twice.
    expect(new Set(q.sent.map((j) => j.seq)).size).toBe(q.sent.length);
  });

  it("is not held back by an old message while its own jobs are claimed promptly (a delayed retry is not congestion)", async () => {
    const { batchId, due } = await bigBatch(400);
    let asked = 0;
    const q = Object.assign(recordingQueue(), {
      metrics: async () => {
        asked++;
        return { backlogCount: 900, backlogBytes: 0, oldestMessageTimestamp: new Date(due - 60_000) } satisfies QueueMetrics;
      },
    });
    await tick(batchId, q, due); // the queue looks busy: the floor before a first claim
    const first = q.sent.length;
    expect(first).toBe(10);
    // Claimed 20 ms after they were sent: its own jobs flow, whatever the queue's oldest message says.
    await claimJobsAt(batchId, q.sent.slice(0, first), due + 20);
    const askedBefore = asked;
    await tick(batchId, q, due + 40);
    expect(q.sent.length).toBeGreaterThan(first);
    expect(asked).toBe(askedBefore); // not even asked
  });

  it("a restarted object finds the jobs an earlier instance left on the queue: counted against its allowance, re-sent only once lost", async () => {
    const { batchId, due } = await bigBatch(300);
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent).toHaveLength(ADMIT_START);
    await abortAllDurableObjects();
    // Waiting, not lost: nothing is re-sent, and nothing new is admitted (the new instance's slice is on the queue).
    const after = recordingQueue();
    await tick(batchId, after, due + 5_000);
    expect(after.sent).toEqual([]);
    expect((await callRow(batchId, 0))?.dispatched_attempt).toBe(1);
    // Unclaimed for dispatchStaleMs: lost with their messages, handed out again (same attempt).
    await abortAllDurableObjects();
    const stale = engineConfig(env).dispatchStaleMs;
    await tick(batchId, after, due + stale + 1_000);
    expect(after.sent.length).toBeGreaterThan(0);
    expect(after.sent.every((j) => j.seq < ADMIT_START && j.attempt === 1)).toBe(true);
  });
});
