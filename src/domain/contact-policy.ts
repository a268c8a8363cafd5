import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** At most `count` attempts to one number in any `hours` hours, across all of a workspace's batches. */
const AttemptRuleSchema = z.strictObject({
  count: z.number().int().min(1).max(1000).describe("attempts allowed in the window"),
  hours: z.number().int().min(1).max(24 * 30).describe("the window, in hours (at most 720: 30 days)"),
});

/**
 * A workspace's rules for how often one number may be called, whatever
 * batch calls it. An attempt that would break a rule waits until it may
 * happen; it never fails for it.
 */
export const ContactPolicySchema = z
  .strictObject({
    maxAttempts: z.array(AttemptRuleSchema).max(10).default([]).describe('e.g. [{"count":3,"hours":24}]: at most 3 attempts to a number in any 24 hours'),
    minGapMinutes: z.number().int().min(1).max(7 * 24 * 60).optional().describe("at least this long between two attempts to one number"),
  })
  .openapi("ContactPolicy");
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
