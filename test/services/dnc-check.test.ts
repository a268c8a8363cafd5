import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDnc, addDncSources, removeDnc } from "../../src/db/dnc.repo";
import { DNC_IN_MEMORY_MAX, DncCheck, dncListBudget, LOOKUP_ROWS } from "../../src/services/dnc-check";
import { scanFile } from "../../src/services/intake-scan";
import { failingDb, newWorkspace } from "../helpers";

const at = new Date().toISOString();
/** The i-th number of these files: +1 212 200 0000 on. */
const nth = (i: number) => `+1212${2000000 + i}`;
const fileOf = (text: string) => new File([text], "people.csv", { type: "text/csv" });
const csvOf = (rows: number) => fileOf(`phone_number\n${Array.from({ length: rows }, (_, i) => nth(i)).join("\n")}\n`);
const sorted = (seqs: number[]) => [...seqs].sort((a, b) => a - b);
/** n numbers no file here holds: a long list's padding. */
const padding = (n: number) => Array.from({ length: n }, (_, i) => `+1312${2000000 + i}`);

/** Counts the statements of each kind the check sends. */
function countingDb(counts: { pages: number; lookups: number }): D1Database {
  return failingDb(env.DB, (sql) => {
    if (sql.includes("group_concat(phone_number")) counts.pages++;
    if (sql.includes("phone_number IN")) counts.lookups++;
    return false;
  });
}

describe("scanFile's do-not-call check", () => {
  it("suppresses the same rows whether the list is read whole or looked up, across lookups", async () => {
    const rows = 2 * LOOKUP_ROWS + 1000; // three lookups
    const file = csvOf(rows);
    const every3rd = Array.from({ length: Math.ceil(rows / 3) }, (_, k) => nth(3 * k));
    const want = Array.from({ length: every3rd.length }, (_, k) => 3 * k);
    const [inMemory, byLookup, other] = await Promise.all([newWorkspace(), newWorkspace(), newWorkspace()]);
    await addDnc(env.DB, inMemory.workspaceId, every3rd, at);
    // The same numbers and more than the file's budget of others: too long to read whole.
    const budget = dncListBudget(file.size);
    await addDnc(env.DB, byLookup.workspaceId, [...every3rd, ...padding(budget + 1)], at);
    await addDnc(env.DB, other.workspaceId, padding(10), at);
    expect(every3rd.length).toBeLessThanOrEqual(budget);

    const whole = { pages: 0, lookups: 0 };
    const a = await scanFile({ ...env, DB: countingDb(whole) }, file, "US", inMemory.workspaceId, false);
    expect(sorted(a.suppressed)).toEqual(want);
    expect(a.totalCalls).toBe(rows - want.length);
    expect(whole).toEqual({ pages: 1, lookups: 0 });
    const looked = { pages: 0, lookups: 0 };
    const b = await scanFile({ ...env, DB: countingDb(looked) }, file, "US", byLookup.workspaceId, false);
    expect(sorted(b.suppressed)).toEqual(want);
    expect(b.totalCalls).toBe(rows - want.length);
    expect(looked.lookups).toBe(3);
    // Numbers on another workspace's list are not this one's.
    const c = await scanFile(env, file, "US", other.workspaceId, false);
    expect(c.suppressed).toEqual([]);
    expect(c.totalCalls).toBe(rows);
  });

  it("leaves out a row with several numbers only when all are listed", async () => {
    const ws = await newWorkspace();
    await addDnc(env.DB, ws.workspaceId, [nth(0), nth(1), nth(2), nth(4)], at);
    const file = fileOf(`phone_number,phone_number_2,note\n${nth(0)},${nth(1)},${"x".repeat(200)}\n${nth(2)},${nth(3)},\n${nth(4)},,\n${nth(5)},${nth(0)},\n`);
    expect(dncListBudget(file.size)).toBeGreaterThanOrEqual(4); // read whole
    const scanned = await scanFile(env, file, "US", ws.workspaceId, false);
    expect(sorted(scanned.suppressed)).toEqual([0, 2]);
    expect(scanned.totalCalls).toBe(2);
  });

  it("looks a small file's numbers up rather than read a longer list whole", async () => {
    const ws = await newWorkspace();
    const file = csvOf(3);
    await addDnc(env.DB, ws.workspaceId, [nth(1), ...padding(dncListBudget(file.size) + 1)], at);
    const counts = { pages: 0, lookups: 0 };
    const scanned = await scanFile({ ...env, DB: countingDb(counts) }, file, "US", ws.workspaceId, false);
    expect(scanned.suppressed).toEqual([1]);
    expect(scanned.totalCalls).toBe(2);
    // One page of budget + 1 numbers says the list is longer; then one lookup.
    expect(counts).toEqual({ pages: 1, lookups: 1 });
  });
});

