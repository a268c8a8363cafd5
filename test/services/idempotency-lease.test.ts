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
        if (prop === "batch") {
          // The publish runs as one D1 transaction with the key's completion.
          return async (stmts: D1PreparedStatement[]) => {
            await target
              .prepare("UPDATE idempotency_keys SET created_at = created_at + 1 WHERE workspace_id = ?1 AND key = 'k-slow'")
              .bind(ws.workspaceId)
              .run();
            return target.batch(stmts);
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

  it("a Worker that dies right after publishing leaves one batch: the retry, even after the lease, answers with it", async () => {
    const ws = await newWorkspace();
    // From the moment the batch is published, this process is dead: nothing more reaches D1 or the batch's object.
    let dead = false;
    const died = () => Promise.reject(new Error("the process died"));
    const publishes = (sql: string) => sql.includes("SET status = 'queued'");
    const db: D1Database = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            if (dead) return { bind: () => ({ run: died, first: died, all: died }), run: died, first: died, all: died };
            const stmt = target.prepare(sql);
            if (!publishes(sql)) return stmt;
            return new Proxy(stmt, {
              get(st, p) {
                if (p !== "bind") return Reflect.get(st, p);
                return (...args: unknown[]) => {
                  const bound = st.bind(...args);
                  return new Proxy(bound, {
                    get(b, q) {
                      if (q === "first")
                        return async () => {
                          const row = await b.first();
                          dead = true;
                          return row;
                        };
                      return Reflect.get(b, q);
                    },
                  });
                };
              },
            });
          };
        if (prop === "batch")
          return async (stmts: D1PreparedStatement[]) => {
            if (dead) return died();
            const out = await target.batch(stmts);
            dead = true;
            return out;
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const scheduler = new Proxy(env.BATCH_SCHEDULER, {
      get(target, prop) {
        if (prop !== "getByName") return Reflect.get(target, prop);
        return (name: string) => {
          const stub = target.getByName(name);
          return new Proxy(stub, { get: (s, m) => (dead ? died : Reflect.get(s, m)) });
        };
      },
    }) as Env["BATCH_SCHEDULER"];
    const init = () => ({ method: "POST", headers: { ...authHeaders(ws), "idempotency-key": "k-died" }, body: csvForm(CSV, { agentId: ws.agentId }) });
    await callWithEnv({ ...env, DB: db, BATCH_SCHEDULER: scheduler }, "/v1/api/batch-calls", init()).catch(() => undefined);
    expect(dead).toBe(true);
    const [published] = await visibleBatches(ws);
    expect(published).toBeDefined();

    // The client heard nothing and retries — at once, and again after the lease a dead request's key would have.
    const soon = await call("/v1/api/batch-calls", init());
    expect(soon.status).toBe(201);
    expect((await json(soon)).batchId).toBe(published);
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = created_at - ?3 WHERE workspace_id = ?1 AND key = ?2")
      .bind(ws.workspaceId, "k-died", IDEMPOTENCY_LEASE_MS + 1_000)
      .run();
    const late = await call("/v1/api/batch-calls", init());
    expect(late.status).toBe(201);
    expect((await json(late)).batchId).toBe(published);
    expect(await visibleBatches(ws)).toEqual([published]);
  });
});
