import { describe, expect, it } from "vitest";
import { dialText, heldFor, waitReasonSentence, waitReasonWords, waitText } from "../../public/js/batch/call-text.js";

// Monday 2 March 2026, 12:00 UTC; the next attempt is Tuesday 09:00 in New York.
const NOW = Date.UTC(2026, 2, 2, 12, 0);
const TUESDAY_9_NY = "2026-03-03T14:00:00.000Z";

describe("the console's words for why a call waits", () => {
  it("says a held call's reason and its next attempt in the viewer's time", () => {
    const call = { status: "waiting" as const, waitReason: "contact_policy", nextAttemptAt: TUESDAY_9_NY };
    expect(waitText(call, NOW, "America/New_York")).toBe("waiting: contact policy — next attempt Tue 09:00");
    expect(waitText(call, NOW, "Europe/London")).toBe("waiting: contact policy — next attempt Tue 14:00");
    expect(heldFor(call, NOW, "America/New_York")).toBe("contact policy — next attempt Tue 09:00");
  });

  it.each([
    ["contact_policy", "contact policy"],
    ["no_enabled_number", "no enabled number"],
    ["number_daily_limit", "numbers' daily limit"],
    ["calling_window", "calling window"],
    ["something_new", "something new"],
  ])("writes %s as %j, with a sentence for the detail", (reason, words) => {
    expect(waitReasonWords(reason)).toBe(words);
    expect(waitText({ status: "waiting", waitReason: reason, nextAttemptAt: null }, NOW, "UTC")).toBe(`waiting: ${words}`);
    expect(waitReasonSentence(reason).length).toBeGreaterThan(10);
  });

  it("tells the disabled-numbers case how to end it", () => {
    expect(waitReasonSentence("no_enabled_number")).toContain("enable one on the agent's page");
  });

  it("gives the date when the next attempt is more than six days off", () => {
    const far = { status: "waiting" as const, waitReason: "calling_window", nextAttemptAt: "2026-03-10T14:00:00.000Z" };
    expect(waitText(far, NOW, "America/New_York")).toBe("waiting: calling window — next attempt Tue 10 Mar 10:00");
  });

  it("says nothing for a call that is not held, or not waiting", () => {
    expect(waitText({ status: "waiting", waitReason: null, nextAttemptAt: TUESDAY_9_NY }, NOW, "UTC")).toBeNull();
    expect(waitText({ status: "waiting", nextAttemptAt: null }, NOW, "UTC")).toBeNull();
    expect(waitText({ status: "active", waitReason: "contact_policy", nextAttemptAt: TUESDAY_9_NY }, NOW, "UTC")).toBeNull();
    expect(waitText({ status: "waiting", waitReason: "contact_policy", nextAttemptAt: "not a time" }, NOW, "UTC")).toBe("waiting: contact policy");
  });
});

describe("an attempt's numbers in the call's detail", () => {
  it("reads from → to, and only from for a reply without `to`", () => {
    const attempt = { attempt: 1, startTime: null, endTime: null, outcome: null, duration: null, error: null };
    expect(dialText({ ...attempt, from: "+13125550000", to: "+13125550199" })).toBe("+13125550000 → +13125550199");
    expect(dialText({ ...attempt, from: null, to: "+13125550199" })).toBe("— → +13125550199");
    expect(dialText({ ...attempt, from: "+14155550100" })).toBe("+14155550100");
    expect(dialText({ ...attempt, from: null })).toBe("—");
  });
});
