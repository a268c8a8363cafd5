import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { newWorkspace } from "../helpers";

describe("scheduled sweep", () => {
  it("removes uploads whose request died before publishing, and leaves recent ones", async () => {
    const ws = await newWorkspace();
    const insert = (id: string, createdAt: string) =>
      env.DB.batch([
        env.DB.prepare(
          `INSERT INTO batches (id, workspace_id, agent_id, status, default_country, columns, csv_key, created_at)
           VALUES (?1, ?2, ?3, 'preparing', 'US', '[]', ?4, ?5)`,
        ).bind(id, ws.workspaceId, ws.agentId, `workspaces/${ws.workspaceId}/batches/${id}/input.csv`, createdAt),
        env.DB.prepare("INSERT INTO calls (batch_id, seq, phone_number, metadata) VALUES (?1, 0, '+12125550100', '[]')").bind(id),
      ]);
    await insert("batch_abandoned0000000000", new Date(Date.now() - 2 * 3_600_000).toISOString());
    await insert("batch_inflight00000000000", new Date().toISOString());
    await env.CSV_BUCKET.put(`workspaces/${ws.workspaceId}/batches/batch_abandoned0000000000/input.csv`, "phone_number\n");

    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const left = await env.DB.prepare("SELECT id FROM batches WHERE workspace_id = ?1 ORDER BY id").bind(ws.workspaceId).all<{ id: string }>();
    expect(left.results.map((r) => r.id)).toEqual(["batch_inflight00000000000"]);
    const calls = await env.DB.prepare("SELECT batch_id FROM calls WHERE batch_id IN ('batch_abandoned0000000000', 'batch_inflight00000000000')").all<{ batch_id: string }>();
    expect(calls.results.map((r) => r.batch_id)).toEqual(["batch_inflight00000000000"]);
    expect((await env.CSV_BUCKET.list({ prefix: `workspaces/${ws.workspaceId}/` })).objects).toEqual([]);
  });
});
