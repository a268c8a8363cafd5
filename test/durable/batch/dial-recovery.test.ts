import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DIAL_CONFIRM_MS } from "../../../src/engine-config";
import { MIN_WAKE_GAP_MS } from "../../../src/domain/wake";
import { runInDurableObject } from "cloudflare:test";
import { CallLedger } from "../../../src/db/call-ledger";
import { batchRow, callRow, claimAt, claimJobsAt, phoneList, recordingQueue, tick } from "../../engine-helpers";
import { authHeaders, call, json, newTwilioWorkspace, newWebhookWorkspace, newWorkspace, upload, type TestWorkspace } from "../../helpers";

/** What a process kill leaves behind, driven through the object's own tick: lost messages and claims never dialled. */

async function setup(ws: TestWorkspace, csv: string, fields: Record<string, string> = {}) {
  const res = await upload(ws, csv, fields);
  expect(res.status).toBe(201);
  const { batchId } = await json(res);
  const due = (await env.BATCH_SCHEDULER.getByName(batchId).state())!.dueAt;
  return { batchId, due };
}

const CALLBACKS = JSON.stringify({ enabled: true, maxAttempts: 2, gaps: [{ days: 0, hours: 1 }] });

afterEach(() => vi.restoreAllMocks());

describe("lost queue messages", () => {
  it("hands a job nobody heard of again after the stale time, and never spins meanwhile", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 } });
    const { batchId, due } = await setup(ws, phoneList(2));
    const q = recordingQueue();
    const first = await tick(batchId, q, due);
    expect(q.sent.map((j) => j.seq)).toEqual([0, 1]);
    // Both messages were lost: the next look is when they go stale, not at once.
    expect(first).toBe(due + 30_000);

    const again = await tick(batchId, q, due + 30_001);
    expect(q.sent.map((j) => `${j.seq}:${j.attempt}`)).toEqual(["0:1", "1:1", "0:1", "1:1"]);
    // The re-sent jobs are due "at once" but already dispatched: no wake in the past, no 10 ms loop.
    expect(again).toBe(due + 30_001 + 30_000);

    // Ticks that find nothing to do never ask for a wake sooner than the minimum gap.
    const idle = await tick(batchId, q, due + 30_002);
    expect(idle! - (due + 30_002)).toBeGreaterThanOrEqual(MIN_WAKE_GAP_MS);
    expect(q.sent).toHaveLength(4);
  });

  it("does not call a job waiting at the rate gate lost", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 } });
    const { batchId, due } = await setup(ws, phoneList(2));
    const q = recordingQueue();
    await tick(batchId, q, due);
    // Half a second later a consumer took both jobs; one is started, one waits for the next second (a visit to the gate).
    const results = await claimJobsAt(
      batchId,
      q.sent.map((j) => ({ seq: j.seq, attempt: j.attempt })),
      due + 500,
    );
    expect(results.map((r) => r.kind).sort()).toEqual(["claimed", "wait"]);
    const waiting = results.find((r) => r.kind === "wait")!;
    // The visit restarts its stale clock: dispatched at `due`, seen at the gate at `due + 500`.
    const touched = (await callRow(batchId, waiting.seq))!.dispatched_at as number;
    expect(touched).not.toBe(due);
    expect(touched).toBe(due + 500);
    // The job that was claimed is no longer a dispatch that can go stale.
    const claimed = results.find((r) => r.kind === "claimed")!;
    expect(await callRow(batchId, claimed.seq)).toMatchObject({ status: "active", attempts: 1 });
  });
});

