import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { batchRow, callRow, ledgerQuery, recordingSql } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace, upload } from "../helpers";

function bigCsv(rows: number): string {
  const out = ["phone_number,first_name"];
  for (let i = 0; i < rows; i++) out.push(`+1212${String(5550000 + i).padStart(7, "0")},P${i}`);
  return out.join("\n");
}

async function materialised(batchId: string) {
  const stub = env.BATCH_SCHEDULER.getByName(batchId);
  await expect.poll(async () => (await stub.state())?.materialised, { timeout: 20_000 }).toBe(true);
}

describe("the batch's own ledger", () => {
  it("a read that arrives while the calls are being materialised still sees every call", async () => {
    const ws = await newWorkspace();
    const rows = 9_001;
    const { batchId } = await json(await upload(ws, bigCsv(rows)));
    // No wait: the object may still be writing the calls from the stored file.
    const page = await json(await call(`/v1/api/batch-calls/${batchId}/calls?page=91&limit=100`, { headers: authHeaders(ws) }));
    expect(page.calls).toHaveLength(1);
    expect(page.calls[0]).toMatchObject({ jobId: `call_${batchId.slice(6)}_9000`, status: "waiting", metadata: { first_name: "P9000" } });
    expect(page.pagination.total).toBe(rows);
  });

  it("a materialisation that died part-way resumes from its cursor: every call once, none twice", async () => {
    const ws = await newWorkspace();
    const rows = 9_001;
    const { batchId } = await json(await upload(ws, bigCsv(rows)));
    await materialised(batchId);
    // As if the object died after writing the first slice (4,000 rows).
    await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => {
      state.storage.sql.exec("DELETE FROM calls WHERE seq >= 4000");
      state.storage.sql.exec("UPDATE batch SET total_calls = 0, waiting_count = 0");
      const s = (await state.storage.get<Record<string, unknown>>("state"))!;
      await state.storage.put("state", { ...s, materialised: false, materialisedRows: 4000 });
    });
    await abortAllDurableObjects();
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ total: rows, waiting: rows });
    const [counts] = await ledgerQuery<{ n: number; distinct_seqs: number; max: number }>(
      batchId,
      "SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seqs, max(seq) AS max FROM calls",
    );
    expect(counts).toEqual({ n: rows, distinct_seqs: rows, max: rows - 1 });
  });

  it("leaves out exactly the rows intake found on the do-not-call list", async () => {
    const ws = await newWorkspace();
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550001", "+12125550003"] }),
    });
    const res = await json(await upload(ws, bigCsv(5)));
    expect(res).toMatchObject({ totalCalls: 3, suppressed: 2 });
    await materialised(res.batchId);
    const seqs = await ledgerQuery<{ seq: number }>(res.batchId, "SELECT seq FROM calls ORDER BY seq");
    expect(seqs.map((r) => r.seq)).toEqual([0, 2, 4]);
  });

  it("numbers added to the do-not-call list cancel waiting calls in the workspace's live batches at once", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, bigCsv(3)));
    await materialised(batchId);
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550001"] }),
    });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "cancelled", error: "on the do-not-call list", attempts: 0 });
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting" });
    expect(await batchRow(batchId)).toMatchObject({ waiting_count: 2, cancelled_count: 1 });
  });

  it("keeps the D1 summary that lists batches in step with its ledger", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, bigCsv(2)));
    await materialised(batchId);
    expect((await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) })).status).toBe(200);
    const listed = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) }));
    expect(listed.batches[0]).toMatchObject({ id: batchId, status: "cancelled", progress: { total: 2, waiting: 0, cancelled: 2 } });
    const row = await env.DB.prepare("SELECT summary_version FROM batches WHERE id = ?1").bind(batchId).first<{ summary_version: number }>();
    expect(row?.summary_version).toBe((await batchRow(batchId))?.version);
  });
});

