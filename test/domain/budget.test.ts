import { describe, expect, it } from "vitest";
import { pausedText } from "../../public/js/batch/safety-text.js";
import { parseBatchOptions } from "../../src/domain/batch-options";
import { MaxMinutesSchema, parseSafetyOptions } from "../../src/domain/batch-safety";
import { billedMinutes, estimateFor, estimateRates, HISTORY_MIN_ATTEMPTS, overBudget } from "../../src/domain/budget";

const NOW = new Date("2026-03-01T12:00:00Z");
const callbacks = (maxAttempts: number) => ({ enabled: true, maxAttempts, gaps: [{ days: 0, hours: 1, minutes: 0 }] });

describe("billed minutes", () => {
  it("round each attempt's duration up to whole minutes, and bill nothing without one", () => {
    expect([0, 0.2, 1, 59, 60, 60.01, 61, 119.5, 120, 121, 3600].map(billedMinutes)).toEqual([0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 60]);
    expect(billedMinutes(null)).toBe(0);
    expect(billedMinutes(undefined)).toBe(0);
    expect(billedMinutes(-5)).toBe(0);
  });

  it("reach the budget at the cap, not before; no budget is never reached", () => {
    expect(overBudget(10, 9)).toBe(false);
    expect(overBudget(10, 10)).toBe(true);
    expect(overBudget(10, 11)).toBe(true);
    expect(overBudget(null, 1_000_000)).toBe(false);
    expect(overBudget(undefined, 5)).toBe(false);
  });
});

describe("maxMinutes", () => {
  it("is read from the form as a whole number from 1 to 1,000,000, absent or empty meaning no budget", () => {
    expect(parseSafetyOptions({ maxMinutes: "500" })).toMatchObject({ ok: true, value: { maxMinutes: 500 } });
    expect(parseSafetyOptions({ maxMinutes: " 1000000 " })).toMatchObject({ ok: true, value: { maxMinutes: 1_000_000 } });
    expect(parseSafetyOptions({ maxMinutes: "" })).toMatchObject({ ok: true, value: { maxMinutes: null } });
    expect(parseSafetyOptions({})).toMatchObject({ ok: true, value: { maxMinutes: null, start: true, stopRules: null, preDial: null } });
    const upload = parseBatchOptions({ agentId: "a", maxMinutes: "90" }, NOW);
    expect(upload.ok && upload.value.maxMinutes).toBe(90);
  });

  it("refuses anything else with a sentence naming the rule, never rounding", () => {
    for (const bad of ["0", "-1", "1.5", "abc", "1000001", "1e3", "+5", "0x10", "99999999999"]) {
      const r = parseBatchOptions({ agentId: "a", maxMinutes: bad }, NOW);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe("validation_failed");
        expect(r.error.message, bad).toMatch(/^maxMinutes must be a whole number of minutes from 1 to 1,000,000/);
      }
    }
  });

  it("as JSON (PATCH): the same range, with a sentence for each wrong kind", () => {
    expect(MaxMinutesSchema.safeParse(1).success).toBe(true);
    expect(MaxMinutesSchema.safeParse(1_000_000).success).toBe(true);
    for (const bad of [0, -1, 1.5, "abc", 1_000_001, "60"]) {
      const r = MaxMinutesSchema.safeParse(bad);
      expect(r.success, String(bad)).toBe(false);
      expect(r.error?.issues[0]?.message, String(bad)).toMatch(/whole number of minutes from 1 to 1,000,000/);
    }
  });
});