describe("claimed but never dialled", () => {
  it("dials a claim the simulated carrier never got again, as the same attempt", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 } });
    const { batchId, due } = await setup(ws, phoneList(1));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 10, { confirmed: false });
    // Within the confirm window nothing happens.
    await tick(batchId, q, due + DIAL_CONFIRM_MS);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", attempts: 1 });

    await tick(batchId, q, due + 10 + DIAL_CONFIRM_MS + 1);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 0, start_time: null });
    expect(q.sent.map((j) => `${j.seq}:${j.attempt}`)).toEqual(["0:1", "0:1"]);
    expect((await batchRow(batchId))?.failed_count).toBe(0);
  });

  it("keeps a claim the simulated carrier did place, with the call's full lease", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 } });
    const { batchId, due } = await setup(ws, phoneList(1));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 10, { confirmed: false });
    // The dial went out, then the process died before the provider's answer was recorded.
    const row = (await callRow(batchId, 0))!;
    const [id] = await env.SIM_CARRIER.getByName(batchId).placeMany([{ batchId, seq: 0, attempt: 1, to: row.phone_number as string, callSeconds: 600 }]);

    await tick(batchId, q, due + 10 + DIAL_CONFIRM_MS + 1);
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "active",
      attempts: 1,
      provider_call_id: id,
      dial_confirmed: 1,
      lease_expires_at: due + 10 + 3_600_000,
    });
    expect(q.sent).toHaveLength(1);
  });

  it("ends a webhook agent's unconfirmed claim as failed with its fate unknown, and smart callbacks apply", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 10 });
    const { batchId, due } = await setup(ws, phoneList(2), { smartCallbackConfig: CALLBACKS });
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 10, { confirmed: false });
    const fetched = vi.spyOn(globalThis, "fetch");

    await tick(batchId, q, due + 10 + DIAL_CONFIRM_MS + 1);
    expect(fetched).not.toHaveBeenCalled(); // never dialled a second time
    const retried = (await callRow(batchId, 0))!;
    expect(retried).toMatchObject({ status: "waiting", attempts: 1, outcome: "failed", error: expect.stringContaining("fate is unknown") });
    expect(retried.next_attempt_at).toBe(new Date(due + 10 + DIAL_CONFIRM_MS + 1 + 3_600_000).toISOString());
    expect(retried.error).toContain("was not dialled again");
    expect(await callRow(batchId, 1)).toMatchObject({ status: "waiting", attempts: 0 }); // never claimed: untouched
  });

  it("asks Twilio, and keeps the call it finds", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, due } = await setup(ws, phoneList(2));
    const q = recordingQueue();
    await tick(batchId, q, due);
    const claimedAt = due + 10;
    await claimAt(batchId, 0, 1, claimedAt, { confirmed: false });
    await claimAt(batchId, 1, 1, claimedAt, { confirmed: false });
    const asked: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      asked.push(url.searchParams.get("To")!);
      const ours = url.searchParams.get("To")!.endsWith("1001"); // seq 0 was placed; seq 1 never reached Twilio
      const calls = ours ? [{ sid: "CAfound", from: "+14155550100", date_created: new Date(claimedAt + 500).toUTCString() }] : [];
      return new Response(JSON.stringify({ calls }), { status: 200 });
    });

    await tick(batchId, q, claimedAt + DIAL_CONFIRM_MS + 1);
    expect(asked.sort()).toEqual(["+12125551001", "+12125551011"]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", provider_call_id: "CAfound", dial_confirmed: 1 });
    // Not finding a call is no proof it was never placed: it ends, without a second dial.
    expect(await callRow(batchId, 1)).toMatchObject({ status: "failed", error: expect.stringContaining("fate is unknown") });
  });

  it("gives back a claim that reached the dialler after its deadline", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 } });
    const { batchId, due } = await setup(ws, phoneList(1));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 10, { confirmed: false });
    await env.BATCH_SCHEDULER.getByName(batchId).placed([{ seq: 0, attempt: 1, kind: "too_late" }]);
    // Back to waiting, still dispatched: the queue's retry of the same message claims it again.
    expect(await callRow(batchId, 0)).toMatchObject({ status: "waiting", attempts: 0, dispatched_attempt: 1 });
  });

  it("settles calls still in flight when their batch was cancelled: a claim that never rang ends cancelled, a silent call by its lease", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 10 } });
    const { batchId, due } = await setup(ws, phoneList(3));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 10, { confirmed: false }); // its claimer died before dialling
    await claimAt(batchId, 1, 1, due + 10); // dialled; its final status never comes
    const cancel = await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    expect(cancel.status).toBe(200);
    expect(await batchRow(batchId)).toMatchObject({ status: "cancelled", active_count: 2 });

    // The cancelled batch still looks after its calls in flight: it wakes for the first lease.
    expect(await tick(batchId, q, due + 20)).toBe(due + 10 + DIAL_CONFIRM_MS);
    await tick(batchId, q, due + 10 + DIAL_CONFIRM_MS);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "cancelled", attempts: 0 });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "active" });

    await tick(batchId, q, due + 10 + 3_600_000);
    expect(await callRow(batchId, 1)).toMatchObject({ status: "failed", error: expect.stringContaining("lease expired") });
    expect(await batchRow(batchId)).toMatchObject({ status: "cancelled", active_count: 0 });
    // Every slot is free again: the two calls in flight, and the job that was still on the queue when the batch was cancelled.
    expect((await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases).toEqual([]);
    expect(q.sent).toHaveLength(3); // nothing dialled after the cancel
  });

  it("asks Twilio without following a redirect, and names the redirect when the lookup gets one", async () => {
    const ws = await newTwilioWorkspace();
    const { batchId, due } = await setup(ws, phoneList(1));
    const q = recordingQueue();
    await tick(batchId, q, due);
    await claimAt(batchId, 0, 1, due + 10, { confirmed: false });
    const modes: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      modes.push(new Request(input, init).redirect);
      return new Response(null, { status: 302, headers: { location: "https://login.example.net/sso?next=calls" } });
    });
    await tick(batchId, q, due + 10 + DIAL_CONFIRM_MS + 1);
    expect(modes).toEqual(["manual"]);
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("the Twilio call lookup answered 302 redirecting to https://login.example.net/sso; redirects are not followed"),
    });
  });
});