describe("the scheduler's statements", () => {
  it("each finds its rows by the key or a partial index, never by scanning the batch", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, bigCsv(500)));
    await materialised(batchId);
    const plans = await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => {
      const { CallLedger } = await import("../../src/db/call-ledger");
      const seen: [string, SqlStorageValue[]][] = [];
      const sql = new Proxy(state.storage.sql, {
        get(t, p) {
          if (p === "exec")
            return (q: string, ...params: SqlStorageValue[]) => {
              seen.push([q, params]);
              return t.exec(q, ...params);
            };
          const v = Reflect.get(t, p);
          return typeof v === "function" ? v.bind(t) : v;
        },
      });
      const ledger = new CallLedger(sql);
      // Once per instance, the watched calls (in flight, active) are found by a walk of the batch; then they are read by key.
      ledger.inFlight.list();
      ledger.live.rows();
      ledger.inFlight.add([1, 2, 3]);
      ledger.live.add([4, 5]);
      seen.length = 0; // the schema's CREATE … IF NOT EXISTS, and that walk
      ledger.dueCandidates(Date.now(), 10, 100, -1);
      ledger.dueTimes();
      ledger.expiredActive(Date.now());
      ledger.reclaimStaleDispatches(0);
      ledger.recentCallExcerpts(10, { columns: 1, chars: 10 });
      return seen.map(([q, params]) => ({
        q,
        plan: state.storage.sql
          .exec(`EXPLAIN QUERY PLAN ${q}`, ...params)
          .toArray()
          .map((r) => String(r.detail)),
      }));
    });
    // dueCandidates 2, dueTimes 3 (the callbacks' index, and an aggregate over each watched set, by key), expiredActive
    // and the reclaim 1 each (their rows by key; these reads forget the seqs that no longer match), recent 1.
    expect(plans).toHaveLength(8);
    for (const { q, plan } of plans) {
      expect(plan.join(" | "), q).not.toMatch(/SCAN calls|calls_by_status|TEMP B-TREE/);
    }
  });

  it("a ledger made before dial confirmation existed gains it, its live calls counted as confirmed", async () => {
    const confirmed = await runInDurableObject(env.BATCH_SCHEDULER.getByName("batch_test_old_ledger"), async (_o, state) => {
      // The calls table as the first ledger release wrote it.
      state.storage.sql.exec(`CREATE TABLE calls (seq INTEGER PRIMARY KEY, phone_number TEXT NOT NULL, metadata TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'waiting', outcome TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT,
        start_time INTEGER, end_time INTEGER, duration REAL, error TEXT, dispatched_attempt INTEGER NOT NULL DEFAULT 0,
        dispatched_at INTEGER, pass_base INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL DEFAULT 0, provider_call_id TEXT, lease_expires_at INTEGER)`);
      state.storage.sql.exec(
        "INSERT INTO calls (seq, phone_number, metadata, status, attempts, dispatched_attempt, lease_expires_at) VALUES (0, '+12125550100', '[]', 'active', 1, 1, 5)",
      );
      const { CallLedger } = await import("../../src/db/call-ledger");
      const ledger = new CallLedger(state.storage.sql);
      new CallLedger(state.storage.sql); // a second start changes nothing
      return ledger.expiredActive(10).map((r) => r.confirmed);
    });
    // Its dial may have been placed long ago: it is settled by the lease expiry, never looked up as lost.
    expect(confirmed).toEqual([true]);
  });

  it("a start on a ledger already up to date runs its migrations again and writes nothing", async () => {
    const written = await runInDurableObject(env.BATCH_SCHEDULER.getByName("batch_test_restart_ledger"), async (_o, state) => {
      const { CallLedger } = await import("../../src/db/call-ledger");
      new CallLedger(state.storage.sql);
      const before = state.storage.sql.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray();
      const { sql, cursors } = recordingSql(state.storage.sql);
      new CallLedger(sql);
      const rows = cursors.reduce((n, c) => n + c.rowsWritten, 0);
      const after = state.storage.sql.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray();
      return { rows, schemaUnchanged: JSON.stringify(after) === JSON.stringify(before) };
    });
    expect(written).toEqual({ rows: 0, schemaUnchanged: true });
  });
});
