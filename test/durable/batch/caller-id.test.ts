import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { BatchScheduler } from "../../../src/durable/batch/scheduler";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../../src/services/call-events";
import { callRow, claimAt, claimJobsAt, ledgerQuery, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { newWorkspace, type TestWorkspace } from "../../helpers";

const HOUR = 3_600_000;

async function withPolicy(policy: unknown): Promise<TestWorkspace> {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 50, maxConcurrentCalls: 50 } });
  await env.DB.prepare("UPDATE workspaces SET contact_policy = ?1 WHERE id = ?2").bind(JSON.stringify(policy), ws.workspaceId).run();
  return ws;
}

async function withPool(numbers: string[], callerId: unknown): Promise<TestWorkspace> {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 50, maxConcurrentCalls: 50 } });
  await env.DB.prepare("UPDATE agents SET caller_id = ?1 WHERE id = ?2").bind(JSON.stringify(callerId), ws.agentId).run();
  for (const [i, n] of numbers.entries()) {
    await env.DB.prepare("INSERT INTO agent_numbers (agent_id, workspace_id, e164, position) VALUES (?1, ?2, ?3, ?4)")
      .bind(ws.agentId, ws.workspaceId, n, i)
      .run();
  }
  return ws;
}

describe("the contact policy across batches", () => {
  const onePerDay = { maxAttempts: [{ count: 1, hours: 24 }] };

  it("a number called by one batch waits in another until the policy allows it, saying why; it never fails for it", async () => {
    const ws = await withPolicy(onePerDay);
    const a = await uploaded(ws, "phone_number\n+12125551001\n");
    const b = await uploaded(ws, "phone_number\n+12125551001\n+12125551002\n");
    const qa = recordingQueue();
    await tick(a.batchId, qa, a.due);
    await claimAt(a.batchId, 0, 1, a.due + 10);
    const qb = recordingQueue();
    await tick(b.batchId, qb, a.due + 20);
    // The shared number is held back at the reservation; the other is sent.
    expect(qb.sent.map((j) => j.seq)).toEqual([1]);
    expect(await callRow(b.batchId, 0)).toMatchObject({
      status: "waiting",
      attempts: 0,
      wait_reason: "contact_policy",
      due_at: a.due + 10 + 24 * HOUR + 1,
      next_attempt_at: new Date(a.due + 10 + 24 * HOUR + 1).toISOString(),
    });
    // A day on, it is dispatched and claimed, and no longer says it waits.
    await tick(b.batchId, qb, a.due + 10 + 24 * HOUR + 1);
    // (seq 1's job, never claimed, is sent again too: a day-old dispatch counts as lost.)
    expect(qb.sent.slice(1).map((j) => j.seq)).toContain(0);
    await claimAt(b.batchId, 0, 1, a.due + 24 * HOUR + 20);
    expect(await callRow(b.batchId, 0)).toMatchObject({ status: "active", wait_reason: null });
  });

  it("the gate re-checks at the start: of two batches dispatched together, the second to start waits", async () => {
    const ws = await withPolicy(onePerDay);
    const a = await uploaded(ws, "phone_number\n+12125551001\n");
    const b = await uploaded(ws, "phone_number\n+12125551001\n");
    await tick(a.batchId, recordingQueue(), a.due);
    await tick(b.batchId, recordingQueue(), a.due);
    await claimAt(a.batchId, 0, 1, a.due + 10);
    const [result] = await claimJobsAt(b.batchId, [{ seq: 0, attempt: 1 }], a.due + 20);
    expect(result).toMatchObject({ kind: "handed_back" });
    expect(await callRow(b.batchId, 0)).toMatchObject({
      status: "waiting",
      attempts: 0,
      dispatched_attempt: 0,
      wait_reason: "contact_policy",
      due_at: a.due + 10 + 24 * HOUR + 1,
    });
    // Its reservation was handed back: the limiter holds only batch A's lease.
    const leases = (await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases.map((l) => l.batchId);
    expect(leases).toEqual([a.batchId]);
  });
});

/** Drops the batch object's copy of its workspace's settings, as the 5-second refresh would. */
async function refreshWorkspace(batchId: string) {
  await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
    (obj as unknown as { c: { workspaceCache: unknown } }).c.workspaceCache = null;
  });
}

