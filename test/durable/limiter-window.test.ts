import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meteredSql } from "../../src/db/metered-sql";
import type { StartResult, WorkspaceLimiter } from "../../src/durable/workspace-limiter";
import { metricsSnapshot } from "../../src/lib/metrics";

/*
 * The rate window kept as recent start times in memory and a row per second (not a scan
 * of the second): still exact, and nothing forgotten across a restart.
 * "Exact" as the limiter tests define it: a start at `now` is admitted iff
 * fewer than callsPerSecond starts lie in (now − 1000, now].
 */
const T0 = 1_700_000_000_000;
const ids = (batch: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${batch}:${from + i}:1`);

type Stub = DurableObjectStub<WorkspaceLimiter>;

async function onClock(l: Stub, clock: { at: number }) {
  await runInDurableObject(l, (obj: WorkspaceLimiter) => {
    obj.ports = { now: () => clock.at };
  });
}

async function limiterOn(clock: { at: number }, name = `ws_window_${crypto.randomUUID()}`) {
  const l = env.WORKSPACE_LIMITER.getByName(name);
  await onClock(l, clock);
  return { l, name };
}

/** The same object after a restart (every object's memory gone), on the same clock. */
async function restarted(name: string, clock: { at: number }) {
  await abortAllDurableObjects();
  return (await limiterOn(clock, name)).l;
}

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("the rate window", () => {
  for (const perSecond of [1, 7, 50]) {
    it(`at ${perSecond}/s admits exactly the starts a sliding second has room for, and says when the next fits`, async () => {
      const clock = { at: T0 };
      const { l } = await limiterOn(clock);
      const limits = { callsPerSecond: perSecond, maxConcurrentCalls: 10_000 };
      const next = random(perSecond);
      const admitted: number[] = [];
      // Called in the object (no RPC per step), so hundreds of rounds take milliseconds.
      await runInDurableObject(l, async (obj: WorkspaceLimiter) => {
        let seq = 0;
        for (let round = 0; round < 600; round++) {
          clock.at += Math.floor(next() ** 3 * 400); // bursts and gaps, often several calls in one millisecond
          const leaseIds = ids("A", 1 + Math.floor(next() * Math.min(6, 2 * perSecond)), seq);
          seq += leaseIds.length;
          expect((await obj.reserve({ batchId: "A", leaseIds, batchCap: null, limits, reserveTtlMs: 600_000 })).granted).toEqual(leaseIds);
          const results: StartResult[] = await obj.startMany({ leaseIds, callsPerSecond: perSecond, callLeaseMs: 600_000 });
          // Refused ones go back (as a batch hands them back), so the next round's reservations fit.
          obj.release(leaseIds.filter((_, i) => !results[i]!.ok));
          for (const r of results) {
            const inWindow = admitted.filter((t) => t > clock.at - 1000);
            if (inWindow.length < perSecond) {
              expect(r).toEqual({ ok: true, at: clock.at });
              admitted.push(clock.at);
            } else {
              expect(r).toEqual({ ok: false, waitMs: inWindow[inWindow.length - perSecond]! + 1000 - clock.at + 1 });
            }
          }
        }
      });
      // No window of 1,000 ms, wherever it lies, holds more than perSecond starts.
      for (const [i, t] of admitted.entries()) expect(admitted.slice(i).filter((u) => u < t + 1000).length).toBeLessThanOrEqual(perSecond);
      expect(admitted.length).toBeGreaterThan(perSecond * 5);
    });
  }

  it("a restart forgets no start: a full second stays full, a redelivered start answers as before, leases still count", async () => {
    const clock = { at: T0 };
    const { l, name } = await limiterOn(clock);
    const limits = { callsPerSecond: 3, maxConcurrentCalls: 5 };
    const { granted } = await l.reserve({ batchId: "A", leaseIds: ids("A", 5), batchCap: null, limits, reserveTtlMs: 60_000 });
    expect(granted).toHaveLength(5);
    const start = { callsPerSecond: 3, callLeaseMs: 60_000 };
    expect(await l.startMany({ leaseIds: granted.slice(0, 2), ...start })).toEqual([
      { ok: true, at: T0 },
      { ok: true, at: T0 },
    ]);
    clock.at = T0 + 400;
    expect(await l.startMany({ leaseIds: granted.slice(2, 4), ...start })).toEqual([
      { ok: true, at: T0 + 400 },
      { ok: false, waitMs: 601 },
    ]);

    const again = await restarted(name, clock);
    expect(await again.startMany({ leaseIds: granted.slice(2, 4), ...start })).toEqual([
      { ok: true, at: T0 + 400 },
      { ok: false, waitMs: 601 },
    ]);
    expect((await again.snapshot()).startsLastSecond).toBe(3);
    // Five leases still held: no sixth, in this batch or another.
    expect((await again.reserve({ batchId: "B", leaseIds: ids("B", 1), batchCap: null, limits, reserveTtlMs: 60_000 })).granted).toEqual([]);
    await again.release([granted[0]!]);
    clock.at = T0 + 1000;
    expect(await again.startMany({ leaseIds: [granted[3]!], ...start })).toEqual([{ ok: true, at: T0 + 1000 }]);
    expect((await again.reserve({ batchId: "B", leaseIds: ids("B", 1), batchCap: null, limits, reserveTtlMs: 60_000 })).granted).toEqual(ids("B", 1));
  });

  it("keeps a full second across a restart after its rows (one per second, reused) have gone round", async () => {
    const clock = { at: T0 };
    const { l, name } = await limiterOn(clock);
    const limits = { callsPerSecond: 1000, maxConcurrentCalls: 10_000 };
    // 4,600 calls of one start each, one a millisecond: more seconds than the window keeps rows for.
    await runInDurableObject(l, async (obj: WorkspaceLimiter) => {
      for (let i = 0; i < 4600; i++) {
        clock.at = T0 + i;
        await obj.reserve({ batchId: "A", leaseIds: ids("A", 1, i), batchCap: null, limits, reserveTtlMs: 600_000 });
        expect(await obj.startMany({ leaseIds: ids("A", 1, i), callsPerSecond: 1000, callLeaseMs: 600_000 })).toEqual([{ ok: true, at: T0 + i }]);
      }
    });
    await l.reserve({ batchId: "A", leaseIds: ids("A", 1, 4600), batchCap: null, limits, reserveTtlMs: 600_000 });
    const refused = [{ ok: false, waitMs: 2 }]; // the 1,000th most recent start was at T0 + 3,600
    expect(await l.startMany({ leaseIds: ids("A", 1, 4600), callsPerSecond: 1000, callLeaseMs: 600_000 })).toEqual(refused);
    const again = await restarted(name, clock);
    expect((await again.snapshot()).startsLastSecond).toBe(1000);
    expect(await again.startMany({ leaseIds: ids("A", 1, 4600), callsPerSecond: 1000, callLeaseMs: 600_000 })).toEqual(refused);
    clock.at = T0 + 4600;
    expect(await again.startMany({ leaseIds: ids("A", 1, 4600), callsPerSecond: 1000, callLeaseMs: 600_000 })).toEqual([{ ok: true, at: T0 + 4600 }]);
  });

  it("carries over what a limiter from before kept: its leases, and its starts of the last second", async () => {
    const clock = { at: T0 + 500 };
    const { l, name } = await limiterOn(clock);
    await runInDurableObject(l, (_obj: WorkspaceLimiter, state: DurableObjectState) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE leases");
      sql.exec("DROP TABLE start_seconds");
      sql.exec("CREATE TABLE leases (id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, expires_at INTEGER NOT NULL, started_at INTEGER)");
      sql.exec("CREATE INDEX leases_batch ON leases(batch_id)");
      sql.exec("CREATE INDEX leases_expiry ON leases(expires_at)");
      sql.exec("CREATE TABLE starts (at INTEGER NOT NULL)");
      sql.exec("CREATE INDEX starts_at ON starts(at)");
      sql.exec("INSERT INTO leases VALUES ('A:0:1', 'A', ?1, ?2), ('A:1:1', 'A', ?1, ?2), ('A:2:1', 'A', ?1, NULL)", T0 + 60_000, T0);
      sql.exec("INSERT INTO starts VALUES (?1), (?1)", T0);
    });
    const again = await restarted(name, clock);
    const start = { callsPerSecond: 2, callLeaseMs: 60_000 };
    expect(await again.startMany({ leaseIds: ["A:0:1", "A:2:1"], ...start })).toEqual([
      { ok: true, at: T0 },
      { ok: false, waitMs: 501 },
    ]);
    const limits = { callsPerSecond: 2, maxConcurrentCalls: 3 };
    expect((await again.reserve({ batchId: "B", leaseIds: ids("B", 1), batchCap: null, limits, reserveTtlMs: 60_000 })).granted).toEqual([]);
    expect((await again.snapshot()).leases.map((x) => [x.id, x.startedAt])).toEqual([
      ["A:0:1", T0],
      ["A:1:1", T0],
      ["A:2:1", null],
    ]);
    await runInDurableObject(again, (_obj: WorkspaceLimiter, state: DurableObjectState) => {
      const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE tbl_name IN ('starts', 'leases') ORDER BY name").toArray();
      expect(tables.map((t) => t.name)).toEqual(["leases"]);
    });
  });

  it("with METRICS on, counts the rows each call's SQL read and wrote as Cloudflare bills them", async () => {
    const { l } = await limiterOn({ at: T0 });
    await runInDurableObject(l, (_obj: WorkspaceLimiter, state: DurableObjectState) => {
      const name = `t${crypto.randomUUID().slice(0, 8)}`;
      state.storage.sql.exec(`CREATE TABLE ${name} (k INTEGER PRIMARY KEY, v TEXT)`);
      const { sql, flush } = meteredSql(state.storage.sql, name, true);
      const insert = sql.exec(`INSERT INTO ${name} VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
      const select = sql.exec(`SELECT v FROM ${name} WHERE k = 2`);
      expect(select.one().v).toBe("b");
      flush();
      const counters = metricsSnapshot().counters;
      expect(insert.rowsWritten).toBe(3);
      expect(counters[`${name}.rowsWritten`]).toBe(insert.rowsWritten + select.rowsWritten);
      expect(counters[`${name}.rowsRead`]).toBe(insert.rowsRead + select.rowsRead);
      expect(select.rowsRead).toBeGreaterThan(0);
    });
  });
});
