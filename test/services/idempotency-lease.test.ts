import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_LEASE_MS } from "../../src/db/idempotency.repo";
import { authHeaders, call, callWithEnv, csvForm, json, newWorkspace, upload, type TestWorkspace } from "../helpers";

const CSV = "phone_number,first_name\n+12125550101,Ann\n+12125550102,Bob\n";

/**
 * What a Worker that died right before publishing leaves behind: its key
 * `running` (claimed `ageMs` ago, with this payload's hash) and its batch
 * unpublished. Made by a real upload, then rewound.
 */
async function deadRequestHolds(ws: TestWorkspace, key: string, ageMs: number) {
  const res = await upload(ws, CSV, {}, { "idempotency-key": key });
  expect(res.status).toBe(201);
  await env.DB.prepare(
    "UPDATE idempotency_keys SET state = 'running', response_status = NULL, response_body = NULL, created_at = ?3 WHERE workspace_id = ?1 AND key = ?2",
  )
    .bind(ws.workspaceId, key, Date.now() - ageMs)
    .run();
  await env.DB.prepare("UPDATE batches SET status = 'preparing' WHERE id = ?1")
    .bind((await json(res)).batchId)
    .run();
}

async function visibleBatches(ws: TestWorkspace): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT id FROM batches WHERE workspace_id = ?1 AND status != 'preparing'")
    .bind(ws.workspaceId)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

describe("Idempotency-Key lease", () => {
  it("answers 409 while a request that died recently still holds the key, saying when it frees", async () => {
    const ws = await newWorkspace();
    await deadRequestHolds(ws, "k-crash", 30_000);
    const res = await upload(ws, CSV, {}, { "idempotency-key": "k-crash" });
    expect(res.status).toBe(409);
    const body = await json(res);
    expect(body).toMatchObject({ code: "idempotency_conflict", error: expect.stringContaining("within 5 minutes") });
    expect(await visibleBatches(ws)).toEqual([]);
  });

  it("lets the same request through once the dead request's lease has run out, and replays it after", async () => {
    const ws = await newWorkspace();
    await deadRequestHolds(ws, "k-crash", IDEMPOTENCY_LEASE_MS + 1_000);
    const first = await upload(ws, CSV, {}, { "idempotency-key": "k-crash" });
    expect(first.status).toBe(201);
    const { batchId } = await json(first);
    const again = await upload(ws, CSV, {}, { "idempotency-key": "k-crash" });
    expect((await json(again)).batchId).toBe(batchId);
    expect(await visibleBatches(ws)).toEqual([batchId]);
  });

  it("never publishes a second batch from a request that lost its key to a retry", async () => {
    const ws = await newWorkspace();
    // While this request prepares, its lease runs out and a retry takes the key over.
    const takenOver: D1Database = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            const stmt = target.prepare(sql);
            if (!sql.includes("SET status = 'queued'")) return stmt;
            return {
              bind: (...args: unknown[]) => ({
                first: async () => {
                  await target
                    .prepare("UPDATE idempotency_keys SET created_at = created_at + 1 WHERE workspace_id = ?1 AND key = 'k-slow'")
                    .bind(ws.workspaceId)
                    .run();
                  return stmt.bind(...args).first();
                },
              }),
            };
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const res = await callWithEnv({ ...env, DB: takenOver }, "/v1/api/batch-calls", {
      method: "POST",
      headers: { ...authHeaders(ws), "idempotency-key": "k-slow" },
      body: csvForm(CSV, { agentId: ws.agentId }),
    });
    expect(res.status).toBe(409);
    expect((await json(res)).code).toBe("idempotency_conflict");
    expect(await visibleBatches(ws)).toEqual([]);
    // The key is the retry's: this request neither completed nor released it.
    const row = await env.DB.prepare("SELECT state FROM idempotency_keys WHERE workspace_id = ?1 AND key = 'k-slow'")
      .bind(ws.workspaceId)
      .first<{ state: string }>();
    expect(row?.state).toBe("running");
    // Nothing half-created is left readable.
    const list = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) }));
    expect(list.pagination.total).toBe(0);
  });
});