describe("the estimate", () => {
  it("without history is the stated default: 1 to the smart callbacks' attempts, 1–3 minutes each", () => {
    const rates = estimateRates([], callbacks(3));
    expect(rates).toMatchObject({ attemptsPerCall: { low: 1, high: 3 }, minutesPerAttempt: { low: 1, high: 3 }, basis: "default", basedOnAttempts: 0 });
    expect(rates.note).toMatch(/^A default: this agent has 0 finished attempts/);
    expect(estimateFor(100, rates)).toMatchObject({ calls: 100, minutes: { low: 100, high: 900 } });
    // No smart callbacks: one attempt a call.
    expect(estimateFor(10, estimateRates([], null))).toMatchObject({ attemptsPerCall: { low: 1, high: 1 }, minutes: { low: 10, high: 30 } });
    expect(estimateRates([], { ...callbacks(4), enabled: false }).attemptsPerCall).toEqual({ low: 1, high: 1 });
  });

  it(`stays the default below ${HISTORY_MIN_ATTEMPTS} finished attempts, and says how many there were`, () => {
    const rates = estimateRates([{ attemptsEnded: 19, billedMinutes: 40, callsDone: 19 }], null);
    expect(rates).toMatchObject({ basis: "default", basedOnAttempts: 19 });
    expect(rates.note).toContain("19 finished attempts");
  });

  it("from history: the pooled rates, widened to the lowest and highest batch big enough to say", () => {
    const history = [
      { attemptsEnded: 40, billedMinutes: 20, callsDone: 20 }, // 0.5 min per attempt, 2 attempts per call
      { attemptsEnded: 60, billedMinutes: 120, callsDone: 60 }, // 2 min per attempt, 1 attempt per call
      { attemptsEnded: 4, billedMinutes: 40, callsDone: 1 }, // too small to widen the range on its own
    ];
    const rates = estimateRates(history, callbacks(3));
    expect(rates.basis).toBe("agent_history");
    expect(rates.basedOnAttempts).toBe(104);
    // Pooled: 180 / 104 = 1.73 minutes per attempt, 104 / 81 = 1.28 attempts per call.
    expect(rates.minutesPerAttempt).toEqual({ low: 0.5, high: 2 });
    expect(rates.attemptsPerCall).toEqual({ low: 1, high: 2 });
    expect(rates.note).toMatch(/^From this agent's last 3 batches \(104 finished attempts\)/);
    expect(estimateFor(10, rates).minutes).toEqual({ low: 5, high: 40 });
  });

  it("keeps attempts per call between 1 and what the batch's callbacks allow", () => {
    const rates = estimateRates([{ attemptsEnded: 100, billedMinutes: 100, callsDone: 10 }], null);
    // 10 attempts a call in history; this batch allows 1 plus 2 callbacks its recipients may ask for.
    expect(rates.attemptsPerCall).toEqual({ low: 3, high: 3 });
    const none = estimateRates([{ attemptsEnded: 30, billedMinutes: 0, callsDone: 0 }], null);
    expect(none.attemptsPerCall).toEqual({ low: 1, high: 1 });
    expect(none.minutesPerAttempt).toEqual({ low: 0, high: 0 });
  });

  it("rounds the minutes' range outward without floating-point noise", () => {
    const rates = { ...estimateRates([], null), minutesPerAttempt: { low: 0.1, high: 0.1 } };
    expect(estimateFor(3, rates).minutes).toEqual({ low: 0, high: 1 });
    expect(estimateFor(30, rates).minutes).toEqual({ low: 3, high: 3 });
    expect(estimateFor(0, estimateRates([], null)).minutes).toEqual({ low: 0, high: 0 });
  });
});

describe("the pause banner for a budget", () => {
  it("says what happened and that resume needs a higher maxMinutes first", () => {
    expect(pausedText("paused", "budget", null, { billedMinutes: 12, maxMinutes: 10 })).toBe(
      "Paused by its budget: its calls have billed 12 of its 10 minutes. Resume is refused until you raise Max minutes (Edit) above what is billed, or clear it; raising it does not resume the batch by itself.",
    );
    expect(pausedText("paused", "budget", null)).toMatch(/^Paused by its budget: its calls have billed the minutes its budget allows\. Resume is refused/);
    expect(pausedText("processing", "budget", null)).toBeNull();
  });
});
