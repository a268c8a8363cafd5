import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../../src/db/ledger/schema";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, captureEvents, claimJobsAt, hookedWorkspace, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json, newWorkspace, type TestWorkspace } from "../../helpers";

type Outcome = "answered" | "failed" | "voicemail" | "no_answer";

/** Claims call `seq`'s first attempt just before `at` and ends it then with `outcome` after `durationSec` (null: none reported). */
async function finish(batchId: string, seq: number, outcome: Outcome, durationSec: number | null, at: number) {
  const [claimed] = await claimJobsAt(batchId, [{ seq, attempt: 1 }], at - 5);
  expect(claimed?.kind).toBe("claimed");
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt: 1, outcome, at, durationSec })).toBe("applied");
}

const get = async (ws: TestWorkspace, path: string) => json(await call(`/v1/api/batch-calls${path}`, { headers: authHeaders(ws) }));
const post = (ws: TestWorkspace, path: string) => call(`/v1/api/batch-calls${path}`, { method: "POST", headers: authHeaders(ws) });
const patch = (ws: TestWorkspace, batchId: string, body: unknown) =>
  call(`/v1/api/batch-calls/${batchId}`, { method: "PATCH", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: JSON.stringify(body) });

describe("the budget", () => {
  it("bills each attempt's minutes rounded up, pauses the running batch at the cap once, and refuses resume until maxMinutes is raised", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    const { batchId, due } = await uploaded(ws, phoneList(8), { maxMinutes: "5" });
    const events = await captureEvents(batchId);
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(q.sent).toHaveLength(8);

    // 61 s bills 2 minutes, a no-answer and a carrier failure bill none, 30 s bills 1: 3 of 5.
    await finish(batchId, 0, "answered", 61, due + 100);
    await finish(batchId, 1, "no_answer", null, due + 101);
    await finish(batchId, 2, "answered", 30, due + 102);
    await finish(batchId, 3, "failed", null, due + 103);
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", billed_minutes: 3, attempts_ended: 4 });
    // A claim handed back before its dial (no start kept) is not an attempt and bills nothing.
    const [claimed] = await claimJobsAt(batchId, [{ seq: 6, attempt: 1 }], due + 104);
    expect(claimed?.kind).toBe("claimed");
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj) => {
      await (obj as unknown as { placed(r: unknown[]): Promise<unknown> }).placed([{ seq: 6, attempt: 1, kind: "rate_limited" }]);
    });
    expect(await batchRow(batchId)).toMatchObject({ billed_minutes: 3, attempts_ended: 4 });

    // Call 4 is in flight when call 5's 120 s bring the batch to 5 of 5: it pauses itself.
    expect((await claimJobsAt(batchId, [{ seq: 4, attempt: 1 }], due + 150))[0]?.kind).toBe("claimed");
    await finish(batchId, 5, "voicemail", 120, due + 200);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", paused_reason: "budget", billed_minutes: 5, attempts_ended: 5, auto_pauses: 1 });
    expect(await get(ws, `/${batchId}/status`)).toMatchObject({ status: "paused", pausedReason: "budget", billedMinutes: 5, maxMinutes: 5 });
    const paused = events.filter((e) => e.type === "batch.paused");
    expect(paused).toHaveLength(1);
    expect(paused[0]!.data).toMatchObject({ batchId, pausedReason: "budget", totalCalls: 8 });
    // The summary in D1 heard it with the pause.
    const listed = (await get(ws, "")).batches.find((b: { id: string }) => b.id === batchId);
    expect(listed).toMatchObject({ status: "paused", maxMinutes: 5, billedMinutes: 5, progress: { pausedReason: "budget", billedMinutes: 5 } });

    // Paused: the calls still queued are not dialled; the one in flight finishes and bills, and nothing pauses twice.
    expect((await claimJobsAt(batchId, [{ seq: 7, attempt: 1 }], due + 300))[0]).toMatchObject({ kind: "not_claimable", batchStatus: "paused" });
    expect(await applyCallEvent(env, { kind: "final", batchId, seq: 4, attempt: 1, outcome: "answered", at: due + 400, durationSec: 10 })).toBe("applied");
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", billed_minutes: 6, auto_pauses: 1 });
    expect(events.filter((e) => e.type === "batch.paused")).toHaveLength(1);

    // Resume is refused while billed ≥ max, and raising the budget alone does not resume.
    const refused = await post(ws, `/${batchId}/resume`);
    expect(refused.status).toBe(409);
    expect(await json(refused)).toMatchObject({
      code: "invalid_transition",
      error: `The batch has used its budget: 6 of 5 minutes. Raise maxMinutes with PATCH /v1/api/batch-calls/${batchId}, then resume.`,
    });
    const raisedToBilled = await patch(ws, batchId, { maxMinutes: 6 });
    expect(raisedToBilled.status).toBe(200);
    expect(await json(raisedToBilled)).toMatchObject({ status: "paused", maxMinutes: 6, billedMinutes: 6 });
    expect(await json(await post(ws, `/${batchId}/resume`))).toMatchObject({ error: expect.stringContaining("6 of 6 minutes") });
    expect((await patch(ws, batchId, { maxMinutes: 20 })).status).toBe(200);
    expect((await batchRow(batchId))?.status).toBe("paused");
    const resumed = await post(ws, `/${batchId}/resume`);
    expect(resumed.status).toBe(200);
    expect(await get(ws, `/${batchId}`)).toMatchObject({
      status: "processing",
      maxMinutes: 20,
      billedMinutes: 6,
      estimate: null,
      progress: { pausedReason: null },
    });
  });

  it("PATCH null clears the budget: a batch paused for it may resume, and nothing pauses it again", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    const { batchId, due } = await uploaded(ws, phoneList(3), { maxMinutes: "1" });
    const events = await captureEvents(batchId);
    await tick(batchId, recordingQueue(), due);
    await finish(batchId, 0, "answered", 5, due + 100);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", paused_reason: "budget", billed_minutes: 1 });
    expect((await post(ws, `/${batchId}/resume`)).status).toBe(409);
    const cleared = await patch(ws, batchId, { maxMinutes: null });
    expect(cleared.status).toBe(200);
    expect(await json(cleared)).toMatchObject({ maxMinutes: null, billedMinutes: 1 });
    expect((await post(ws, `/${batchId}/resume`)).status).toBe(200);
    await finish(batchId, 1, "answered", 600, due + 200);
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", billed_minutes: 11 });
    expect(events.filter((e) => e.type === "batch.paused")).toHaveLength(1);
  });

  it("after a crash between the budget's pause and its announcement, the next tick announces it with the same event id: paused once, one event", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 50, maxConcurrentCalls: 50 });
    const { batchId, due } = await uploaded(ws, phoneList(3), { maxMinutes: "2" });
    const events = await captureEvents(batchId);
    const q = recordingQueue();
    await tick(batchId, q, due);
    await finish(batchId, 0, "answered", 90, due + 100);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", paused_reason: "budget", auto_pauses: 1, pauses_announced: 1 });
    // As if the process died after the pause committed (with the attempt's end) and before the event was handed over.
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => {
      state.storage.sql.exec("UPDATE batch SET pauses_announced = 0");
    });
    await tick(batchId, q, due + 1000);
    await tick(batchId, q, due + 2000);
    const all = events.filter((e) => e.type === "batch.paused");
    expect(all).toHaveLength(2);
    expect(all[1]!.id).toBe(all[0]!.id);
    expect(await batchRow(batchId)).toMatchObject({ status: "paused", paused_reason: "budget", auto_pauses: 1, pauses_announced: 1, billed_minutes: 2 });
  });

  it("does not touch a batch without a budget (billed minutes are still counted)", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 50, maxConcurrentCalls: 50 } });
    const { batchId, due } = await uploaded(ws, phoneList(2));
    await tick(batchId, recordingQueue(), due);
    await finish(batchId, 0, "answered", 3600, due + 100);
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", billed_minutes: 60, attempts_ended: 1 });
    expect(await get(ws, `/${batchId}`)).toMatchObject({ maxMinutes: null, billedMinutes: 60, progress: { maxMinutes: null, billedMinutes: 60 } });
  });
});

