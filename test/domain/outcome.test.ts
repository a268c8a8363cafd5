import { describe, expect, it } from "vitest";
import type { SmartCallbackConfig } from "../../src/domain/batch-options";
import { isOpen, nextOpening } from "../../src/domain/calling-window";
import { OUTCOMES } from "../../src/domain/vocabulary";
import { connected, failureReason, finalStatus, gapMs, nextStep, timeScale } from "../../src/domain/outcome";

const H = 3_600_000;
const cfg = (c: Partial<SmartCallbackConfig> = {}): SmartCallbackConfig => ({
  enabled: true,
  maxAttempts: 4,
  gaps: [
    { days: 0, hours: 1, minutes: 0 },
    { days: 1, hours: 0, minutes: 0 },
  ],
  ...c,
});
const step = (over: Partial<Parameters<typeof nextStep>[0]>) =>
  nextStep({ config: cfg(), outcome: "no_answer", attemptInPass: 1, endedAt: 1_000, batchRunning: true, timeScale: 1, ...over });

describe("smart callbacks", () => {
  it("gaps[i] follows attempt i+1 and the last gap repeats", () => {
    expect(gapMs(cfg(), 1)).toBe(H);
    expect(gapMs(cfg(), 2)).toBe(24 * H);
    expect(gapMs(cfg(), 3)).toBe(24 * H);
    expect(step({ attemptInPass: 1 })).toEqual({ kind: "callback", dueAt: 1_000 + H });
    expect(step({ attemptInPass: 3 })).toEqual({ kind: "callback", dueAt: 1_000 + 24 * H });
  });

  it("maxAttempts counts every attempt, the first included", () => {
    expect(step({ attemptInPass: 4 })).toEqual({ kind: "final", status: "failed" });
    expect(step({ config: cfg({ maxAttempts: 1 }) })).toEqual({ kind: "final", status: "failed" });
  });

  it("retries no_answer, busy and failed by default; voicemail only when listed", () => {
    for (const o of ["no_answer", "busy", "failed"] as const) expect(step({ outcome: o }).kind).toBe("callback");
    expect(step({ outcome: "voicemail" })).toEqual({ kind: "final", status: "completed" });
    expect(step({ outcome: "voicemail", config: cfg({ retryOn: ["voicemail"] }) }).kind).toBe("callback");
    expect(step({ outcome: "busy", config: cfg({ retryOn: ["voicemail"] }) })).toEqual({ kind: "final", status: "failed" });
    expect(step({ outcome: "answered" })).toEqual({ kind: "final", status: "completed" });
  });

  it("one attempt when disabled, absent, or the batch is no longer running", () => {
    expect(step({ config: cfg({ enabled: false }) }).kind).toBe("final");
    expect(step({ config: null }).kind).toBe("final");
    expect(step({ batchRunning: false }).kind).toBe("final");
  });

  it("DEV_TIME_SCALE divides gaps in development only", () => {
    expect(timeScale({ ENVIRONMENT: "development", DEV_TIME_SCALE: "3600" })).toBe(3600);
    expect(timeScale({ ENVIRONMENT: "production", DEV_TIME_SCALE: "3600" })).toBe(1);
    expect(timeScale({ ENVIRONMENT: "development", DEV_TIME_SCALE: "nonsense" })).toBe(1);
    expect(step({ timeScale: 3600 })).toEqual({ kind: "callback", dueAt: 2_000 });
  });

  it("maps outcomes to the contract's call statuses", () => {
    expect([finalStatus("answered"), finalStatus("voicemail"), finalStatus("no_answer"), finalStatus("canceled")]).toEqual([
      "completed",
      "completed",
      "failed",
      "cancelled",
    ]);
    expect(OUTCOMES.filter(connected)).toEqual(["answered", "voicemail"]);
  });
});

describe("calling window", () => {
  const w = { start: "09:00", end: "20:00", days: ["mon", "tue", "wed", "thu", "fri"] as ("mon" | "tue" | "wed" | "thu" | "fri")[], timezone: "recipient" };
  // 2026-12-01 is a Tuesday
  it("is open inside the local hours on listed days", () => {
    expect(isOpen(w, "America/New_York", Date.parse("2026-12-01T15:00:00Z"))).toBe(true); // 10:00 local
    expect(isOpen(w, "America/New_York", Date.parse("2026-12-01T13:00:00Z"))).toBe(false); // 08:00 local
    expect(isOpen(w, "America/New_York", Date.parse("2026-12-06T15:00:00Z"))).toBe(false); // Sunday
  });

  it("finds the next opening to the minute", () => {
    expect(nextOpening(w, "America/New_York", Date.parse("2026-12-01T13:00:00Z"))).toBe(Date.parse("2026-12-01T14:00:00Z"));
    // Friday 21:00 local → Monday 09:00 local
    expect(nextOpening(w, "America/New_York", Date.parse("2026-12-05T02:00:00Z"))).toBe(Date.parse("2026-12-07T14:00:00Z"));
    const open = Date.parse("2026-12-01T15:00:00Z");
    expect(nextOpening(w, "America/New_York", open)).toBe(open);
  });

  it("handles windows that run overnight", () => {
    const night = { ...w, start: "22:00", end: "02:00", days: ["mon"] as "mon"[] };
    expect(isOpen(night, "UTC", Date.parse("2026-11-30T23:00:00Z"))).toBe(true); // Mon 23:00
    expect(isOpen(night, "UTC", Date.parse("2026-12-01T01:00:00Z"))).toBe(true); // Tue 01:00, Monday's window
    expect(isOpen(night, "UTC", Date.parse("2026-12-01T23:00:00Z"))).toBe(false); // Tue 23:00
  });
});

describe("failureReason", () => {
  it("says why in a sentence for every outcome that did not connect", () => {
    expect(failureReason("no_answer", 3, null)).toBe("No answer after 3 attempts.");
    expect(failureReason("no_answer", 1, null)).toBe("No answer.");
    expect(failureReason("busy", 1, undefined)).toBe("The line was busy.");
    expect(failureReason("busy", 2, null)).toBe("The line was busy on all 2 attempts.");
    expect(failureReason("failed", 1, null)).toBe("The carrier reported the call failed.");
    expect(failureReason("canceled", 1, null)).toBe("The provider cancelled the call before it connected.");
  });

  it("keeps the provider's own words, as a sentence", () => {
    expect(failureReason("failed", 1, "the carrier reported the call failed (error 31005)")).toBe("The carrier reported the call failed (error 31005).");
    expect(failureReason("failed", 2, "not a valid phone number")).toBe("Not a valid phone number.");
    expect(failureReason("failed", 1, "  ")).toBe("The carrier reported the call failed.");
  });

  it("has nothing to say about a call that connected", () => {
    expect(failureReason("answered", 1, null)).toBeNull();
    expect(failureReason("voicemail", 2, "ignored")).toBeNull();
  });
});
