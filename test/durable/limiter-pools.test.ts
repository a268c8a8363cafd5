import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CallerId } from "../../src/domain/caller-id";
import type { ContactPolicy } from "../../src/domain/contact-policy";
import type { StartResult, WorkspaceLimiter } from "../../src/durable/workspace-limiter";
import { newWorkspace } from "../helpers";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const limits = { callsPerSecond: 1000, maxConcurrentCalls: 1000 };

/** A workspace whose agent dials from `numbers` under `callerId`; its limiter reads time from `clock.at`. */
async function poolWorkspace(numbers: string[], callerId: CallerId | null, clock: { at: number }) {
  const ws = await newWorkspace();
  await env.DB.prepare("UPDATE agents SET caller_id = ?1 WHERE id = ?2")
    .bind(callerId ? JSON.stringify(callerId) : null, ws.agentId)
    .run();
  for (const [i, n] of numbers.entries()) {
    await env.DB.prepare("INSERT INTO agent_numbers (agent_id, workspace_id, e164, position) VALUES (?1, ?2, ?3, ?4)")
      .bind(ws.agentId, ws.workspaceId, n, i)
      .run();
  }
  const limiter = env.WORKSPACE_LIMITER.getByName(ws.workspaceId);
  await onClock(limiter, clock);
  return { ws, limiter, pool: { workspaceId: ws.workspaceId, agentId: ws.agentId } };
}

async function onClock(limiter: DurableObjectStub<WorkspaceLimiter>, clock: { at: number }) {
  await runInDurableObject(limiter, (obj: WorkspaceLimiter) => {
    obj.ports = { now: () => clock.at };
  });
}

let seq = 0;
/** Reserves and starts one attempt per phone; what the gate said for each. */
async function starts(
  l: DurableObjectStub<WorkspaceLimiter>,
  phones: string[],
  extra: { pool?: { workspaceId: string; agentId: string }; contactPolicy?: ContactPolicy; batch?: string } = {},
): Promise<StartResult[]> {
  const batch = extra.batch ?? "B";
  const leaseIds = phones.map(() => `${batch}:${seq++}:1`);
  await l.reserve({ batchId: batch, leaseIds, batchCap: null, limits, reserveTtlMs: 600_000 });
  return l.startMany({ leaseIds, callsPerSecond: limits.callsPerSecond, callLeaseMs: 600_000, phones, pool: extra.pool, contactPolicy: extra.contactPolicy });
}

const fromOf = (r: StartResult) => (r.ok ? (r.from ?? null) : null);

