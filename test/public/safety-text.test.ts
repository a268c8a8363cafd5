import { describe, expect, it } from "vitest";
import { pausedText, pct, preDialText, statusLabel, stopRulesText } from "../../public/js/batch/safety-text.js";
import { PAUSED_REASONS } from "../../src/domain/stop-rules";

describe("the paused banner", () => {
  it("says nothing unless the batch is paused", () => {
    for (const status of ["draft", "queued", "processing", "completed", "cancelled", "failed"] as const) {
      expect(pausedText(status, "failure_rate", { maxFailureRate: 0.3, window: 50 })).toBeNull();
    }
  });

  it("after a pause by request, says Resume continues where it stopped", () => {
    expect(pausedText("paused", "manual", null)).toBe("Paused. Resume continues where it stopped.");
    // An older server's status body has no pausedReason: a pause was then always by request.
    expect(pausedText("paused", undefined, { maxFailureRate: 0.3, window: 50 })).toBe("Paused. Resume continues where it stopped.");
    expect(pausedText("paused", null, null)).toBe("Paused. Resume continues where it stopped.");
  });

  it("after the failure rule, says the limit it passed and that Resume judges a fresh window", () => {
    expect(pausedText("paused", "failure_rate", { maxFailureRate: 0.3, maxVoicemailRate: 0.6, window: 50 })).toBe(
      "Paused by its stop rule: more than 30% of the last 50 attempts failed (carrier failures, not no-answer or busy). " +
        "Resume continues the batch; the rule then judges the next 50 attempts afresh.",
    );
  });

  it("after the voicemail rule, says the same of voicemail", () => {
    expect(pausedText("paused", "voicemail_rate", { maxVoicemailRate: 0.125, window: 200 })).toBe(
      "Paused by its stop rule: more than 12.5% of the last 200 attempts went to voicemail. Resume continues the batch; the rule then judges the next 200 attempts afresh.",
    );
  });

  it("still says which rule paused it when the batch's rules are not known (or changed since)", () => {
    expect(pausedText("paused", "failure_rate", null)).toBe(
      "Paused by its stop rule: too many recent attempts failed (carrier failures, not no-answer or busy). " +
        "Resume continues the batch; its rules then judge the next attempts afresh.",
    );
    expect(pausedText("paused", "voicemail_rate", { maxFailureRate: 0.3, window: 50 })).toBe(
      "Paused by its stop rule: too many recent attempts went to voicemail. Resume continues the batch; the rule then judges the next 50 attempts afresh.",
    );
  });

  it("has a sentence for every reason the server gives, and names one it does not know yet", () => {
    for (const reason of PAUSED_REASONS) expect(pausedText("paused", reason, { maxFailureRate: 0.3, maxVoicemailRate: 0.6, window: 50 })).toMatch(/^Paused/);
    expect(pausedText("paused", "quota", null)).toBe("Paused (quota). Resume continues the batch.");
  });
});

describe("the batch page's words for its brakes and a draft", () => {
  it("writes shares as percentages", () => {
    expect([pct(0.3), pct(0.125), pct(1), pct(0.07), pct(0.286)]).toEqual(["30%", "12.5%", "100%", "7%", "28.6%"]);
  });

  it("says a batch's stop rules in the options line", () => {
    expect(stopRulesText({ maxFailureRate: 0.3, maxVoicemailRate: 0.6, window: 50 })).toBe(
      "pauses itself if over 30% of the last 50 attempts fail at the carrier or over 60% go to voicemail",
    );
    expect(stopRulesText({ maxFailureRate: 0.3, window: 20 })).toBe("pauses itself if over 30% of the last 20 attempts fail at the carrier");
    expect(stopRulesText({ maxVoicemailRate: 0.6, window: 50 })).toBe("pauses itself if over 60% of the last 50 attempts go to voicemail");
  });

  it("says a batch's pre-dial check and what its failure decides", () => {
    expect(preDialText({ url: "https://example.com/pre-dial", onError: "skip" })).toBe(
      "asks https://example.com/pre-dial before each dial (if it fails: skip the call)",
    );
    expect(preDialText({ url: "https://example.com/pre-dial", onError: "dial" })).toBe(
      "asks https://example.com/pre-dial before each dial (if it fails: dial anyway)",
    );
  });

  it("shows a draft as not started, other statuses as they are", () => {
    expect(statusLabel("draft")).toBe("Draft — not started");
    expect(statusLabel("paused")).toBe("paused");
  });
});