describe("the list held between scans (dnc-list-cache)", () => {
  it("reads an unchanged list once, and again after every kind of change to it", async () => {
    const ws = await newWorkspace();
    await addDnc(env.DB, ws.workspaceId, [nth(0), nth(2)], at);
    const file = csvOf(6);
    const scan = async () => {
      const counts = { pages: 0, lookups: 0 };
      const scanned = await scanFile({ ...env, DB: countingDb(counts) }, file, "US", ws.workspaceId, false);
      return { suppressed: sorted(scanned.suppressed), pages: counts.pages };
    };
    expect(await scan()).toEqual({ suppressed: [0, 2], pages: 1 });
    // Unchanged: no page read, the same answer.
    expect(await scan()).toEqual({ suppressed: [0, 2], pages: 0 });
    // Re-adding listed numbers changes nothing, so the held list stays good.
    await addDnc(env.DB, ws.workspaceId, [nth(0)], at);
    expect(await scan()).toEqual({ suppressed: [0, 2], pages: 0 });
    await addDnc(env.DB, ws.workspaceId, [nth(4)], at);
    expect(await scan()).toEqual({ suppressed: [0, 2, 4], pages: 1 });
    await removeDnc(env.DB, ws.workspaceId, nth(0));
    expect(await scan()).toEqual({ suppressed: [2, 4], pages: 1 });
    // An opt-out heard on a call.
    await addDncSources(env.DB, ws.workspaceId, [{ phone: nth(5), source: { batchId: "batch_1", callId: "call_1", at } }]);
    expect(await scan()).toEqual({ suppressed: [2, 4, 5], pages: 1 });
    expect(await scan()).toEqual({ suppressed: [2, 4, 5], pages: 0 });
  });

  it("never holds one workspace's list for another", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    await addDnc(env.DB, a.workspaceId, [nth(1)], at);
    await addDnc(env.DB, b.workspaceId, [nth(3)], at);
    const file = csvOf(4);
    expect((await scanFile(env, file, "US", a.workspaceId, false)).suppressed).toEqual([1]);
    expect((await scanFile(env, file, "US", b.workspaceId, false)).suppressed).toEqual([3]);
    expect((await scanFile(env, file, "US", a.workspaceId, false)).suppressed).toEqual([1]);
  });
});

describe("scanFile when the do-not-call list cannot be read", () => {
  it("fails the scan, with rows to check or with none", async () => {
    const ws = await newWorkspace();
    await addDnc(env.DB, ws.workspaceId, [nth(1)], at);
    const broken = { ...env, DB: failingDb(env.DB, (sql) => sql.includes("group_concat(phone_number")) };
    await expect(scanFile(broken, csvOf(LOOKUP_ROWS + 10), "US", ws.workspaceId, false)).rejects.toThrow("injected D1 failure");
    // A file of a header only checks no row: the failed read still fails the scan.
    await expect(scanFile(broken, fileOf("phone_number\n"), "US", ws.workspaceId, false)).rejects.toThrow("injected D1 failure");
  });

  it("fails the scan when a lookup fails part-way, sending no lookup after it", async () => {
    const ws = await newWorkspace();
    const file = csvOf(3 * LOOKUP_ROWS + 10);
    await addDnc(env.DB, ws.workspaceId, [nth(1), ...padding(dncListBudget(file.size) + 1)], at);
    let lookups = 0;
    const broken = { ...env, DB: failingDb(env.DB, (sql) => sql.includes("phone_number IN") && ++lookups === 2) };
    await expect(scanFile(broken, file, "US", ws.workspaceId, false)).rejects.toThrow("injected D1 failure");
    expect(lookups).toBe(2);
  });
});

describe("DncCheck", () => {
  it("holds rows read before the list arrives and judges them once it has", async () => {
    const ws = await newWorkspace();
    await addDnc(env.DB, ws.workspaceId, [nth(0), nth(2), nth(3)], at);
    const check = new DncCheck(env.DB, ws.workspaceId, 100);
    // Handed before the list's read can have answered: kept, not judged, and the scan not held up.
    expect(check.onRow(0, nth(0), null)).toBeUndefined();
    expect(check.onRow(1, nth(1), null)).toBeUndefined();
    expect(check.onRow(2, nth(2), [nth(2), nth(3)])).toBeUndefined();
    expect(check.onRow(3, nth(3), [nth(3), nth(4)])).toBeUndefined();
    expect(sorted(await check.finish())).toEqual([0, 2]);
  });
});

describe("dncListBudget", () => {
  it("is twice the rows a file of that size can hold, at most DNC_IN_MEMORY_MAX", () => {
    expect(dncListBudget(0)).toBe(0);
    expect(dncListBudget(110)).toBe(20);
    expect(dncListBudget(111)).toBe(22);
    expect(dncListBudget(2_600_000)).toBe(DNC_IN_MEMORY_MAX);
  });
});
