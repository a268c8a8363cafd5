import { describe, expect, it } from "vitest";
import { allowedFrom, type ContactPolicy, ContactPolicySchema, isEmptyPolicy, policyHorizonMs } from "../../src/domain/contact-policy";
import { issuesText } from "../../src/lib/issues";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const twoPerDay: ContactPolicy = { maxAttempts: [{ count: 2, hours: 24 }] };

describe("allowedFrom", () => {
  it("lets the first attempt start at once: no earlier attempts, nothing to wait for", () => {
    expect(allowedFrom(twoPerDay, [], NOW)).toBe(NOW);
    expect(allowedFrom({ maxAttempts: [], minGapMinutes: 30 }, [], NOW)).toBe(NOW);
  });

  it("2 per 24 h: one earlier start leaves room; two hold the next until the older is 24 h old, plus 1 ms", () => {
    expect(allowedFrom(twoPerDay, [NOW - HOUR], NOW)).toBe(NOW);
    const older = NOW - 5 * HOUR;
    expect(allowedFrom(twoPerDay, [older, NOW - HOUR], NOW)).toBe(older + 24 * HOUR + 1);
    // At that moment the window (older + 1 ms, now] holds one start, so a second fits.
    expect(allowedFrom(twoPerDay, [older, NOW - HOUR], older + 24 * HOUR + 1)).toBe(older + 24 * HOUR + 1);
  });

  it("counts only the window: starts older than it no longer hold the next one", () => {
    expect(allowedFrom(twoPerDay, [NOW - 30 * HOUR, NOW - 25 * HOUR], NOW)).toBe(NOW);
    // Exactly 24 h old is still inside the window (the rule is "any 24 hours"), so it waits 1 ms.
    expect(allowedFrom(twoPerDay, [NOW - 24 * HOUR, NOW - HOUR], NOW)).toBe(NOW + 1);
  });

  it("reads the starts in any order", () => {
    const starts = [NOW - HOUR, NOW - 20 * HOUR, NOW - 3 * HOUR];
    const at = allowedFrom(twoPerDay, starts, NOW);
    expect(at).toBe(NOW - 3 * HOUR + 24 * HOUR + 1);
    expect(allowedFrom(twoPerDay, [...starts].reverse(), NOW)).toBe(at);
    expect(allowedFrom(twoPerDay, [starts[2]!, starts[0]!, starts[1]!], NOW)).toBe(at);
    expect(starts).toEqual([NOW - HOUR, NOW - 20 * HOUR, NOW - 3 * HOUR]); // the caller's array is left as it was
  });

  it("with several rules, the strictest decides", () => {
    const policy: ContactPolicy = {
      maxAttempts: [
        { count: 3, hours: 24 },
        { count: 1, hours: 4 },
        { count: 5, hours: 24 * 7 },
      ],
    };
    // 1 in 4 h binds: the last start was 1 h ago.
    expect(allowedFrom(policy, [NOW - HOUR], NOW)).toBe(NOW - HOUR + 4 * HOUR + 1);
    // 3 in 24 h binds: the third most recent was 10 h ago, which outlasts the 4 h rule.
    expect(allowedFrom(policy, [NOW - 10 * HOUR, NOW - 8 * HOUR, NOW - 5 * HOUR], NOW)).toBe(NOW - 10 * HOUR + 24 * HOUR + 1);
    // 5 in 7 days binds: five starts over the last 6 days, none in the last 24 h.
    const week = [6, 5, 4, 3, 2].map((d) => NOW - d * 24 * HOUR);
    expect(allowedFrom(policy, week, NOW)).toBe(NOW - 6 * 24 * HOUR + 7 * 24 * HOUR + 1);
  });

  it("minGapMinutes keeps attempts apart, and the later of gap and rules wins", () => {
    const gap: ContactPolicy = { maxAttempts: [], minGapMinutes: 90 };
    expect(allowedFrom(gap, [NOW - 30 * MINUTE], NOW)).toBe(NOW + 60 * MINUTE);
    expect(allowedFrom(gap, [NOW - 90 * MINUTE], NOW)).toBe(NOW);
    expect(allowedFrom(gap, [NOW - 3 * HOUR, NOW - 10 * MINUTE, NOW - 2 * HOUR], NOW)).toBe(NOW + 80 * MINUTE);
    const both: ContactPolicy = { maxAttempts: [{ count: 2, hours: 24 }], minGapMinutes: 60 };
    expect(allowedFrom(both, [NOW - 10 * HOUR, NOW - 30 * MINUTE], NOW)).toBe(NOW - 10 * HOUR + 24 * HOUR + 1);
    expect(allowedFrom(both, [NOW - 30 * MINUTE], NOW)).toBe(NOW + 30 * MINUTE);
  });

  it("an empty policy never holds an attempt", () => {
    expect(allowedFrom({ maxAttempts: [] }, [NOW - 1, NOW - 2, NOW - 3], NOW)).toBe(NOW);
  });
});

