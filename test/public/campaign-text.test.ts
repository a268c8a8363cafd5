import { describe, expect, it } from "vitest";
import { addedText, testResultText, unsettled } from "../../public/js/batch/campaign-text.js";
import { basisText, billedText, estimateText, rangeText } from "../../public/js/budget-text.js";
import { localToUtc, utcToLocal } from "../../public/js/format.js";
import { MAX_MINUTES, readMaxMinutes } from "../../public/js/new-batch/safety-fields.js";
import type { TestCall } from "../../public/js/types.js";
import { MAX_BUDGET_MINUTES, parseSafetyOptions } from "../../src/domain/batch-safety";
import { estimateFor, estimateRates } from "../../src/domain/budget";

describe("the console's budget field", () => {
  it("sends nothing when empty, and a whole number of minutes otherwise", () => {
    expect(readMaxMinutes("")).toEqual({ maxMinutes: null, error: null });
    expect(readMaxMinutes(" 500 ")).toEqual({ maxMinutes: 500, error: null });
    expect(readMaxMinutes("1,000")).toEqual({ maxMinutes: 1000, error: null });
  });

  it("says what is wrong in the form's words", () => {
    expect(readMaxMinutes("0").error).toBe("Budget must be at least 1 minute.");
    expect(readMaxMinutes("1.5").error).toBe("Budget must be a whole number of minutes, e.g. 500.");
    expect(readMaxMinutes("lots").error).toBe("Budget must be a whole number of minutes, e.g. 500.");
    expect(readMaxMinutes("1000001").error).toBe("Budget must be at most 1,000,000 minutes.");
  });

  it("never sends a value the server refuses, and refuses none the server takes", () => {
    expect(MAX_MINUTES).toBe(MAX_BUDGET_MINUTES);
    for (const raw of ["1", "59", "1000000", "0", "-3", "1.5", "1000001", "abc"]) {
      const form = readMaxMinutes(raw);
      const server = parseSafetyOptions({ maxMinutes: raw });
      expect(form.error === null, raw).toBe(server.ok);
      if (form.maxMinutes !== null)
        expect(parseSafetyOptions({ maxMinutes: String(form.maxMinutes) })).toMatchObject({ ok: true, value: { maxMinutes: form.maxMinutes } });
    }
  });
});

describe("the estimate and the minutes billed, as the console says them", () => {
  it("reads the server's default estimate as a range with its units", () => {
    const e = estimateFor(120, estimateRates([], { enabled: true, maxAttempts: 3, gaps: [{ days: 0, hours: 2, minutes: 0 }] }));
    expect(estimateText(e)).toBe(
      `Estimated ${rangeText(e.minutes)} minutes: 120 calls × ${rangeText(e.attemptsPerCall)} attempts × ${rangeText(e.minutesPerAttempt)} minutes each.`,
    );
    expect(basisText(e)).toBe(e.note);
  });

  it("says one of a thing in the singular", () => {
    const one = { low: 1, high: 1 };
    const e = { calls: 1, attemptsPerCall: one, minutesPerAttempt: one, minutes: one, basis: "default" as const, basedOnAttempts: 0, note: "" };
    expect(estimateText(e)).toBe("Estimated 1 minute: 1 call × 1 attempt × 1 minute each.");
    expect(basisText(e)).toBe("A default: the agent has too few finished attempts to go by.");
    expect(rangeText({ low: 1.25, high: 2 })).toBe("1.3–2");
    // An agent's history gives rates with two decimals; the page shows one, and a range that rounds to one figure as one.
    expect(rangeText({ low: 0.59, high: 0.6 })).toBe("0.6");
    expect(rangeText({ low: 1, high: 1.11 })).toBe("1–1.1");
  });

  it("counts billed minutes against the budget, or says there is none", () => {
    expect(billedText(12, 100)).toBe("12 of 100 minutes billed");
    expect(billedText(1, 1)).toBe("1 of 1 minute billed");
    expect(billedText(0, null)).toBe("0 minutes billed (no budget)");
    expect(billedText(undefined, 100)).toBeNull();
  });
});

describe("appended rows and test calls, in words", () => {
  it("says what an append added and left out", () => {
    expect(addedText({ batchId: "b", added: 2, duplicates: 1, suppressed: 0, totalCalls: 5, status: "draft" })).toBe(
      "Added 2 (1 duplicate, 0 on the do-not-call list).",
    );
    expect(addedText({ batchId: "b", added: 1200, duplicates: 3, suppressed: 1, totalCalls: 1203, status: "processing" })).toBe(
      `Added ${(1200).toLocaleString()} (3 duplicates, 1 on the do-not-call list).`,
    );
  });

  const call = (over: Partial<TestCall>): TestCall => ({
    callId: "call_x_900000001",
    batchId: "b",
    test: true,
    row: 1,
    to: "+14155550100",
    from: null,
    status: "completed",
    outcome: "answered",
    startTime: 0,
    endTime: 1_000,
    duration: 1,
    error: null,
    result: null,
    ...over,
  });

  it("puts the agent's result in one line", () => {
    expect(testResultText(null)).toBe("—");
    const result = {
      attempt: 1,
      disposition: "interested",
      summary: "Wants a demo.",
      sentiment: "positive" as const,
      data: { budget: 6000, plan: null },
      transcriptUrl: null,
      recordingUrl: null,
      callbackAt: null,
      optOut: false,
      receivedAt: "2026-12-02T07:00:00Z",
    };
    expect(testResultText(result)).toBe("interested — Wants a demo. (positive) · budget: 6000 · plan: —");
  });

  it("keeps re-reading a test call while it goes on, or while an answered one's result is still to come", () => {
    expect(unsettled(call({ status: "active", outcome: null, endTime: null }), 5_000)).toBe(true);
    expect(unsettled(call({}), 5_000)).toBe(true);
    expect(unsettled(call({}), 120_000)).toBe(false);
    expect(unsettled(call({ outcome: "voicemail" }), 5_000)).toBe(false);
    expect(unsettled(call({ status: "failed", outcome: "failed" }), 5_000)).toBe(false);
  });
});

describe("the edit form's start time", () => {
  it("shows a batch's scheduledAt in local time and sends it back as the same UTC minute", () => {
    const local = utcToLocal("2026-12-24T09:30:00Z");
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(localToUtc(local)).toBe("2026-12-24T09:30:00Z");
    expect(utcToLocal(null)).toBe("");
    expect(utcToLocal("not a time")).toBe("");
  });
});
