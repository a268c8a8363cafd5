import { describe, expect, it } from "vitest";
import { callerIdFrom, callerIdText, fmtRate, namingPoolNumbers, parseNumbers } from "../../public/js/agent-pool-text.js";

describe("the agent form's pool of numbers", () => {
  it("reads one number per line (or comma), dropping blanks and the punctuation people type after a +", () => {
    expect(parseNumbers(" +1 (415) 555-0100 \n\n+1.646.555.0101, +442071838750;4155550102\n")).toEqual([
      "+14155550100",
      "+16465550101",
      "+442071838750",
      "4155550102", // no +: sent as typed, for the API to name
    ]);
    expect(parseNumbers("  \n ")).toEqual([]);
  });

  it("reads the caller-id rules: none when nothing is set, round-robin when only a limit is", () => {
    expect(callerIdFrom({ strategy: "", callsPerSecond: "", maxCallsPerDay: "" })).toBeNull();
    expect(callerIdFrom({ strategy: "local", callsPerSecond: "", maxCallsPerDay: "" })).toEqual({ strategy: "local", perNumber: { callsPerSecond: 1 } });
    expect(callerIdFrom({ strategy: "", callsPerSecond: " 2 ", maxCallsPerDay: "150" })).toEqual({
      strategy: "round_robin",
      perNumber: { callsPerSecond: 2, maxCallsPerDay: 150 },
    });
  });

  it("says the rules in a sentence", () => {
    expect(callerIdText(null)).toContain("no per-number limit");
    expect(callerIdText({ strategy: "local", perNumber: { callsPerSecond: 1, maxCallsPerDay: 1200 } })).toBe(
      "Caller ID: a number with the person's area code, else their country, else any; each number starts at most 1 call a second and 1,200 a day.",
    );
    expect(callerIdText({ strategy: "round_robin", perNumber: { callsPerSecond: 3 } })).toContain("at most 3 calls a second.");
  });

  it("writes answer rates as percentages, and none as a dash", () => {
    expect(fmtRate(0.4125)).toBe("41.3%");
    expect(fmtRate(1)).toBe("100.0%");
    expect(fmtRate(null)).toBe("—");
  });

  it("names a refused number by what was typed, not by its index", () => {
    const sent = ["+14155550100", "4155550101"];
    expect(namingPoolNumbers("The request is invalid: fromNumbers.1: must be a valid number in E.164.", sent)).toBe(
      'The request is invalid: From number "4155550101": must be a valid number in E.164.',
    );
    expect(namingPoolNumbers("fromNumbers.7: x", sent)).toBe("fromNumbers.7: x");
  });
});
