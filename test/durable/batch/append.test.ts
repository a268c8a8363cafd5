import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppendInput } from "../../../src/durable/batch/append";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import type { WorkspaceLimiter } from "../../../src/durable/workspace-limiter";
import { applyCallEvent } from "../../../src/services/call-events";
import { batchRow, claimAt, ledgerQuery, phoneList, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, csvForm, json, newWorkspace, type TestWorkspace } from "../../helpers";

const limited = () => newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });

const appendRows = (ws: TestWorkspace, batchId: string, csv: string) =>
  call(`/v1/api/batch-calls/${batchId}/rows`, { method: "POST", headers: authHeaders(ws), body: csvForm(csv) });

/** Claims and ends call `seq`'s first attempt, answered, at `at`. */
async function finish(batchId: string, seq: number, at: number) {
  await claimAt(batchId, seq, 1, at - 5);
  expect(await applyCallEvent(env, { kind: "final", batchId, seq, attempt: 1, outcome: "answered", at, durationSec: 3 })).toBe("applied");
}

/** Runs `step` in the batch's object with the object and its limiter standing at `at` and jobs going to `queue` (as the engine helpers' tick does). */
async function inObject<T>(batchId: string, queue: ReturnType<typeof recordingQueue>, at: number, step: (obj: BatchScheduler) => Promise<T>): Promise<T> {
  const state = (await env.BATCH_SCHEDULER.getByName(batchId).state())!;
  await runInDurableObject(env.WORKSPACE_LIMITER.getByName(state.workspaceId), async (l: WorkspaceLimiter) => {
    l.ports = { now: () => at };
  });
  return runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
    obj.ports = { queue, now: () => at };
    return step(obj);
  });
}

/** A file stored as the Worker stores an appended one, and the object's input for it. */
async function storedAppend(batchId: string, csv: string, key: string): Promise<AppendInput> {
  const fileKey = `test/${batchId}/input.csv.rows-${key}`;
  await env.CSV_BUCKET.put(fileKey, csv);
  return { key, fileKey, suppressed: [] };
}

const sentSeqs = (q: ReturnType<typeof recordingQueue>) => q.sent.map((j) => `${j.seq}/${j.attempt}`);

