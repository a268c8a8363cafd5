import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StartResult, WorkspaceLimiter } from "../../src/durable/workspace-limiter";

/*
 * Leases written by the group (a grant row per reserve call, rewritten by
 * the starts, a row per release call, compacted now and then) and replayed
 * when the object wakes: a restart must find every lease as it was — held,
 * started, freed, lapsed — so it never admits more than the limits allow
 * and never lets a slot go before its lease ends.
 */
const T0 = 1_700_000_000_000;
const ids = (batch: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${batch}:${from + i}:1`);
type Stub = DurableObjectStub<WorkspaceLimiter>;

async function onClock(l: Stub, clock: { at: number }) {
  await runInDurableObject(l, (obj: WorkspaceLimiter) => {
    obj.ports = { now: () => clock.at };
  });
}

async function limiterOn(clock: { at: number }) {
  const name = `ws_leases_${crypto.randomUUID()}`;
  const l = env.WORKSPACE_LIMITER.getByName(name);
  await onClock(l, clock);
  return { l, name };
}

/** The same object after a restart (every object's memory gone), on the same clock. */
async function restarted(name: string, clock: { at: number }) {
  await abortAllDurableObjects();
  const l = env.WORKSPACE_LIMITER.getByName(name);
  await onClock(l, clock);
  return l;
}

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("leases across a restart", () => {
  it("keeps every lease as it was: held, started (with its longer lease), freed, lapsed, and one freed and granted again", async () => {
    const clock = { at: T0 };
    const { l, name } = await limiterOn(clock);
    const limits = { callsPerSecond: 100, maxConcurrentCalls: 12 };
    const a = ids("A", 10);
    expect((await l.reserve({ batchId: "A", leaseIds: a, batchCap: null, limits, reserveTtlMs: 5_000 })).granted).toEqual(a);
    const start = { callsPerSecond: 100, callLeaseMs: 60_000 };
    expect((await l.startMany({ leaseIds: a.slice(0, 4), ...start })).every((r) => r.ok)).toBe(true);
    await l.release([a[0]!, a[5]!]); // one started, one not
    clock.at = T0 + 100;
    // A[6] handed back and asked for again in the same call, with two more of B.
    const b = await l.reserve({ batchId: "A", leaseIds: [a[6]!, ...ids("A", 2, 10)], batchCap: null, limits, reserveTtlMs: 10_000, release: [a[6]!, a[1]!] });
    expect(b.granted).toEqual([a[6], ...ids("A", 2, 10)]);
    const before = await l.snapshot();
    expect(before.leases).toHaveLength(9);

    const again = await restarted(name, clock);
    expect(await again.snapshot()).toEqual(before);
    // Nine held of 12: three more and no fourth.
    expect((await again.reserve({ batchId: "B", leaseIds: ids("B", 4), batchCap: null, limits, reserveTtlMs: 60_000 })).granted).toEqual(ids("B", 3));
    // A started lease answers with its start; a freed one is gone.
    expect(await again.startMany({ leaseIds: [a[2]!, a[0]!], ...start })).toEqual([
      { ok: true, at: T0 },
      { ok: false, noLease: true },
    ]);
    // The first call's reservations lapse at T0 + 5 s, the second's at T0 + 10.1 s, the started leases at T0 + 60 s, B's at T0 + 60.1 s.
    clock.at = T0 + 5_000;
    const lapsed = await restarted(name, clock);
    expect((await lapsed.snapshot()).leases.map((x) => x.id)).toEqual([a[2], a[3], ...ids("A", 2, 10), a[6], ...ids("B", 3)].sort());
    clock.at = T0 + 60_000;
    expect((await (await restarted(name, clock)).snapshot()).leases.map((x) => x.id)).toEqual(ids("B", 3));
    clock.at = T0 + 60_100;
    expect((await (await restarted(name, clock)).snapshot()).leases).toEqual([]);
  });

  it("compacts its release rows once they pile up, and a restart after still finds every lease", async () => {
    const clock = { at: T0 };
    const { l, name } = await limiterOn(clock);
    const limits = { callsPerSecond: 10_000, maxConcurrentCalls: 10_000 };
    let before: Awaited<ReturnType<WorkspaceLimiter["snapshot"]>> | undefined;
    await runInDurableObject(l, async (obj: WorkspaceLimiter) => {
      // 600 reserve calls of 5, each freeing one lease of an earlier grant: 600 release rows, two compactions.
      for (let i = 0; i < 600; i++) {
        clock.at = T0 + i;
        const release = i >= 3 ? [`A:${(i - 3) * 5 + (i % 5)}:1`] : [];
        const leaseIds = ids("A", 5, i * 5);
        await obj.reserve({ batchId: "A", leaseIds, batchCap: null, limits, reserveTtlMs: 600_000, release });
        if (i % 2 === 0) await obj.startMany({ leaseIds: leaseIds.slice(0, 2), callsPerSecond: 10_000, callLeaseMs: 600_000 });
      }
      before = obj.snapshot();
    });
    expect(before!.leases).toHaveLength(3000 - 597);
    await runInDurableObject(l, (_obj: WorkspaceLimiter, state: DurableObjectState) => {
      const rows = state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM lease_releases").one().n;
      expect(rows).toBeLessThan(256);
    });
    expect(await (await restarted(name, clock)).snapshot()).toEqual(before);
  });

  it("after random reserves, starts, releases and lapses, each restart finds what was held, and the limits hold throughout", async () => {
    const clock = { at: T0 };
    const { l, name } = await limiterOn(clock);
    const next = random(20);
    const limits = { callsPerSecond: 20, maxConcurrentCalls: 30 };
    const held = new Set<string>();
    let stub: Stub = l;
    let seq = 0;
    for (let round = 0; round < 12; round++) {
      await runInDurableObject(stub, async (obj: WorkspaceLimiter) => {
        for (let step = 0; step < 40; step++) {
          clock.at += Math.floor(next() * 300);
          const batch = next() < 0.7 ? "A" : "B";
          const mine = [...held].filter((id) => id.startsWith(batch));
          const release = mine.filter(() => next() < 0.2);
          const again = release.filter(() => next() < 0.3); // handed back, asked for again
          const leaseIds = [...again, ...ids(batch, Math.floor(next() * 8), seq)];
          seq += 8;
          const r = await obj.reserve({ batchId: batch, leaseIds, batchCap: null, limits, reserveTtlMs: 2_000 + Math.floor(next() * 4_000), release });
          const starting = [...mine.filter((id) => !release.includes(id)), ...r.granted].filter(() => next() < 0.5).slice(0, 10);
          const results: StartResult[] = await obj.startMany({ leaseIds: starting, callsPerSecond: 20, callLeaseMs: 3_000 + Math.floor(next() * 6_000) });
          expect(results).toHaveLength(starting.length);
          const snap = obj.snapshot();
          expect(snap.leases.length).toBeLessThanOrEqual(limits.maxConcurrentCalls);
          expect(snap.startsLastSecond).toBeLessThanOrEqual(limits.callsPerSecond);
          held.clear();
          for (const x of snap.leases) held.add(x.id);
        }
      });
      const before = await stub.snapshot();
      stub = await restarted(name, clock);
      expect(await stub.snapshot()).toEqual(before);
    }
    expect(seq).toBeGreaterThan(0);
  });
});

describe("leases kept by a limiter from before (one row each)", () => {
  it("are carried over with their starts and caller IDs: a start answers as before, an ended call counts in its number's health", async () => {
    const clock = { at: T0 + 500 };
    const { l, name } = await limiterOn(clock);
    await runInDurableObject(l, (_obj: WorkspaceLimiter, state: DurableObjectState) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE leases");
      sql.exec("DROP TABLE lease_releases");
      sql.exec(
        "CREATE TABLE leases (id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, expires_at INTEGER NOT NULL, started_at INTEGER, from_number TEXT) WITHOUT ROWID",
      );
      sql.exec(
        "INSERT INTO leases VALUES ('A:0:1', 'A', ?1, ?2, '+14155550101'), ('A:1:1', 'A', ?3, NULL, NULL), ('B:0:1', 'B', ?1, ?2, NULL)",
        T0 + 60_000,
        T0,
        T0 + 30_000,
      );
    });
    const again = await restarted(name, clock);
    expect(await again.startMany({ leaseIds: ["A:0:1", "B:0:1"], callsPerSecond: 10, callLeaseMs: 60_000 })).toEqual([
      { ok: true, at: T0, from: "+14155550101" },
      { ok: true, at: T0 },
    ]);
    expect((await again.snapshot()).leases).toEqual([
      { id: "A:0:1", batchId: "A", startedAt: T0, expiresAt: T0 + 60_000 },
      { id: "A:1:1", batchId: "A", startedAt: null, expiresAt: T0 + 30_000 },
      { id: "B:0:1", batchId: "B", startedAt: T0, expiresAt: T0 + 60_000 },
    ]);
    const limits = { callsPerSecond: 10, maxConcurrentCalls: 3 };
    expect((await again.reserve({ batchId: "C", leaseIds: ids("C", 1), batchCap: null, limits, reserveTtlMs: 60_000 })).granted).toEqual([]);
    await again.release(["A:0:1"], { ended: ["A:0:1"], answered: ["A:0:1"] });
    clock.at = T0 + 1000;
    expect((await again.numberStats(["+14155550101"]))[0]).toMatchObject({ attempts24h: 1, answered24h: 1 });
    expect((await (await restarted(name, clock)).snapshot()).leases.map((x) => x.id)).toEqual(["A:1:1", "B:0:1"]);
  });
});