describe("number pools at the rate gate", () => {
  it("never starts two calls from one number in a second at perNumber.callsPerSecond 1, and a call waits for a number", async () => {
    const clock = { at: T0 };
    const { limiter, pool } = await poolWorkspace(["+14155550101", "+14155550102"], { strategy: "round_robin", perNumber: { callsPerSecond: 1 } }, clock);
    const first = await starts(limiter, ["+12125550001", "+12125550002", "+12125550003"], { pool });
    expect(first.slice(0, 2).map(fromOf).sort()).toEqual(["+14155550101", "+14155550102"]);
    expect(first[2]).toMatchObject({ ok: false, waitMs: 1001 });
    clock.at = T0 + 999;
    expect((await starts(limiter, ["+12125550004"], { pool }))[0]).toMatchObject({ ok: false });
    clock.at = T0 + 1000;
    const again = await starts(limiter, ["+12125550005", "+12125550006"], { pool });
    expect(again.map(fromOf).sort()).toEqual(["+14155550101", "+14155550102"]);
  });

  it("takes turns: the number that started least recently goes next", async () => {
    const clock = { at: T0 };
    const numbers = ["+14155550101", "+14155550102", "+14155550103"];
    const { limiter, pool } = await poolWorkspace(numbers, null, clock);
    const used: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      clock.at = T0 + i * 10;
      used.push(fromOf((await starts(limiter, ["+12125550001"], { pool }))[0]!));
    }
    expect(used).toEqual([...numbers, ...numbers]);
  });

  it("local: the recipient's area code, else the same country, else any", async () => {
    const clock = { at: T0 };
    const numbers = ["+14155550101", "+12125550101", "+442079460101"];
    const { limiter, pool } = await poolWorkspace(numbers, { strategy: "local", perNumber: { callsPerSecond: 5 } }, clock);
    const [ny, sf, chicago, london, paris] = await starts(limiter, ["+12125559999", "+14155559999", "+13125559999", "+442079469999", "+33142685300"], { pool });
    expect(fromOf(ny!)).toBe("+12125550101");
    expect(fromOf(sf!)).toBe("+14155550101");
    expect(["+14155550101", "+12125550101"]).toContain(fromOf(chicago!));
    expect(fromOf(london!)).toBe("+442079460101");
    expect(paris!.ok).toBe(true);
  });

  it("a number at its maxCallsPerDay rests until the day window moves; the call is held, not failed", async () => {
    const clock = { at: T0 };
    const { limiter, pool } = await poolWorkspace(["+14155550101"], { strategy: "round_robin", perNumber: { callsPerSecond: 1, maxCallsPerDay: 2 } }, clock);
    expect((await starts(limiter, ["+12125550001"], { pool }))[0]!.ok).toBe(true);
    clock.at += 1000;
    expect((await starts(limiter, ["+12125550002"], { pool }))[0]!.ok).toBe(true);
    clock.at += 1000;
    const held = (await starts(limiter, ["+12125550003"], { pool }))[0]!;
    expect(held).toMatchObject({ ok: false, hold: { reason: "number_daily_limit" } });
    // 24 hours on, the day still counts the first hour (whole hours, never fewer than 24): 25 hours on it does not.
    clock.at = T0 + 24 * HOUR;
    expect((await starts(limiter, ["+12125550004"], { pool }))[0]).toMatchObject({ ok: false });
    clock.at = T0 + 26 * HOUR;
    expect((await starts(limiter, ["+12125550005"], { pool }))[0]!.ok).toBe(true);
  });

  it("with every number resting, calls are held with no_enabled_number; enabling one (and forgetPool) lets them start at once", async () => {
    const clock = { at: T0 };
    const { ws, limiter, pool } = await poolWorkspace(["+14155550101"], null, clock);
    await env.DB.prepare("UPDATE agent_numbers SET enabled = 0 WHERE agent_id = ?1").bind(ws.agentId).run();
    await limiter.forgetPool(ws.agentId);
    expect((await starts(limiter, ["+12125550001"], { pool }))[0]).toMatchObject({ ok: false, hold: { reason: "no_enabled_number", until: T0 + 60_000 } });
    await env.DB.prepare("UPDATE agent_numbers SET enabled = 1 WHERE agent_id = ?1").bind(ws.agentId).run();
    // Without forgetPool the limiter keeps its copy for a few seconds; with it, the next start sees the change.
    await limiter.forgetPool(ws.agentId);
    expect(fromOf((await starts(limiter, ["+12125550001"], { pool }))[0]!)).toBe("+14155550101");
  });

  it("a redelivered start keeps its caller ID and counts once; answered calls count in the number's health", async () => {
    const clock = { at: T0 };
    const { limiter, pool } = await poolWorkspace(["+14155550101", "+14155550102"], null, clock);
    const leaseIds = ["B:900:1", "B:901:1"];
    await limiter.reserve({ batchId: "B", leaseIds, batchCap: null, limits, reserveTtlMs: 600_000 });
    const input = { leaseIds, callsPerSecond: 1000, callLeaseMs: 600_000, phones: ["+12125550001", "+12125550002"], pool };
    const first = await limiter.startMany(input);
    clock.at += 5;
    expect(await limiter.startMany(input)).toEqual(first);
    // Both attempts ended, the first answered; a start that never became a call (a third lease, freed) counts in no health figure.
    await limiter.release(leaseIds, { ended: leaseIds, answered: ["B:900:1"] });
    await limiter.reserve({ batchId: "B", leaseIds: ["B:902:1"], batchCap: null, limits, reserveTtlMs: 600_000 });
    expect((await limiter.startMany({ ...input, leaseIds: ["B:902:1"], phones: ["+12125550003"] }))[0]!.ok).toBe(true);
    await limiter.release(["B:902:1"]);
    const stats = await limiter.numberStats(["+14155550101", "+14155550102", "+19995550100"]);
    expect(stats.map((s) => [s.attempts24h, s.answered24h, s.attempts7d])).toEqual([
      [1, fromOf(first[0]!) === "+14155550101" ? 1 : 0, 1],
      [1, fromOf(first[0]!) === "+14155550102" ? 1 : 0, 1],
      [0, 0, 0],
    ]);
    expect(stats.map((s) => s.lastStartAt)).toContain(T0 + 5);
    expect(stats[2]!.lastStartAt).toBeNull();
  });
});