describe("appending rows in the batch's object", () => {
  it("a processing batch whose calls have all ended dials the appended ones, exactly once, then completes with them", async () => {
    const ws = await limited();
    const { batchId, due } = await uploaded(ws, phoneList(2));
    const q = recordingQueue();
    await tick(batchId, q, due);
    for (const seq of [0, 1]) await finish(batchId, seq, due + 100);
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", waiting_count: 0, active_count: 0 });

    const res = await appendRows(ws, batchId, phoneList(4).replace("\n+12125551001", "").replace("\n+12125551011", ""));
    expect(await json(res)).toEqual({ batchId, added: 2, duplicates: 0, suppressed: 0, totalCalls: 4, status: "processing" });
    // The append pokes the clock: it is due again (on the object's clock), not asleep.
    const alarm = await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", total_calls: 4, waiting_count: 2 });

    await tick(batchId, q, due + 1000);
    await tick(batchId, q, due + 2000);
    expect(sentSeqs(q)).toEqual(["0/1", "1/1", "2/1", "3/1"]);
    for (const seq of [2, 3]) await finish(batchId, seq, due + 3000);
    await tick(batchId, q, due + 4000);
    expect(await batchRow(batchId)).toMatchObject({ status: "completed", total_calls: 4, completed_count: 4 });
    expect(sentSeqs(q)).toHaveLength(4);
    const d1 = await env.DB.prepare("SELECT status, total_calls FROM batches WHERE id = ?1").bind(batchId).first();
    expect(d1).toEqual({ status: "completed", total_calls: 4 });
  });

  it("the first-attempt cursor reaches appended calls after the batch's own, in file order", async () => {
    // Two calls at a time: the batch still has a call waiting when the rows arrive.
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 2 } });
    const { batchId, due } = await uploaded(ws, phoneList(3));
    const q = recordingQueue();
    await tick(batchId, q, due);
    expect(sentSeqs(q)).toEqual(["0/1", "1/1"]);
    const res = await appendRows(ws, batchId, "phone_number\n+12125559001\n+12125559002\n");
    expect((await json(res)).added).toBe(2);
    const ended = new Set<number>();
    for (let round = 1; round <= 3; round++) {
      for (const j of q.sent.filter((j) => !ended.has(j.seq))) {
        await finish(batchId, j.seq, due + round * 1000);
        ended.add(j.seq);
      }
      await tick(batchId, q, due + round * 1000 + 500);
    }
    expect(sentSeqs(q)).toEqual(["0/1", "1/1", "2/1", "3/1", "4/1"]);
    expect(await ledgerQuery(batchId, "SELECT seq, phone_number FROM calls WHERE seq >= 3 ORDER BY seq")).toEqual([
      { seq: 3, phone_number: "+12125559001" },
      { seq: 4, phone_number: "+12125559002" },
    ]);
  });

  it("the same append delivered twice adds once and answers the same counts", async () => {
    const ws = await limited();
    const { batchId, due } = await uploaded(ws, phoneList(2), { start: "false" });
    const input = await storedAppend(batchId, "phone_number\n+12125559101\n+12125551001\n", "twice");
    const q = recordingQueue();
    const first = await inObject(batchId, q, due, (obj) => obj.append(input));
    const second = await inObject(batchId, q, due, (obj) => obj.append(input));
    expect(first).toEqual({ ok: true, added: 1, duplicates: 1, suppressed: 0, totalCalls: 3, status: "draft", replayed: false });
    expect(second).toEqual({ ...first, replayed: true });
    expect(await ledgerQuery(batchId, "SELECT key, first_seq, added, duplicates FROM appends")).toEqual([
      { key: "twice", first_seq: 2, added: 1, duplicates: 1 },
    ]);
    expect(await batchRow(batchId)).toMatchObject({ total_calls: 3, waiting_count: 3 });
  });

  it("an append asked for before a tick runs before it: the tick dispatches the new calls instead of completing the batch", async () => {
    const ws = await limited();
    const { batchId, due } = await uploaded(ws, phoneList(1));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await finish(batchId, 0, due + 100);
    const input = await storedAppend(batchId, "phone_number\n+12125559201\n", "race-1");
    const [appended] = await inObject(batchId, q, due + 1000, (obj) => Promise.all([obj.append(input), obj.tick()]));
    expect(appended).toMatchObject({ ok: true, added: 1, status: "processing" });
    expect(sentSeqs(q)).toEqual(["0/1", "1/1"]);
    expect(await batchRow(batchId)).toMatchObject({ status: "processing", total_calls: 2 });

    // The other way round: the tick completes the batch first, and the append finds it completed.
    await finish(batchId, 1, due + 1100);
    const late = await storedAppend(batchId, "phone_number\n+12125559202\n", "race-2");
    const [, refused] = await inObject(batchId, q, due + 2000, (obj) => Promise.all([obj.tick(), obj.append(late)]));
    expect(refused).toEqual({ ok: false, status: "completed" });
    expect(await batchRow(batchId)).toMatchObject({ status: "completed", total_calls: 2 });
    expect(await ledgerQuery(batchId, "SELECT key FROM appends ORDER BY key")).toEqual([{ key: "race-1" }]);
  });

  it("a batch cancelled while the file is read adds nothing: the commit checks the status again", async () => {
    const ws = await limited();
    const { batchId, due } = await uploaded(ws, phoneList(2), { start: "false" });
    const input = await storedAppend(batchId, "phone_number\n+12125559301\n", "cancelled");
    const q = recordingQueue();
    const result = await inObject(batchId, q, due, async (obj) => {
      // The batch is cancelled while the object fetches the file: after the first status check, before the commit.
      const own = (obj as unknown as { env: Env }).env;
      const bucket = {
        get: async (key: string) => {
          expect(await obj.cancel()).toMatchObject({ ok: true });
          return own.CSV_BUCKET.get(key);
        },
      };
      (obj as unknown as { env: Env }).env = { ...own, CSV_BUCKET: bucket as unknown as R2Bucket };
      try {
        return await obj.append(input);
      } finally {
        (obj as unknown as { env: Env }).env = own;
      }
    });
    expect(result).toEqual({ ok: false, status: "cancelled" });
    expect(await batchRow(batchId)).toMatchObject({ status: "cancelled", total_calls: 2 });
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM appends")).toEqual([{ n: 0 }]);
    expect(await ledgerQuery(batchId, "SELECT count(*) AS n FROM calls")).toEqual([{ n: 2 }]);
  });
});
