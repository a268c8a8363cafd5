import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

/** Why a batch paused: by request, or by one of its own rules (budget: its billed minutes reached maxMinutes). */
export const PAUSED_REASONS = ["manual", "failure_rate", "voicemail_rate", "budget"] as const;
export type PausedReason = (typeof PAUSED_REASONS)[number];

const rate = (what: string) =>
  z
    .number()
    .gt(0, "must be above 0 (a share: 0.3 is 30%)")
    .max(1, "must be at most 1 (a share: 0.3 is 30%)")
    .optional()
    .describe(`pause once the share of ${what} among the last \`window\` finished attempts goes above this (0 < x ≤ 1)`);

/**
 * A batch's own brakes: when, over its last `window` finished attempts,
 * the share of carrier failures (outcome `failed`, not no-answer or busy)
 * or of voicemail passes its threshold, the batch pauses itself and says
 * why. A rule judges only a full window, and resume starts a fresh one.
 */
export const StopRulesSchema = z
  .strictObject({
    maxFailureRate: rate("carrier failures (outcome failed)"),
    maxVoicemailRate: rate("voicemail"),
    window: z
      .number()
      .int()
      .min(10, "must be at least 10 attempts")
      .max(1000, "must be at most 1000 attempts")
      .default(50)
      .describe("finished attempts judged (default 50)"),
  })
  .refine((r) => r.maxFailureRate !== undefined || r.maxVoicemailRate !== undefined, {
    message: "needs maxFailureRate or maxVoicemailRate (or both); leave stopRules out for none",
  })
  .openapi("StopRules");
export type StopRules = z.infer<typeof StopRulesSchema>;

/** The rule a full window of outcomes breaks, if any: failures first. */
export function trippedRule(rules: StopRules, window: { size: number; failed: number; voicemail: number }): PausedReason | null {
  if (window.size < rules.window) return null;
  if (rules.maxFailureRate !== undefined && window.failed / window.size > rules.maxFailureRate) return "failure_rate";
  if (rules.maxVoicemailRate !== undefined && window.voicemail / window.size > rules.maxVoicemailRate) return "voicemail_rate";
  return null;
}
