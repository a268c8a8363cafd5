import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDnc, addDncSources, addDncWithSource, dncListPages, dncVersion, removeDnc } from "../../src/db/dnc.repo";
import { newWorkspace } from "../helpers";

const at = new Date().toISOString();
/** n distinct E.164 numbers from +1212555`from`. */
const numbers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `+1212555${String(from + i).padStart(4, "0")}`);
/** Every number the pages hold, sorted. */
const numbersIn = (list: { pages: string[] } | null) => (list?.pages ?? []).flatMap((p) => p.split(",")).sort();

describe("dncListPages", () => {
  it("reads the whole list, a page per statement by key, and only the workspace's own numbers", async () => {
    const [ws, other] = await Promise.all([newWorkspace(), newWorkspace()]);
    const listed = numbers(23);
    await addDnc(env.DB, ws.workspaceId, listed, at);
    await addDncWithSource(env.DB, ws.workspaceId, "+13125550100", { batchId: "batch_1", callId: "call_1", at });
    await addDnc(env.DB, other.workspaceId, numbers(5, 100), at);
    const all = [...listed, "+13125550100"].sort();
    // Pages of 5: 24 numbers take five pages, the last one short.
    const byFive = await dncListPages(env.DB, ws.workspaceId, 1000, 5);
    expect(byFive?.pages.map((p) => p.split(",").length)).toEqual([5, 5, 5, 5, 4]);
    expect(numbersIn(byFive)).toEqual(all);
    expect(byFive?.count).toBe(24);
    // A page size that divides the list exactly: the read after the last page finds nothing.
    const byEight = await dncListPages(env.DB, ws.workspaceId, 1000, 8);
    expect({ pages: byEight?.pages.length, count: byEight?.count }).toEqual({ pages: 3, count: 24 });
    expect(numbersIn(await dncListPages(env.DB, ws.workspaceId, 1000))).toEqual(all);
    expect(numbersIn(await dncListPages(env.DB, other.workspaceId, 1000, 2))).toEqual(numbers(5, 100));
  });

  it("is no page for an empty list, and null for a list longer than the most asked for", async () => {
    const ws = await newWorkspace();
    expect(await dncListPages(env.DB, ws.workspaceId, 10)).toEqual({ pages: [], count: 0 });
    await addDnc(env.DB, ws.workspaceId, numbers(10), at);
    expect((await dncListPages(env.DB, ws.workspaceId, 10, 3))?.count).toBe(10);
    expect((await dncListPages(env.DB, ws.workspaceId, 10))?.count).toBe(10);
    await addDnc(env.DB, ws.workspaceId, numbers(1, 10), at);
    expect(await dncListPages(env.DB, ws.workspaceId, 10, 3)).toBeNull();
    expect(await dncListPages(env.DB, ws.workspaceId, 10)).toBeNull();
    expect((await dncListPages(env.DB, ws.workspaceId, 11))?.count).toBe(11);
  });
});

describe("dncVersion", () => {
  it("moves on with each statement that changes the workspace's list, and with nothing else", async () => {
    const [ws, other] = await Promise.all([newWorkspace(), newWorkspace()]);
    const version = () => dncVersion(env.DB, ws.workspaceId);
    expect(await version()).toBe(0);
    expect(await addDnc(env.DB, ws.workspaceId, numbers(3), at)).toBe(3);
    expect(await version()).toBe(1);
    // Numbers already listed: no change, no new version.
    expect(await addDnc(env.DB, ws.workspaceId, numbers(2), at)).toBe(0);
    expect(await version()).toBe(1);
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+13125550100", { batchId: "batch_1", callId: "call_1", at })).toBe(true);
    expect(await addDncWithSource(env.DB, ws.workspaceId, "+13125550100", { batchId: "batch_2", callId: "call_2", at })).toBe(false);
    expect(await version()).toBe(2);
    const source = { batchId: "batch_1", callId: "call_3", at };
    expect(await addDncSources(env.DB, ws.workspaceId, [{ phone: "+13125550101", source }])).toBe(1);
    expect(await addDncSources(env.DB, ws.workspaceId, [{ phone: "+13125550101", source }])).toBe(0);
    expect(await version()).toBe(3);
    expect(await removeDnc(env.DB, ws.workspaceId, "+13125550101")).toBe(true);
    expect(await removeDnc(env.DB, ws.workspaceId, "+13125550101")).toBe(false);
    expect(await version()).toBe(4);
    // Another workspace's list is its own.
    expect(await dncVersion(env.DB, other.workspaceId)).toBe(0);
    expect(await dncVersion(env.DB, "ws_none")).toBeNull();
  });
});