describe("the contact policy at the rate gate", () => {
  const twoPerDay: ContactPolicy = { maxAttempts: [{ count: 2, hours: 24 }] };

  it("counts attempts to a number across batches: a third in 24 hours waits until the first is 24 hours old", async () => {
    const clock = { at: T0 };
    const limiter = env.WORKSPACE_LIMITER.getByName(`ws_policy_${crypto.randomUUID()}`);
    await onClock(limiter, clock);
    const p = "+12125550001";
    expect((await starts(limiter, [p], { contactPolicy: twoPerDay, batch: "A" }))[0]!.ok).toBe(true);
    clock.at = T0 + HOUR;
    expect((await starts(limiter, [p], { contactPolicy: twoPerDay, batch: "B" }))[0]!.ok).toBe(true);
    clock.at = T0 + 2 * HOUR;
    expect((await starts(limiter, [p], { contactPolicy: twoPerDay, batch: "C" }))[0]).toEqual({
      ok: false,
      hold: { until: T0 + 24 * HOUR + 1, reason: "contact_policy" },
    });
    // The reservation already says so: the lease is held back, not granted.
    const r = await limiter.reserve({ batchId: "D", leaseIds: ["D:1:1"], batchCap: null, limits, reserveTtlMs: 1000, phones: [p], contactPolicy: twoPerDay });
    expect(r).toMatchObject({ granted: [], held: [{ leaseId: "D:1:1", until: T0 + 24 * HOUR + 1, reason: "contact_policy" }] });
    // Another number is free; and once the first attempt is 24 hours old, one more may start.
    expect((await starts(limiter, ["+12125550002"], { contactPolicy: twoPerDay, batch: "C" }))[0]!.ok).toBe(true);
    clock.at = T0 + 24 * HOUR + 1;
    expect((await starts(limiter, [p], { contactPolicy: twoPerDay, batch: "C" }))[0]!.ok).toBe(true);
  });

  it("minGapMinutes keeps attempts to one number apart", async () => {
    const clock = { at: T0 };
    const limiter = env.WORKSPACE_LIMITER.getByName(`ws_policy_${crypto.randomUUID()}`);
    await onClock(limiter, clock);
    const policy: ContactPolicy = { maxAttempts: [], minGapMinutes: 30 };
    expect((await starts(limiter, ["+12125550001"], { contactPolicy: policy }))[0]!.ok).toBe(true);
    clock.at = T0 + 29 * 60_000;
    expect((await starts(limiter, ["+12125550001"], { contactPolicy: policy }))[0]).toMatchObject({ ok: false, hold: { until: T0 + 30 * 60_000 } });
  });

  it("survives a restart: a start recorded before the crash is neither counted twice nor forgotten", async () => {
    const clock = { at: T0 };
    const name = `ws_policy_${crypto.randomUUID()}`;
    let limiter = env.WORKSPACE_LIMITER.getByName(name);
    await onClock(limiter, clock);
    const p = "+12125550001";
    const leaseIds = ["A:1:1"];
    await limiter.reserve({ batchId: "A", leaseIds, batchCap: null, limits, reserveTtlMs: 600_000 });
    const input = { leaseIds, callsPerSecond: 1000, callLeaseMs: 600_000, phones: [p], contactPolicy: twoPerDay };
    expect((await limiter.startMany(input))[0]!.ok).toBe(true);
    // The consumer dies before dialling; the object restarts; the job is delivered again.
    await abortAllDurableObjects();
    limiter = env.WORKSPACE_LIMITER.getByName(name);
    await onClock(limiter, clock);
    clock.at += 10;
    expect(await limiter.startMany(input)).toEqual([{ ok: true, at: T0 }]);
    // Still one attempt counted: a second may start, a third may not.
    expect((await starts(limiter, [p], { contactPolicy: twoPerDay, batch: "B" }))[0]!.ok).toBe(true);
    expect((await starts(limiter, [p], { contactPolicy: twoPerDay, batch: "C" }))[0]).toMatchObject({ ok: false, hold: { reason: "contact_policy" } });
  });
});
