import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const MAX_RULES = 10;
const MAX_HOURS = 24 * 30;
const MAX_GAP_MINUTES = 7 * 24 * 60;
const EXAMPLE = '{"maxAttempts":[{"count":3,"hours":24}],"minGapMinutes":60}';

/** At most `count` attempts to one number in any `hours` hours, across all of a workspace's batches. */
const AttemptRuleSchema = z
  .strictObject(
    {
      count: z
        .number()
        .int("must be a whole number")
        .min(1, "must be at least 1 (a rule allows at least one attempt)")
        .max(1000, "must be at most 1000")
        .describe("attempts allowed in the window"),
      hours: z
        .number()
        .int("must be a whole number of hours")
        .min(1, "must be at least 1 hour")
        .max(MAX_HOURS, `must be at most ${MAX_HOURS} hours (30 days)`)
        .describe(`the window, in hours (1 to ${MAX_HOURS}: 30 days)`),
    },
    {
      error: (iss) => {
        if (iss.code === "unrecognized_keys") return `unknown field ${iss.keys.join(", ")}; a rule has only count and hours, e.g. {"count":3,"hours":24}`;
        if (iss.code === "invalid_type" && iss.expected === "object") return 'must be a rule such as {"count":3,"hours":24}';
        return undefined;
      },
    },
  )
  .openapi("ContactPolicyRule", { example: { count: 3, hours: 24 } });

/**
 * A workspace's rules for how often one number may be called, whatever
 * batch calls it. An attempt that would break a rule waits until it may
 * happen; it never fails for it.
 */
export const ContactPolicySchema = z
  .strictObject(
    {
      maxAttempts: z
        .array(AttemptRuleSchema, { error: (iss) => (iss.code === "invalid_type" ? 'must be a list of rules such as [{"count":3,"hours":24}]' : undefined) })
        .max(MAX_RULES, `may hold at most ${MAX_RULES} rules`)
        .default([])
        .describe('e.g. [{"count":3,"hours":24}]: at most 3 attempts to a number in any 24 hours. With several rules, each holds (the strictest decides)'),
      minGapMinutes: z
        .number()
        .int("must be a whole number of minutes")
        .min(1, "must be at least 1 minute")
        .max(MAX_GAP_MINUTES, `must be at most ${MAX_GAP_MINUTES} minutes (7 days)`)
        .optional()
        .describe("at least this long between two attempts to one number"),
    },
    {
      // A stray field, and a policy that is missing or not an object where one is expected, each get a sentence naming what fits.
      error: (iss) => {
        if (iss.code === "unrecognized_keys") return `unknown field ${iss.keys.join(", ")}; a policy has only maxAttempts and minGapMinutes`;
        if (iss.code !== "invalid_type" || iss.expected !== "object") return undefined;
        const what = `a policy such as ${EXAMPLE}, or null for none`;
        return iss.input === undefined ? `is required: send ${what}` : `must be ${what}`;
      },
    },
  )
  .openapi("ContactPolicy", { example: { maxAttempts: [{ count: 3, hours: 24 }], minGapMinutes: 60 } });
export type ContactPolicy = z.infer<typeof ContactPolicySchema>;

/** How far back a number's attempts matter to the policy; older ones may be forgotten. */
export function policyHorizonMs(policy: ContactPolicy): number {
  return Math.max(0, ...policy.maxAttempts.map((r) => r.hours * HOUR_MS), (policy.minGapMinutes ?? 0) * MINUTE_MS);
}

/**
 * When the next attempt to a number may start under `policy`, given the
 * start times of its earlier attempts; `now` or earlier when it may start
 * at once. Exact: a rule of N in H hours lets the next attempt start once
 * the N-th most recent one is H hours old.
 */
export function allowedFrom(policy: ContactPolicy, starts: readonly number[], now: number): number {
  if (starts.length === 0) return now;
  const newestFirst = [...starts].sort((a, b) => b - a);
  let at = now;
  for (const rule of policy.maxAttempts) {
    const nth = newestFirst[rule.count - 1];
    if (nth !== undefined) at = Math.max(at, nth + rule.hours * HOUR_MS + 1);
  }
  if (policy.minGapMinutes) at = Math.max(at, newestFirst[0]! + policy.minGapMinutes * MINUTE_MS);
  return at;
}

/** A policy that limits nothing is stored as none. */
export function isEmptyPolicy(policy: ContactPolicy | null): boolean {
  return !policy || (policy.maxAttempts.length === 0 && !policy.minGapMinutes);
}
