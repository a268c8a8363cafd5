import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { sleep } from "../../public/js/batch/sleep.js";

describe("the console's sleep", () => {
  it("resolves after its time and leaves no listener on the page's signal", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 5; i++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("resolves at once when the signal aborts, and leaves no listener either", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
