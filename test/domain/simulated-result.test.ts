import { describe, expect, it } from "vitest";
import { AgentResultSchema, resultProblem } from "../../src/domain/agent-result";
import { MIN_SIM_CALLBACK_MS, SIM_CALLBACK_AFTER_MS, type SimulatedCall, simulatedResult } from "../../src/domain/simulated";

const ENDED = Date.parse("2026-03-02T15:00:00Z");

function call(to: string, over: Partial<SimulatedCall> = {}): SimulatedCall {
  return { to, attempt: 1, variables: { first_name: "Ada", plan: "gold" }, endedAt: ENDED, timeScale: 1, ...over };
}

describe("simulatedResult", () => {
  it("reports a disposition for each answered last digit, and nothing for the rest", () => {
    const byDigit = Array.from({ length: 10 }, (_, d) => simulatedResult(call(`+1212555012${d}`))?.disposition ?? null);
    expect(byDigit).toEqual(["interested", "not_interested", "callback_requested", "do_not_call", "booked", null, null, null, null, null]);
  });

  it("is the same for the same number, attempt and variables, and varies its figures with the number", () => {
    expect(simulatedResult(call("+12125550120"))).toEqual(simulatedResult(call("+12125550120")));
    const budget = (to: string) => simulatedResult(call(to))?.data?.budget;
    expect(budget("+12125550120")).toEqual(expect.any(Number));
    expect(budget("+12125550130")).not.toBe(budget("+12125550120"));
    const slot = (to: string) => simulatedResult(call(to))?.data?.slot;
    expect(slot("+12125550124")).toMatch(/^(Monday|Tuesday|Wednesday|Thursday|Friday) \d{1,2}:00$/);
    expect(slot("+12125550134")).not.toBe(slot("+12125550124"));
  });

  it("gives every answered call a summary, a sentiment and a transcript whose first agent turn greets first_name", () => {
    for (let d = 0; d <= 4; d++) {
      const r = simulatedResult(call(`+1212555012${d}`))!;
      expect(r.attempt).toBe(1);
      expect(r.summary).toContain("Ada");
      expect(["positive", "neutral", "negative"]).toContain(r.sentiment);
      expect(r.transcript.length).toBeGreaterThanOrEqual(2);
      expect(r.transcript[0]).toEqual({ role: "agent", text: expect.stringMatching(/^Hi Ada,/) });
      expect(r.transcript.map((t) => t.role)).toContain("user");
    }
  });

  it("greets nobody by name when the row has no first_name", () => {
    for (const variables of [{}, { first_name: "  " }] as Record<string, string>[]) {
      const r = simulatedResult(call("+12125550120", { variables }))!;
      expect(r.transcript[0]!.text).toMatch(/^Hi there,/);
      expect(r.summary).toMatch(/^The person /);
    }
  });

  it("reads the budget as data on 0, the slot on 4, and opts out on 3", () => {
    expect(simulatedResult(call("+12125550120"))).toMatchObject({ sentiment: "positive", data: { budget: expect.any(Number) } });
    expect(simulatedResult(call("+12125550124"))).toMatchObject({ sentiment: "positive", data: { slot: expect.any(String) } });
    const optOut = simulatedResult(call("+12125550123"))!;
    expect(optOut).toMatchObject({ disposition: "do_not_call", optOut: true, sentiment: "negative" });
    for (const d of [0, 1, 2, 4]) expect(simulatedResult(call(`+1212555012${d}`))!.optOut).toBeUndefined();
  });

  it("asks on 2 to be called back two hours after the call's end, on the first attempt only", () => {
    const first = simulatedResult(call("+12125550122"))!;
    expect(first).toMatchObject({ disposition: "callback_requested", callbackAt: new Date(ENDED + SIM_CALLBACK_AFTER_MS).toISOString() });
    expect(SIM_CALLBACK_AFTER_MS).toBe(2 * 3_600_000);
    // The callback itself goes well: no second request, so a batch never loops on it.
    const second = simulatedResult(call("+12125550122", { attempt: 2 }))!;
    expect(second).toMatchObject({ attempt: 2, disposition: "booked" });
    expect(second.callbackAt).toBeUndefined();
    for (const d of [0, 1, 3, 4]) expect(simulatedResult(call(`+1212555012${d}`))!.callbackAt).toBeUndefined();
  });

  it("shortens the callback request by DEV_TIME_SCALE, but never below its floor", () => {
    const at = (timeScale: number) => Date.parse(simulatedResult(call("+12125550122", { timeScale }))!.callbackAt!) - ENDED;
    expect(at(60)).toBe(2 * 60_000);
    expect(at(3600)).toBe(MIN_SIM_CALLBACK_MS);
  });

  it("is always a result the agent route accepts (the contract's body, within its limits)", () => {
    for (const attempt of [1, 2]) {
      for (let d = 0; d <= 4; d++) {
        const r = simulatedResult(call(`+1212555012${d}`, { attempt, endedAt: Date.now() }))!;
        const parsed = AgentResultSchema.safeParse(JSON.parse(JSON.stringify(r)));
        expect(parsed.success).toBe(true);
        expect(resultProblem(parsed.data!, null, Date.now())).toBeNull();
      }
    }
  });
});
