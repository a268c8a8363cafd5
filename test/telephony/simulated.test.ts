import { describe, expect, it } from "vitest";
import { SimulatedProvider } from "../../src/telephony/simulated";
import type { SimulatedCarrier } from "../../src/telephony/simulated-carrier";

/** A stand-in for the carrier namespace: one call log per batch, as the SimulatedCarrier keeps. */
function carriers(placed: Record<string, Record<string, string>>) {
  const asked: string[] = [];
  const ns = {
    getByName: (batchId: string) => ({
      placement: async (seq: number, attempt: number) => {
        asked.push(`${batchId}:${seq}:${attempt}`);
        return placed[batchId]?.[`${seq}:${attempt}`] ?? null;
      },
    }),
  };
  return { ns: ns as unknown as DurableObjectNamespace<SimulatedCarrier>, asked };
}

describe("SimulatedProvider.findLostDial", () => {
  const dial = { batchId: "batch_abc", seq: 3, attempt: 2, to: "+12125551001", from: null, claimedAt: 0 };

  it("asks the batch's carrier for the attempt, and believes it either way", async () => {
    const { ns, asked } = carriers({ batch_abc: { "3:2": "sim_abc_3_2" } });
    const provider = new SimulatedProvider(ns, 0);
    expect(await provider.findLostDial(dial)).toEqual({ kind: "placed", providerCallId: "sim_abc_3_2" });
    expect(await provider.findLostDial({ ...dial, attempt: 1 })).toEqual({ kind: "not_placed" });
    expect(await provider.findLostDial({ ...dial, batchId: "batch_other" })).toEqual({ kind: "not_placed" });
    expect(asked).toEqual(["batch_abc:3:2", "batch_abc:3:1", "batch_other:3:2"]);
  });
});
