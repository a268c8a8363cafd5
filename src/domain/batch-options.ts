import * as z from "zod";
import { parseJsonField, parseSafetyOptions, SAFETY_FORM_FIELDS, type SafetyOptions } from "./batch-safety";
import { RetryOnSchema } from "./vocabulary";
import { isSupportedRegion } from "./phone";
import { type CallingWindow, CallingWindowSchema } from "./calling-window";

export { type CallingWindow, CallingWindowSchema } from "./calling-window";

export const MAX_FILE_BYTES = 20 * 1024 * 1024;
/** Room for the multipart framing and the other form fields around a full-size file. */
export const MAX_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024;

export const GapSchema = z
  .object({
    days: z.number().int().min(0).max(30).default(0),
    hours: z
      .number()
      .int()
      .min(0)
      .max(23 * 30)
      .default(0),
    minutes: z
      .number()
      .int()
      .min(0)
      .max(59 * 24)
      .default(0)
      .describe("(ext) minutes, for short gaps"),
  })
  .strict()
  .refine((g) => g.days + g.hours + g.minutes > 0, { message: "a gap must be longer than zero" });

export const SmartCallbackConfigSchema = z
  .object({
    enabled: z.boolean(),
    maxAttempts: z.number().int().min(1).max(10).default(1),
    gaps: z.array(GapSchema).max(10).default([]),
    retryOn: z.array(RetryOnSchema).min(1).optional().describe("(ext) outcomes that earn another attempt; default no_answer, busy, failed"),
    maxRequestedCallbacks: z
      .number()
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe(
        "(ext) how many times one recipient's own request on a call (an agent result's callbackAt) schedules another attempt; default 2, independent of maxAttempts (also when enabled is false)",
      ),
  })
  .strict()
  .refine((c) => !c.enabled || c.maxAttempts === 1 || c.gaps.length > 0, {
    message: "gaps needs at least one entry when maxAttempts is above 1",
    path: ["gaps"],
  });
export type SmartCallbackConfig = z.infer<typeof SmartCallbackConfigSchema>;

/** Callbacks a recipient may ask for on calls (agent results' callbackAt) when the batch does not say. */
export const DEFAULT_MAX_REQUESTED_CALLBACKS = 2;

/** How many requested callbacks one recipient of a batch gets. */
export function maxRequestedCallbacks(config: SmartCallbackConfig | null): number {
  return config?.maxRequestedCallbacks ?? DEFAULT_MAX_REQUESTED_CALLBACKS;
}

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** How far ahead a batch may be scheduled; further is a 400 (the scheduler's alarm must be armable). */
export const MAX_SCHEDULE_AHEAD_DAYS = 365;
const DAY_MS = 86_400_000;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The instant an ISO 8601 time with a zone names, or why it names none.
 * Every field is range-checked first: Date.parse would silently move
 * 30 February to 2 March and accept hour 24 as the next midnight.
 */
export function parseScheduledAt(s: string): { ok: true; value: Date } | { ok: false; message: string } {
  const m = ISO_WITH_ZONE.exec(s);
  if (!m) return { ok: false, message: "scheduledAt must be an ISO 8601 time with a zone, e.g. 2026-12-01T15:00:00Z" };
  const field = (i: number) => (m[i] === undefined ? 0 : Number(m[i]));
  const [year, month, day] = [field(1), field(2), field(3)] as const;
  const [hour, minute, second] = [field(4), field(5), field(6)] as const;
  const [offHours, offMinutes] = [field(7), field(8)] as const;
  const date = s.slice(0, 10);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, message: `scheduledAt names a date that does not exist (${date}); check the day and month` };
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, message: "scheduledAt has a time of day that does not exist; hours run 00-23, minutes and seconds 00-59" };
  }
  if (offHours > 23 || offMinutes > 59) {
    return { ok: false, message: "scheduledAt has an impossible zone offset; use Z or +HH:MM with HH up to 23" };
  }
  return { ok: true, value: new Date(Date.parse(s)) };
}

/** Every non-file field of the upload, as strings, exactly as the form carries them. */
export const BatchFormFieldsSchema = z.object({
  agentId: z.string().trim().min(1).describe("an agent of this workspace"),
  scheduledAt: z
    .string()
    .optional()
    .describe(
      `ISO 8601 with a zone, e.g. 2026-12-01T15:00:00Z; absent = start now. Must be a real date and time (no 30 February, no hour 24), ` +
        `not in the past and at most ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`,
    ),
  smartCallbackConfig: z.string().optional().describe('JSON: {"enabled":true,"maxAttempts":3,"gaps":[{"days":0,"hours":2}],"retryOn":["no_answer","busy"]}'),
  name: z.string().max(200).optional().describe("(ext) label shown in lists"),
  callingWindow: z
    .string()
    .optional()
    .describe(
      '(ext) JSON: {"start":"09:00","end":"20:00","days":["mon","tue"],"timezone":"recipient","blackoutDates":["2026-12-25"],' +
        '"overrides":{"GB":{"start":"10:00","end":"18:00","days":["mon","tue","wed","thu","fri"]}}}. ' +
        "Calls are placed only when the recipient's local time (timezone: recipient = the row's timezone column, else the workspace's, else UTC; " +
        "or an IANA zone for all) is on one of the days and in [start, end); an end before the start runs overnight and belongs to the day it starts on. " +
        "blackoutDates (optional, at most 366 real dates, local to the recipient) close that day's window, public holidays for instance. " +
        "overrides (optional) replace start, end and days for recipients whose number is in that country (ISO 3166 alpha-2). " +
        "A call outside the window waits for its next opening (nextAttemptAt); it never fails for it.",
    ),
  maxConcurrentCalls: z.string().optional().describe("(ext) per-batch cap, at most the workspace's maxConcurrentCalls"),
  // stopRules, start, preDialUrl, preDialOnError, maxMinutes: the brakes (batch-safety.ts).
  ...SAFETY_FORM_FIELDS,
  onInvalidRows: z.string().optional().describe("(ext) reject (default) or skip"),
  dryRun: z.string().optional().describe("(ext) true: validate and report, create nothing"),
  defaultCountry: z.string().optional().describe("(ext) ISO 3166 alpha-2 for numbers without +; default US"),
});
export type BatchFormFields = z.infer<typeof BatchFormFieldsSchema>;

