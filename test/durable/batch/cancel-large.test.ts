import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, captureEvents, claimAt, claimJobsAt, dispatched, hookedWorkspace, ledgerQuery, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json, type TestWorkspace } from "../../helpers";

// A cancel answers after one slice of the batch's waiting calls; the ticks
// write the rest. Sliced small here (CANCEL_SLICE_CALLS on the object's
// env) so a batch of 1,200 calls takes a dozen slices.

const CALLS = 1_200;
const SLICE = 100;

/** `n` distinct callable numbers, one a row: +1 212 2xx xxxx. */
function numbers(n: number): string {
  const rows = ["phone_number"];
  for (let i = 0; i < n; i++) rows.push(`+1212${200 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, "0")}`);
  return rows.join("\n");
}

/** Cancels slice by `n` calls from now on: the object's own env, as tests swap it. */
async function sliceBy(batchId: string, n: number) {
  await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
    const own = (obj as unknown as { env: Env }).env;
    (obj as unknown as { env: Env }).env = { ...own, CANCEL_SLICE_CALLS: String(n) } as Env;
  });
}

const cancel = (ws: TestWorkspace, batchId: string) => call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
const status = async (ws: TestWorkspace, batchId: string) => json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));

/** Calls still written as waiting in the ledger (the rows, not the counters). */
const rowsWaiting = async (batchId: string) => (await ledgerQuery<{ n: number }>(batchId, "SELECT count(*) AS n FROM calls WHERE status = 'waiting'"))[0]!.n;

/** The batch's D1 summary row: what the batch view and the cron read. */
const summary = (batchId: string) =>
  env.DB.prepare("SELECT status, waiting_count, active_count, completed_count, failed_count, cancelled_count FROM batches WHERE id = ?1").bind(batchId).first();

/** Ticks at `from`, `from` + 20, … until no call is written as waiting; returns how many ticks it took. */
async function settle(batchId: string, from: number): Promise<number> {
  const q = recordingQueue();
  let ticks = 0;
  while ((await rowsWaiting(batchId)) > 0) {
    expect(ticks, "ticks to settle").toBeLessThan(CALLS / SLICE + 5);
    await tick(batchId, q, from + ticks * 20);
    ticks++;
  }
  expect(q.sent, "a cancelled batch hands out nothing").toEqual([]);
  return ticks;
}

