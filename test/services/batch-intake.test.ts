import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { claimIdempotencyKey } from "../../src/db/idempotency.repo";
import { ApiError } from "../../src/errors";
import { addDnc } from "../../src/db/dnc.repo";
import { batchOptionsOf, startBatch } from "../../src/services/batch-intake";
import { suppressedIn } from "../../src/services/intake-scan";
import { authHeaders, call, LATER, newWorkspace, type TestWorkspace } from "../helpers";

/** The service takes what the route decoded: the file, and the form's other fields as text. */
const CSV = "phone_number,first_name\n+12125550101,Ann\n+12125550102,Bob\n";
const csvFile = (text = CSV) => new File([text], "people.csv", { type: "text/csv" });
const ctx = (ws: TestWorkspace) => ({ workspaceId: ws.workspaceId, requestId: `req_${crypto.randomUUID()}` });

async function thrown(run: () => unknown): Promise<ApiError> {
  let err: unknown;
  try {
    await run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

async function rowsOf(ws: TestWorkspace): Promise<{ id: string; status: string }[]> {
  const { results } = await env.DB.prepare("SELECT id, status FROM batches WHERE workspace_id = ?1").bind(ws.workspaceId).all<{ id: string; status: string }>();
  return results;
}

describe("batchOptionsOf", () => {
  it("types the form's fields", () => {
    const opts = batchOptionsOf({ agentId: "agent_1", scheduledAt: LATER, onInvalidRows: "skip", dryRun: "TRUE", defaultCountry: "gb", name: " March " });
    expect(opts).toMatchObject({ agentId: "agent_1", onInvalidRows: "skip", dryRun: true, defaultCountry: "GB", name: "March", maxConcurrentCalls: null });
    expect(opts.scheduledAt?.toISOString().replace(".000Z", "Z")).toBe(LATER);
  });

  it.each([
    [{}, "missing_agent_id", "Send agentId: the agent that should make these calls."],
    [{ agentId: "  " }, "missing_agent_id", "Send agentId: the agent that should make these calls."],
    [{ agentId: "a", onInvalidRows: "maybe" }, "validation_failed", 'onInvalidRows must be "reject" or "skip"'],
    [{ agentId: "a", scheduledAt: "2020-01-01T00:00:00Z" }, "invalid_scheduled_at", "scheduledAt is in the past; omit it to start now"],
    [{ agentId: "a", callingWindow: "{" }, "invalid_calling_window", "callingWindow is not valid JSON"],
  ])("refuses %j with %s", async (fields: Record<string, string>, code, message) => {
    expect(await thrown(() => batchOptionsOf(fields))).toMatchObject({ code, message });
  });
});

describe("startBatch", () => {
  it("creates and publishes the batch from a decoded file, answering 201 (recorded only under a key)", async () => {
    const ws = await newWorkspace();
    const answer = await startBatch(env, ctx(ws), csvFile(), batchOptionsOf({ agentId: ws.agentId, scheduledAt: LATER }));
    expect(answer).toEqual({
      status: 201,
      recorded: false,
      body: {
        batchId: expect.stringMatching(/^batch_/),
        totalCalls: 2,
        status: "queued",
        message: "Batch calls initiated successfully",
        scheduledAt: LATER,
        duplicatesRemoved: 0,
        suppressed: 0,
        invalidRows: 0,
      },
    });
    expect(await rowsOf(ws)).toEqual([{ id: answer.body.batchId, status: "queued" }]);
    const stored = await env.CSV_BUCKET.get(`workspaces/${ws.workspaceId}/batches/${answer.body.batchId}/input.csv`);
    expect(await stored?.text()).toBe(CSV);
  });

  it("a dry run answers 200 with the counts, records nothing and creates nothing", async () => {
    const ws = await newWorkspace();
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550102"] }),
    });
    const answer = await startBatch(env, ctx(ws), csvFile(`${CSV}+12125550101,Ann again\n`), batchOptionsOf({ agentId: ws.agentId, dryRun: "true" }));
    expect(answer).toEqual({
      status: 200,
      recorded: false,
      body: {
        batchId: null,
        totalCalls: 1,
        status: "dry_run",
        message: "Dry run: the file is valid; nothing was created",
        scheduledAt: null,
        duplicatesRemoved: 1,
        suppressed: 1,
        invalidRows: 0,
        details: [],
        // This agent has no history: the stated default, for the one call to make.
        estimate: expect.objectContaining({ calls: 1, basis: "default", minutes: { low: 1, high: 3 } }),
      },
    });
    expect(await rowsOf(ws)).toEqual([]);
  });

  it("refuses a bad file with the same 400 in a dry run and an upload: they share the scan and its checks", async () => {
    const ws = await newWorkspace();
    const bad = "phone_number,first_name\n+12125550101,Ann\nnot a number,Bob\n";
    const dry = await thrown(() => startBatch(env, ctx(ws), csvFile(bad), batchOptionsOf({ agentId: ws.agentId, dryRun: "true" })));
    const real = await thrown(() => startBatch(env, ctx(ws), csvFile(bad), batchOptionsOf({ agentId: ws.agentId })));
    expect(real).toMatchObject({ code: "csv_invalid", extra: { invalidRows: 1 } });
    expect(real.message).toContain("1 row(s) are invalid, so nothing was created. The first is on line 3 (phone_number)");
    expect({ code: dry.code, message: dry.message, details: dry.details, extra: dry.extra }).toEqual({
      code: real.code,
      message: real.message,
      details: real.details,
      extra: real.extra,
    });
    expect(await rowsOf(ws)).toEqual([]);
  });

  it("refuses an agent of another workspace and a per-batch cap above the workspace's", async () => {
    const [ws, other] = await Promise.all([newWorkspace(), newWorkspace()]);
    const foreign = await thrown(() => startBatch(env, ctx(ws), csvFile(), batchOptionsOf({ agentId: other.agentId })));
    expect(foreign).toMatchObject({ code: "agent_not_found", message: `Agent ${other.agentId} does not exist in this workspace.` });
    const capped = await thrown(() => startBatch(env, ctx(ws), csvFile(), batchOptionsOf({ agentId: ws.agentId, maxConcurrentCalls: "11" })));
    expect(capped).toMatchObject({ code: "validation_failed", message: "maxConcurrentCalls is 11, above this workspace's limit of 10." });
    expect(await rowsOf(ws)).toEqual([]);
  });

  it("under a key, completes the key with the 201 in the publish's own transaction", async () => {
    const ws = await newWorkspace();
    const claim = await claimIdempotencyKey(env.DB, ws.workspaceId, "k-svc", "hash", Date.now());
    if (claim.kind !== "claimed") throw new Error(`claim: ${claim.kind}`);
    const answer = await startBatch(env, ctx(ws), csvFile(), batchOptionsOf({ agentId: ws.agentId, scheduledAt: LATER }), claim.hold);
    expect(answer.status).toBe(201);
    expect(answer.recorded).toBe(true);
    const key = await env.DB.prepare("SELECT state, response_status, response_body FROM idempotency_keys WHERE workspace_id = ?1 AND key = 'k-svc'")
      .bind(ws.workspaceId)
      .first();
    expect(key).toEqual({ state: "done", response_status: 201, response_body: JSON.stringify(answer.body) });
  });

  it("under a key it no longer holds, publishes nothing and says a retry took over", async () => {
    const ws = await newWorkspace();
    const claim = await claimIdempotencyKey(env.DB, ws.workspaceId, "k-lost", "hash", Date.now());
    if (claim.kind !== "claimed") throw new Error(`claim: ${claim.kind}`);
    // A retry took the key over: its claim is a later one.
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = created_at + 1 WHERE workspace_id = ?1 AND key = 'k-lost'").bind(ws.workspaceId).run();
    const err = await thrown(() => startBatch(env, ctx(ws), csvFile(), batchOptionsOf({ agentId: ws.agentId }), claim.hold));
    expect(err).toMatchObject({ code: "idempotency_conflict", status: 409 });
    expect(err.message).toContain("a retry with the same Idempotency-Key took over");
    expect(await rowsOf(ws)).toEqual([]);
    expect((await env.CSV_BUCKET.list({ prefix: `workspaces/${ws.workspaceId}/` })).objects).toEqual([]);
  });
});

describe("suppressedIn", () => {
  it("names the rows of a slice whose every number is on the workspace's list, in either entry form", async () => {
    const [ws, other] = await Promise.all([newWorkspace(), newWorkspace()]);
    await addDnc(env.DB, ws.workspaceId, ["+12125550101", "+12125550102", "+13125550102", "+12125550104"], new Date().toISOString());
    const slice = JSON.stringify([
      [0, "+12125550101"],
      [1, "+12125550102", null, ["+12125550102", "+13125550102"]],
      [2, "+12125550103", null, ["+12125550103", "+12125550101"]],
      [3, "+12125550104", null, ["+12125550104", "+13125550104"]],
      [4, "+12125550105"],
    ]);
    expect(await suppressedIn(env.DB, ws.workspaceId, slice)).toEqual([0, 1]);
    expect(await suppressedIn(env.DB, other.workspaceId, slice)).toEqual([]);
    expect(await suppressedIn(env.DB, ws.workspaceId, "[]")).toEqual([]);
  });
});
