import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { armInput } from "./engine-helpers";
import { newWorkspace } from "./helpers";

describe("scheduled sweep", () => {
  it("removes uploads whose request died before publishing, and leaves recent ones", async () => {
    const ws = await newWorkspace();
    const insert = async (id: string, createdAt: string) => {
      const csvKey = `workspaces/${ws.workspaceId}/batches/${id}/input.csv`;
      await env.DB.prepare(
        `INSERT INTO batches (id, workspace_id, agent_id, status, default_country, columns, csv_key, created_at)
         VALUES (?1, ?2, ?3, 'preparing', 'US', '[]', ?4, ?5)`,
      )
        .bind(id, ws.workspaceId, ws.agentId, csvKey, createdAt)
        .run();
      await env.CSV_BUCKET.put(csvKey, "phone_number\n+12125550100\n");
      // Armed, as an upload that died after arming but before publishing leaves it.
      await env.BATCH_SCHEDULER.getByName(id).arm(
        armInput({ batchId: id, workspaceId: ws.workspaceId, agentId: ws.agentId, csvKey, dueAt: Date.now() + 86_400_000 }),
      );
    };
    await insert("batch_abandoned0000000000", new Date(Date.now() - 2 * 3_600_000).toISOString());
    await insert("batch_inflight00000000000", new Date().toISOString());

    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const left = await env.DB.prepare("SELECT id FROM batches WHERE workspace_id = ?1 ORDER BY id").bind(ws.workspaceId).all<{ id: string }>();
    expect(left.results.map((r) => r.id)).toEqual(["batch_inflight00000000000"]);
    expect(await env.BATCH_SCHEDULER.getByName("batch_abandoned0000000000").state()).toBeNull();
    expect(await env.BATCH_SCHEDULER.getByName("batch_inflight00000000000").state()).not.toBeNull();
    const left2 = (await env.CSV_BUCKET.list({ prefix: `workspaces/${ws.workspaceId}/` })).objects.map((o) => o.key);
    expect(left2).toEqual([`workspaces/${ws.workspaceId}/batches/batch_inflight00000000000/input.csv`]);
  });
});

describe("scheduled alarm check", () => {
  it("gives a running batch whose alarm was lost a new one, and leaves the rest alone", async () => {
    const { runInDurableObject } = await import("cloudflare:test");
    const { upload, json } = await import("./helpers");
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, "phone_number\n+12125550100\n"));
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    await expect.poll(async () => (await stub.state())?.materialised).toBe(true);
    const due = (await stub.state())!.dueAt;
    await expect.poll(() => runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBe(due);
    // As if the runtime had given the alarm up after repeated failures.
    await runInDurableObject(stub, (_o, state) => state.storage.deleteAlarm());

    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBe(due);
    expect(await stub.ensureAlarm()).toEqual({ alarmRestored: false, summaryRepaired: false });
  });
});