describe("cancelling a large batch", () => {
  it("answers with the final counts after one slice; the ticks write the rest, the counters never move, batch.cancelled is sent once", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 10 });
    const { batchId, due, jobs } = await dispatched(ws, numbers(CALLS));
    expect(jobs).toHaveLength(10);
    await claimAt(batchId, jobs[0]!.seq, 1, due + 10);
    const events = await captureEvents(batchId);
    await sliceBy(batchId, SLICE);

    const res = await cancel(ws, batchId);
    expect(res.status).toBe(200);
    const final = { completedCalls: 0, failedCalls: 0, cancelledCalls: CALLS - 1, totalCalls: CALLS };
    expect((await json(res)).details).toEqual(final);
    // Written now: the 9 calls whose jobs are on the queue, and one slice of the others.
    expect(await rowsWaiting(batchId)).toBe(CALLS - 1 - 9 - SLICE);
    const during = { status: "cancelled", isComplete: true, waiting: 0, active: 1, completed: 0, cancelled: CALLS - 1 };
    expect(await status(ws, batchId)).toMatchObject(during);
    expect(await summary(batchId)).toMatchObject({ status: "cancelled", waiting_count: 0, active_count: 1, cancelled_count: CALLS - 1 });
    expect(events.filter((e) => e.type === "batch.cancelled").map((e) => e.data)).toEqual([{ batchId, ...final }]);

    // No claim takes a call meanwhile: one whose job was on the queue, nor one not yet written as cancelled.
    const last = CALLS - 1;
    const claims = await claimJobsAt(batchId, [jobs[1]!, { seq: last, attempt: 1 }], due + 20);
    expect(claims.map((c) => c.kind)).not.toContain("claimed");
    expect((await ledgerQuery(batchId, "SELECT status FROM calls WHERE seq = ?", last))[0]).toEqual({ status: "waiting" });

    // A cancel asked again while settling answers the same.
    expect((await json(await cancel(ws, batchId))).details).toEqual(final);

    const ticks = await settle(batchId, due + 1_000);
    expect(ticks).toBe(Math.ceil((CALLS - 1 - 9 - SLICE) / SLICE));
    const rows = await ledgerQuery(batchId, "SELECT status, error, count(*) AS n FROM calls GROUP BY status, error ORDER BY status");
    expect(rows).toEqual([
      { status: "active", error: null, n: 1 },
      { status: "cancelled", error: "batch cancelled", n: CALLS - 1 },
    ]);
    expect(await status(ws, batchId)).toMatchObject(during);
    expect(await batchRow(batchId)).toMatchObject({ waiting_count: 0, cancelled_count: CALLS - 1 });
    expect(await summary(batchId)).toMatchObject({ status: "cancelled", waiting_count: 0, active_count: 1, cancelled_count: CALLS - 1 });

    // The call in progress finishes and is counted; the announcement was made once.
    await applyCallEvent(env, { kind: "final", batchId, seq: jobs[0]!.seq, attempt: 1, outcome: "answered", at: due + 5_000, durationSec: 3 });
    expect(await status(ws, batchId)).toMatchObject({ waiting: 0, active: 0, completed: 1, cancelled: CALLS - 1 });
    await tick(batchId, recordingQueue(), due + 6_000);
    expect(await summary(batchId)).toMatchObject({ active_count: 0, completed_count: 1, cancelled_count: CALLS - 1 });
    expect(events.filter((e) => e.type === "batch.cancelled")).toHaveLength(1);
  });

  it("a settle whose clock was lost half-way is resumed by the cron's visit", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 10 });
    const { batchId, due } = await dispatched(ws, numbers(CALLS));
    await sliceBy(batchId, SLICE);
    expect((await cancel(ws, batchId)).status).toBe(200);
    await tick(batchId, recordingQueue(), due + 1_000);
    const left = await rowsWaiting(batchId);
    expect(left).toBe(CALLS - 10 - 2 * SLICE);

    // The process dies with the alarm gone (an alarm the runtime gave up on): the cron's visit sets it again.
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.deleteAlarm());
    expect(await env.BATCH_SCHEDULER.getByName(batchId).ensureAlarm()).toMatchObject({ alarmRestored: true });
    expect(await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.getAlarm())).not.toBeNull();

    await settle(batchId, due + 2_000);
    expect(await status(ws, batchId)).toMatchObject({ waiting: 0, active: 0, cancelled: CALLS, total: CALLS });
    expect(await summary(batchId)).toMatchObject({ waiting_count: 0, cancelled_count: CALLS });
    // Settled, with nothing in flight: the clock stops, and the cron finds nothing to restore.
    expect(await tick(batchId, recordingQueue(), due + 10_000)).toBeNull();
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.deleteAlarm());
    expect(await env.BATCH_SCHEDULER.getByName(batchId).ensureAlarm()).toMatchObject({ alarmRestored: false });
  });

  it("a batch cancelled before its start settles now, not at the start it will never have", async () => {
    const ws = await hookedWorkspace();
    const { batchId, due } = await uploaded(ws, numbers(CALLS));
    expect((await batchRow(batchId))?.status).toBe("queued");
    // The object stands an hour before the start (its clock pinned there, so only this test's ticks run it).
    const before = due - 60 * 60 * 1000;
    expect(await tick(batchId, recordingQueue(), before)).toBe(due);
    await sliceBy(batchId, SLICE);
    expect((await json(await cancel(ws, batchId))).details).toEqual({ completedCalls: 0, failedCalls: 0, cancelledCalls: CALLS, totalCalls: CALLS });
    expect(await settle(batchId, before)).toBe(CALLS / SLICE - 1);
    expect(await summary(batchId)).toMatchObject({ status: "cancelled", waiting_count: 0, cancelled_count: CALLS });
  });
});