describe("policyHorizonMs", () => {
  it("is the longest of the rules' windows and the gap: older attempts can be forgotten", () => {
    expect(policyHorizonMs({ maxAttempts: [] })).toBe(0);
    expect(policyHorizonMs(twoPerDay)).toBe(24 * HOUR);
    expect(
      policyHorizonMs({
        maxAttempts: [
          { count: 1, hours: 4 },
          { count: 5, hours: 168 },
        ],
      }),
    ).toBe(168 * HOUR);
    expect(policyHorizonMs({ maxAttempts: [{ count: 1, hours: 1 }], minGapMinutes: 180 })).toBe(180 * MINUTE);
    expect(policyHorizonMs({ maxAttempts: [], minGapMinutes: 30 })).toBe(30 * MINUTE);
  });
});

describe("isEmptyPolicy", () => {
  it("is true only for a policy that limits nothing", () => {
    expect(isEmptyPolicy(null)).toBe(true);
    expect(isEmptyPolicy({ maxAttempts: [] })).toBe(true);
    expect(isEmptyPolicy(ContactPolicySchema.parse({}))).toBe(true);
    expect(isEmptyPolicy(twoPerDay)).toBe(false);
    expect(isEmptyPolicy({ maxAttempts: [], minGapMinutes: 1 })).toBe(false);
  });
});

describe("ContactPolicySchema", () => {
  const problem = (input: unknown) => {
    const r = ContactPolicySchema.safeParse(input);
    if (r.success) throw new Error(`accepted ${JSON.stringify(input)}`);
    return issuesText(r.error.issues);
  };

  it("accepts a rule list and a gap, and fills in an absent list", () => {
    expect(ContactPolicySchema.parse({ maxAttempts: [{ count: 3, hours: 24 }], minGapMinutes: 60 })).toEqual({
      maxAttempts: [{ count: 3, hours: 24 }],
      minGapMinutes: 60,
    });
    expect(ContactPolicySchema.parse({ minGapMinutes: 5 })).toEqual({ maxAttempts: [], minGapMinutes: 5 });
    expect(ContactPolicySchema.parse({ maxAttempts: Array(10).fill({ count: 1000, hours: 720 }) }).maxAttempts).toHaveLength(10);
  });

  it.each([
    [{ maxAttempts: [{ count: 0, hours: 24 }] }, "maxAttempts.0.count: must be at least 1 (a rule allows at least one attempt)"],
    [{ maxAttempts: [{ count: 1001, hours: 24 }] }, "maxAttempts.0.count: must be at most 1000"],
    [{ maxAttempts: [{ count: 1.5, hours: 24 }] }, "maxAttempts.0.count: must be a whole number"],
    [{ maxAttempts: [{ count: 2, hours: 0 }] }, "maxAttempts.0.hours: must be at least 1 hour"],
    [{ maxAttempts: [{ count: 2, hours: 721 }] }, "maxAttempts.0.hours: must be at most 720 hours (30 days)"],
    [
      { maxAttempts: [{ count: 2, hours: 24, per: "number" }] },
      'maxAttempts.0: unknown field per; a rule has only count and hours, e.g. {"count":3,"hours":24}',
    ],
    [{ maxAttempts: [{ count: 2, hours: 24 }], maxCalls: 3 }, "unknown field maxCalls; a policy has only maxAttempts and minGapMinutes"],
    [{ maxAttempts: Array(11).fill({ count: 1, hours: 1 }) }, "maxAttempts: may hold at most 10 rules"],
    [{ maxAttempts: { count: 2, hours: 24 } }, 'maxAttempts: must be a list of rules such as [{"count":3,"hours":24}]'],
    [{ maxAttempts: [3] }, 'maxAttempts.0: must be a rule such as {"count":3,"hours":24}'],
    [{ minGapMinutes: 0 }, "minGapMinutes: must be at least 1 minute"],
    [{ minGapMinutes: 7 * 24 * 60 + 1 }, "minGapMinutes: must be at most 10080 minutes (7 days)"],
    ["3 per day", 'must be a policy such as {"maxAttempts":[{"count":3,"hours":24}],"minGapMinutes":60}, or null for none'],
  ])("refuses %j with a sentence: %s", (input, message) => {
    expect(problem(input)).toBe(message);
  });
});