describe("a dial that reached no one", () => {
  const UNREACHABLE = "could not connect to https://dialer.example.com/dial: Network connection lost";

  it("is settled when the claim's short lease runs out and frees its slot, where a may-exist dial keeps the call's lease", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 10 });
    const { batchId, due } = await setup(ws, phoneList(2));
    const q = recordingQueue();
    await tick(batchId, q, due);
    const claimedAt = due + 10;
    await claimAt(batchId, 0, 1, claimedAt, { confirmed: false });
    await claimAt(batchId, 1, 1, claimedAt, { confirmed: false });
    await env.BATCH_SCHEDULER.getByName(batchId).placed([
      { seq: 0, attempt: 1, kind: "unreachable", error: UNREACHABLE },
      { seq: 1, attempt: 1, kind: "unknown", error: "the dial endpoint did not answer (TimeoutError); the call may exist" },
    ]);
    expect(await callRow(batchId, 0)).toMatchObject({ status: "active", dial_confirmed: 0, error: UNREACHABLE, lease_expires_at: claimedAt + DIAL_CONFIRM_MS });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "active", dial_confirmed: 1, lease_expires_at: claimedAt + 3_600_000 });
    const fetched = vi.spyOn(globalThis, "fetch");

    // The tick wakes for the short lease, not the hour.
    expect(await tick(batchId, q, claimedAt + 1)).toBeLessThanOrEqual(claimedAt + DIAL_CONFIRM_MS);
    await tick(batchId, q, claimedAt + DIAL_CONFIRM_MS);
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "failed",
      outcome: "failed",
      lease_expires_at: null,
      error: "Could not connect to https://dialer.example.com/dial: Network connection lost.",
    });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "active" });
    expect(fetched).not.toHaveBeenCalled(); // never dialled a second time
    const leases = (await env.WORKSPACE_LIMITER.getByName(ws.workspaceId).snapshot()).leases as unknown[];
    expect(leases).toHaveLength(1); // only the may-exist call still holds a slot
    expect(q.sent).toHaveLength(2);
  });

  it("is told apart in the ledger from a claim still being dialled and from a confirmed dial (what a cancel settles at once)", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 10 });
    const { batchId, due } = await setup(ws, phoneList(3));
    const q = recordingQueue();
    await tick(batchId, q, due);
    for (const seq of [0, 1, 2]) await claimAt(batchId, seq, 1, due + 10, { confirmed: false });
    await env.BATCH_SCHEDULER.getByName(batchId).placed([
      { seq: 0, attempt: 1, kind: "unreachable", error: UNREACHABLE },
      { seq: 2, attempt: 1, kind: "unreachable", error: UNREACHABLE },
    ]);
    // A status report confirms seq 2 after all: the dialer did get it.
    await env.BATCH_SCHEDULER.getByName(batchId).applyEvents([{ kind: "progress", batchId, seq: 2, attempt: 1, providerCallId: "remote-2" }]);
    const seen = await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => {
      const ledger = new CallLedger(state.storage.sql);
      return { active: ledger.unreachableActive(), errors: [0, 1, 2].map((seq) => ledger.unreachableError(seq, 1)), stale: ledger.unreachableError(0, 2) };
    });
    expect(seen).toEqual({ active: [{ seq: 0, attempt: 1, error: UNREACHABLE }], errors: [UNREACHABLE, null, null], stale: null });
    expect(await callRow(batchId, 2)).toMatchObject({ status: "active", dial_confirmed: 1, provider_call_id: "remote-2" });
  });

  it("is settled at once when its batch is cancelled; a claim still being dialled and a confirmed call are left to their leases", async () => {
    const ws = await newWebhookWorkspace({ callsPerSecond: 5, maxConcurrentCalls: 10 });
    const { batchId, due } = await setup(ws, phoneList(3));
    const q = recordingQueue();
    await tick(batchId, q, due);
    for (const seq of [0, 1, 2]) await claimAt(batchId, seq, 1, due + 10, { confirmed: seq === 2 });
    await env.BATCH_SCHEDULER.getByName(batchId).placed([{ seq: 0, attempt: 1, kind: "unreachable", error: UNREACHABLE }]);
    const cancel = await call(`/v1/api/batch-calls/${batchId}`, { method: "DELETE", headers: authHeaders(ws) });
    expect(cancel.status).toBe(200);
    expect(await callRow(batchId, 0)).toMatchObject({
      status: "failed",
      outcome: "failed",
      error: "Could not connect to https://dialer.example.com/dial: Network connection lost.",
    });
    expect(await callRow(batchId, 1)).toMatchObject({ status: "active" });
    expect(await callRow(batchId, 2)).toMatchObject({ status: "active" });
    expect(await batchRow(batchId)).toMatchObject({ status: "cancelled", active_count: 2, failed_count: 1 });
  });
});
