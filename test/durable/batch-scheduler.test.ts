import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchScheduler } from "../../src/durable/batch-scheduler";

describe("BatchScheduler", () => {
  it("arms once, records the batch as due when its alarm fires, and a second alarm changes nothing", async () => {
    const stub = env.BATCH_SCHEDULER.getByName("batch_test_arm");
    const dueAt = Date.now() + 60_000;
    await stub.arm({ batchId: "batch_test_arm", workspaceId: "ws_x", dueAt });
    await stub.arm({ batchId: "batch_test_arm", workspaceId: "ws_x", dueAt: dueAt + 5_000 });
    await runInDurableObject(stub, async (_o: BatchScheduler, state) => {
      expect(await state.storage.getAlarm()).toBe(dueAt);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const due = await stub.state();
    expect(due).toMatchObject({ phase: "due", dueAt, dueReachedAt: expect.any(Number) });
    await runInDurableObject(stub, (obj: BatchScheduler) => obj.alarm());
    expect(await stub.state()).toEqual(due);
  });

  it("discard forgets the batch and its alarm", async () => {
    const stub = env.BATCH_SCHEDULER.getByName("batch_test_discard");
    await stub.arm({ batchId: "batch_test_discard", workspaceId: "ws_x", dueAt: Date.now() + 60_000 });
    await stub.discard();
    expect(await stub.state()).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});