describe("the ledger's budget step", () => {
  const PRE_BUDGET = MIGRATIONS.findIndex((m) => m.name.startsWith("budget"));

  /** The rows an attempt's end writes (the calls row, and the batch row through the counters trigger). */
  const endWrites = (sql: SqlStorage, seq: number) =>
    sql.exec("UPDATE calls SET status = 'completed', outcome = 'answered', end_time = 2000, duration = 61 WHERE seq = ?", seq).rowsWritten;

  it("migrates an old ledger: the columns, its finished attempts counted from their history, the trigger replaced once, no extra row per call", async () => {
    const result = await runInDurableObject(env.BATCH_SCHEDULER.getByName("batch_test_old_budget_ledger"), async (_o, state) => {
      const sql = state.storage.sql;
      // The ledger as it was before the budget.
      for (const m of MIGRATIONS.slice(0, PRE_BUDGET)) m.apply(sql);
      sql.exec("INSERT INTO batch (id, status, total_calls) VALUES (1, 'processing', 4)");
      for (const seq of [0, 1, 2, 3]) {
        sql.exec(
          "INSERT INTO calls (seq, phone_number, metadata, status, attempts, dispatched_attempt, start_time) VALUES (?, '+1212555010' || ?, '[]', 'active', 1, 1, 1000)",
          seq,
          seq,
        );
      }
      // History: 61 s (2 minutes), no duration (0), 120 s (2), and a claim given back (no start: not an attempt).
      sql.exec(`INSERT INTO attempt_log (seq, attempt, start_time, end_time, outcome, duration) VALUES
        (10, 1, 1, 2, 'answered', 61), (11, 1, 1, 2, 'no_answer', NULL), (12, 1, 1, 2, 'voicemail', 120), (13, 1, NULL, 2, 'failed', NULL)`);
      const writesBefore = endWrites(sql, 0);
      const cols = () =>
        sql
          .exec<{ name: string }>("SELECT name FROM pragma_table_info('batch')")
          .toArray()
          .map((c) => c.name);
      const hadColumns = cols().includes("billed_minutes");
      for (const m of MIGRATIONS.slice(PRE_BUDGET)) m.apply(sql);
      const migrated = sql.exec("SELECT billed_minutes, attempts_ended FROM batch").toArray()[0];
      const writesAfter = endWrites(sql, 1);
      const afterEnd = sql.exec("SELECT billed_minutes, attempts_ended, completed_count FROM batch").toArray()[0];
      // cancelClaimed and unclaim clear start_time: not an attempt's end.
      sql.exec("UPDATE calls SET status = 'cancelled', start_time = NULL, end_time = 3000 WHERE seq = 2");
      sql.exec("UPDATE calls SET status = 'waiting', attempts = 0, start_time = NULL WHERE seq = 3");
      const afterGiveBacks = sql.exec("SELECT billed_minutes, attempts_ended FROM batch").toArray()[0];
      // A second start on the migrated ledger writes nothing.
      let again = 0;
      const counting = new Proxy(sql, {
        get(t, p) {
          if (p === "exec")
            return (q: string, ...params: SqlStorageValue[]) => {
              const cursor = t.exec(q, ...params);
              again += cursor.rowsWritten;
              return cursor;
            };
          const v = Reflect.get(t, p);
          return typeof v === "function" ? v.bind(t) : v;
        },
      });
      for (const m of MIGRATIONS) m.apply(counting);
      return { hadColumns, migrated, writesBefore, writesAfter, afterEnd, afterGiveBacks, again, hasColumns: cols().includes("attempts_ended") };
    });
    expect(result.hadColumns).toBe(false);
    expect(result.hasColumns).toBe(true);
    expect(result.migrated).toEqual({ billed_minutes: 4, attempts_ended: 3 });
    expect(result.afterEnd).toEqual({ billed_minutes: 6, attempts_ended: 4, completed_count: 2 });
    expect(result.afterGiveBacks).toEqual({ billed_minutes: 6, attempts_ended: 4 });
    // The same rows written per attempt's end before and after: the budget rides on the trigger's one UPDATE of the batch row.
    expect(result.writesAfter).toBe(result.writesBefore);
    expect(result.again).toBe(0);
  });
});
