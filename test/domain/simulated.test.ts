import { describe, expect, it } from "vitest";
import { simulatedOutcome } from "../../src/domain/simulated";

describe("simulatedOutcome", () => {
  it("decides by the number's last digit, as the contract says", () => {
    const byDigit = Array.from({ length: 10 }, (_, d) => simulatedOutcome(`+1212555010${d}`));
    expect(byDigit).toEqual(["answered", "answered", "answered", "answered", "answered", "voicemail", "no_answer", "no_answer", "busy", "failed"]);
  });
});