describe("a policy changed while batches run", () => {
  it("applies to the next attempt; attempts made while there was none are not counted", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 50, maxConcurrentCalls: 50 } });
    const a = await uploaded(ws, "phone_number\n+12125551001\n");
    const b = await uploaded(ws, "phone_number\n+12125551001\n");
    const c = await uploaded(ws, "phone_number\n+12125551001\n");
    await tick(a.batchId, recordingQueue(), a.due);
    await claimAt(a.batchId, 0, 1, a.due + 10);
    await env.DB.prepare("UPDATE workspaces SET contact_policy = ?1 WHERE id = ?2")
      .bind(JSON.stringify({ maxAttempts: [{ count: 1, hours: 24 }] }), ws.workspaceId)
      .run();
    for (const batch of [b, c]) await refreshWorkspace(batch.batchId);
    const qb = recordingQueue();
    await tick(b.batchId, qb, a.due + 20);
    expect(qb.sent).toHaveLength(1);
    await claimAt(b.batchId, 0, 1, a.due + 30);
    const qc = recordingQueue();
    await tick(c.batchId, qc, a.due + 40);
    expect(qc.sent).toHaveLength(0);
    expect(await callRow(c.batchId, 0)).toMatchObject({ status: "waiting", wait_reason: "contact_policy", due_at: a.due + 30 + 24 * HOUR + 1 });
  });
});

describe("number pools in a batch", () => {
  it("each attempt dials from the number the pool gave it, and its history says which", async () => {
    const pool = ["+14155550101", "+14155550102", "+14155550103"];
    const ws = await withPool(pool, { strategy: "round_robin", perNumber: { callsPerSecond: 1 } });
    const { batchId, due } = await uploaded(ws, "phone_number\n+12125551001\n+12125551002\n+12125551003\n+12125551004\n");
    const q = recordingQueue();
    await tick(batchId, q, due);
    const results = await claimJobsAt(batchId, q.sent, due + 10);
    const froms = results.map((r) => (r.kind === "claimed" ? r.dial.from : r.kind));
    // Three numbers at one call a second each: the fourth waits for a number.
    expect(froms.slice(0, 3).sort()).toEqual(pool);
    expect(results[3]).toMatchObject({ kind: "wait" });
    const first = results[0]!;
    expect(first.kind).toBe("claimed");
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 100, durationSec: 3 });
    const [history] = await ledgerQuery(batchId, "SELECT from_number, to_number FROM attempt_log WHERE seq = 0");
    expect(history).toEqual({ from_number: first.kind === "claimed" ? first.dial.from : null, to_number: "+12125551001" });
  });

  it("with every number resting, calls wait with no_enabled_number and start once one is back", async () => {
    const ws = await withPool(["+14155550101"], { strategy: "round_robin", perNumber: { callsPerSecond: 5 } });
    await env.DB.prepare("UPDATE agent_numbers SET enabled = 0 WHERE agent_id = ?1").bind(ws.agentId).run();
    const { batchId, due } = await uploaded(ws, "phone_number\n+12125551001\n");
    const q = recordingQueue();
    await tick(batchId, q, due);
    const [held] = await claimJobsAt(batchId, q.sent, due + 10);
    expect(held).toMatchObject({ kind: "handed_back" });
    const row = await callRow(batchId, 0);
    expect(row).toMatchObject({ status: "waiting", wait_reason: "no_enabled_number" });
    expect(row!.due_at).toBeGreaterThan(due + 10);
    await env.DB.prepare("UPDATE agent_numbers SET enabled = 1 WHERE agent_id = ?1").bind(ws.agentId).run();
    await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).forgetPool(ws.agentId);
    await tick(batchId, q, row!.due_at as number);
    const [claimed] = await claimJobsAt(batchId, [q.sent.at(-1)!], (row!.due_at as number) + 10);
    expect(claimed).toMatchObject({ kind: "claimed", dial: { from: "+14155550101", to: "+12125551001" } });
  });
});
