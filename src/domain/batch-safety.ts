import * as z from "zod";
import { issuesText } from "../lib/issues";
import { type StopRules, StopRulesSchema } from "./stop-rules";

// A batch's brakes, as the upload's form carries them: its stop rules, its
// pre-dial check, whether it starts at all (a draft) and its budget of
// minutes. batch-options.ts reads the other options and takes these from
// here, so the brakes and their rules stay in one place.

/** The largest budget a batch takes, in billed minutes. */
export const MAX_BUDGET_MINUTES = 1_000_000;

const BUDGET_RULE = `a whole number of minutes from 1 to ${MAX_BUDGET_MINUTES.toLocaleString("en-US")}`;

/** The pre-dial check: where it is asked, and what its silence or failure decides. */
export type PreDial = { url: string; onError: "skip" | "dial" };

/** The brakes as typed options: the part of BatchOptions this module parses. */
export type SafetyOptions = {
  stopRules: StopRules | null;
  /** false: a draft (nothing dialled until started). */
  start: boolean;
  /** Asked before each dial; its URL still needs the tenant URL policy, which intake applies. */
  preDial: PreDial | null;
  /** The batch pauses itself once its billed minutes reach this (null: no budget). */
  maxMinutes: number | null;
};

/** maxMinutes as JSON (PATCH): the same rule as the form's field; null clears the budget. */
export const MaxMinutesSchema = z
  .number({ error: `must be ${BUDGET_RULE}, or null for no budget` })
  .int(`must be ${BUDGET_RULE} (no fractions)`)
  .min(1, `must be ${BUDGET_RULE}`)
  .max(MAX_BUDGET_MINUTES, `must be ${BUDGET_RULE}`);

/** The form's fields for the brakes, as strings, exactly as the form carries them (BatchFormFieldsSchema spreads them in). */
export const SAFETY_FORM_FIELDS = {
  stopRules: z
    .string()
    .optional()
    .describe(
      '(ext) JSON: {"maxFailureRate":0.3,"maxVoicemailRate":0.6,"window":50}. Over the last `window` (10–1000, default 50) finished attempts, ' +
        "when the share of carrier failures (outcome failed, not no-answer or busy) or of voicemail goes above its threshold (0 < x ≤ 1), " +
        "the batch pauses itself with pausedReason failure_rate or voicemail_rate and sends batch.paused. Only a full window is judged; resume starts a fresh one.",
    ),
  start: z
    .string()
    .optional()
    .describe(
      "(ext) true (default): the batch starts at scheduledAt, or now; false: a draft — validated, stored and counted, nothing dialled until POST …/start",
    ),
  preDialUrl: z
    .string()
    .optional()
    .describe(
      "(ext) before each attempt's dial, a signed POST (the workspace's webhook secret, Standard Webhooks; webhook-id <callId>.<attempt>.pre-dial) " +
        "{callId, attempt, to, variables}; a 2xx JSON answer {dial: true|false, reason? (≤ 500 characters), variables? (strings, ≤ 200, over the row's)} " +
        "within 2 s decides. dial false: nothing is dialled and the call is cancelled with the reason as its error. Same URL rules as webhookUrl",
    ),
  preDialOnError: z.string().optional().describe("(ext) skip (default) or dial: for a check that times out, fails, answers non-2xx, redirects or garbage"),
  maxMinutes: z
    .string()
    .optional()
    .describe(
      `(ext) the batch's budget: ${BUDGET_RULE}; absent: no budget. Each finished attempt bills its duration rounded up to whole minutes ` +
        "(an attempt that never connected bills 0); when the batch's billedMinutes reach maxMinutes, a running batch pauses itself with " +
        "pausedReason budget and sends batch.paused. Resume is refused (409) until PATCH raises maxMinutes (or clears it with null).",
    ),
};

/** A form field's JSON text read by `schema`, or the sentence saying what is wrong with it (the options' other JSON fields use it too). */
export function parseJsonField<T>(raw: string, schema: z.ZodType<T>, field: string): { ok: true; value: T } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, message: `${field} is not valid JSON` };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: `${field} is invalid: ${issuesText(parsed.error.issues)}` };
}

type SafetyFields = { [K in keyof typeof SAFETY_FORM_FIELDS]?: string | undefined };

/** The brakes' fields as typed options, or the sentence (a validation_failed 400) for the first bad one. */
export function parseSafetyOptions(f: SafetyFields): { ok: true; value: SafetyOptions } | { ok: false; message: string } {
  let stopRules: StopRules | null = null;
  if (f.stopRules !== undefined && f.stopRules.trim() !== "") {
    const r = parseJsonField(f.stopRules, StopRulesSchema, "stopRules");
    if (!r.ok) return r;
    stopRules = r.value;
  }
  const startRaw = (f.start ?? "true").trim().toLowerCase() || "true";
  if (startRaw !== "true" && startRaw !== "false") return { ok: false, message: 'start must be "true" or "false"' };
  const preDial = parsePreDial(f);
  if (typeof preDial === "string") return { ok: false, message: preDial };
  const maxMinutes = parseMaxMinutes(f.maxMinutes);
  if (typeof maxMinutes === "string") return { ok: false, message: maxMinutes };
  return { ok: true, value: { stopRules, start: startRaw === "true", preDial, maxMinutes } };
}

/** The form's maxMinutes: a budget, null when absent or empty, or what to fix. Digits only: "1.5", "1e3" and "+5" are refused, not rounded. */
function parseMaxMinutes(raw: string | undefined): number | null | string {
  const text = raw?.trim() ?? "";
  if (text === "") return null;
  const n = /^\d{1,8}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_BUDGET_MINUTES)) return `maxMinutes must be ${BUDGET_RULE} (it was "${text.slice(0, 20)}"); leave it out for no budget`;
  return n;
}

/** preDialUrl and preDialOnError: the check, null without a URL, or what to fix. */
function parsePreDial(f: SafetyFields): PreDial | null | string {
  const url = f.preDialUrl?.trim() ?? "";
  const onError = (f.preDialOnError ?? "skip").trim() || "skip";
  if (onError !== "skip" && onError !== "dial") return 'preDialOnError must be "skip" or "dial"';
  if (url === "") return f.preDialOnError?.trim() ? "preDialOnError needs preDialUrl" : null;
  if (url.length > 2048) return "preDialUrl is longer than 2048 characters";
  if (!URL.canParse(url)) return "preDialUrl is not a valid URL";
  return { url, onError };
}
