import { describe, expect, it } from "vitest";
import { providerFor } from "../../src/telephony";
import type { DialRequest } from "../../src/telephony/provider";
import { SimulatedProvider } from "../../src/telephony/simulated";
import type { SimPlacement, SimulatedCarrier } from "../../src/telephony/simulated-carrier";

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

describe("SimulatedProvider.dial", () => {
  /** A carrier namespace that keeps what each placeMany was given, and answers with one id per placement. */
  function placing() {
    const placed: SimPlacement[][] = [];
    const ns = {
      getByName: () => ({
        placeMany: async (ps: SimPlacement[]) => {
          placed.push(ps);
          return ps.map((p) => `sim_${p.seq}_${p.attempt}`);
        },
      }),
    };
    return { ns: ns as unknown as DurableObjectNamespace<SimulatedCarrier>, placed };
  }
  const req = (seq: number): DialRequest => ({
    callId: `call_abc_${seq}`,
    batchId: "batch_abc",
    seq,
    attempt: 1,
    to: `+1212555010${seq}`,
    from: null,
    agentId: "agent_x",
    voiceUrl: null,
    dialUrl: null,
    variables: { first_name: `P${seq}`, plan: "gold" },
    record: false,
  });

  it("hands the carrier the dial's variables and asks for results when SIM_RESULTS is on (the default)", async () => {
    const { ns, placed } = placing();
    const provider = providerFor({ SIM_CARRIER: ns, SIM_CALL_SECONDS: "2" } as unknown as Env, "simulated");
    expect(await Promise.all([provider.dial(req(0)), provider.dial(req(1))])).toEqual([
      { kind: "placed", providerCallId: "sim_0_1" },
      { kind: "placed", providerCallId: "sim_1_1" },
    ]);
    // Dials of one turn go together, each with what its result needs.
    expect(placed).toEqual([
      [
        { batchId: "batch_abc", seq: 0, attempt: 1, to: "+12125550100", callSeconds: 2, results: true, variables: { first_name: "P0", plan: "gold" } },
        { batchId: "batch_abc", seq: 1, attempt: 1, to: "+12125550101", callSeconds: 2, results: true, variables: { first_name: "P1", plan: "gold" } },
      ],
    ]);
  });

  it("asks for no results, and sends no variables, when SIM_RESULTS is off", async () => {
    const { ns, placed } = placing();
    await providerFor({ SIM_CARRIER: ns, SIM_CALL_SECONDS: "2", SIM_RESULTS: "off" } as unknown as Env, "simulated").dial(req(0));
    expect(placed).toEqual([[{ batchId: "batch_abc", seq: 0, attempt: 1, to: "+12125550100", callSeconds: 2 }]]);
  });
});