/** The upload's options; the brakes (stop rules, draft, pre-dial check, budget) are batch-safety.ts's. */
export type BatchOptions = SafetyOptions & {
  agentId: string;
  scheduledAt: Date | null;
  smartCallbackConfig: SmartCallbackConfig | null;
  name: string | null;
  callingWindow: CallingWindow | null;
  maxConcurrentCalls: number | null;
  onInvalidRows: "reject" | "skip";
  dryRun: boolean;
  defaultCountry: string;
};

export type OptionsError = { code: "invalid_scheduled_at" | "invalid_smart_callback_config" | "invalid_calling_window" | "validation_failed"; message: string };

/** Turns the form's strings into typed options, or the contract's 400 for the first bad one. */
export function parseBatchOptions(f: BatchFormFields, now: Date): { ok: true; value: BatchOptions } | { ok: false; error: OptionsError } {
  let scheduledAt: Date | null = null;
  if (f.scheduledAt !== undefined && f.scheduledAt.trim() !== "") {
    const parsed = parseScheduledAt(f.scheduledAt.trim());
    if (!parsed.ok) return { ok: false, error: { code: "invalid_scheduled_at", message: parsed.message } };
    const t = parsed.value.getTime();
    if (t < now.getTime()) {
      return { ok: false, error: { code: "invalid_scheduled_at", message: "scheduledAt is in the past; omit it to start now" } };
    }
    const latest = now.getTime() + MAX_SCHEDULE_AHEAD_DAYS * DAY_MS;
    if (t > latest) {
      return {
        ok: false,
        error: {
          code: "invalid_scheduled_at",
          message: `scheduledAt is more than ${MAX_SCHEDULE_AHEAD_DAYS} days ahead; the latest start accepted now is ${isoUtc(new Date(latest))}`,
        },
      };
    }
    scheduledAt = parsed.value;
  }

  let smartCallbackConfig: SmartCallbackConfig | null = null;
  if (f.smartCallbackConfig !== undefined && f.smartCallbackConfig.trim() !== "") {
    const r = parseJsonField(f.smartCallbackConfig, SmartCallbackConfigSchema, "smartCallbackConfig");
    if (!r.ok) return { ok: false, error: { code: "invalid_smart_callback_config", message: r.message } };
    smartCallbackConfig = r.value;
  }

  let callingWindow: CallingWindow | null = null;
  if (f.callingWindow !== undefined && f.callingWindow.trim() !== "") {
    const r = parseJsonField(f.callingWindow, CallingWindowSchema, "callingWindow");
    if (!r.ok) return { ok: false, error: { code: "invalid_calling_window", message: r.message } };
    callingWindow = r.value;
  }

  const safety = parseSafetyOptions(f);
  if (!safety.ok) return { ok: false, error: { code: "validation_failed", message: safety.message } };

  let maxConcurrentCalls: number | null = null;
  if (f.maxConcurrentCalls !== undefined && f.maxConcurrentCalls.trim() !== "") {
    const n = Number(f.maxConcurrentCalls);
    if (!Number.isInteger(n) || n < 1) {
      return { ok: false, error: { code: "validation_failed", message: "maxConcurrentCalls must be a whole number of at least 1" } };
    }
    maxConcurrentCalls = n;
  }

  const onInvalidRows = (f.onInvalidRows ?? "reject").trim() || "reject";
  if (onInvalidRows !== "reject" && onInvalidRows !== "skip") {
    return { ok: false, error: { code: "validation_failed", message: 'onInvalidRows must be "reject" or "skip"' } };
  }

  const dryRunRaw = (f.dryRun ?? "false").trim().toLowerCase() || "false";
  if (dryRunRaw !== "true" && dryRunRaw !== "false") {
    return { ok: false, error: { code: "validation_failed", message: 'dryRun must be "true" or "false"' } };
  }

  const defaultCountry = (f.defaultCountry ?? "US").trim().toUpperCase() || "US";
  if (!/^[A-Z]{2}$/.test(defaultCountry) || !isSupportedRegion(defaultCountry)) {
    return { ok: false, error: { code: "validation_failed", message: "defaultCountry must be an ISO 3166 alpha-2 code such as US or GB" } };
  }

  return {
    ok: true,
    value: {
      agentId: f.agentId,
      scheduledAt,
      smartCallbackConfig,
      name: f.name?.trim() || null,
      callingWindow,
      maxConcurrentCalls,
      ...safety.value,
      onInvalidRows,
      dryRun: dryRunRaw === "true",
      defaultCountry,
    },
  };
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the form the contract shows (milliseconds only when present). */
export function isoUtc(d: Date): string {
  const s = d.toISOString();
  return s.endsWith(".000Z") ? `${s.slice(0, -5)}Z` : s;
}
