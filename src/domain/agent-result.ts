import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { tenantUrlProblem } from "../lib/url-policy";
import { SENTIMENTS } from "./vocabulary";

// What an agent reports about one attempt of a call, and what an agent may
// declare its reports hold. The zod schemas check shapes and counts; the
// sizes that are bytes (UTF-8, what is stored), the URL policy, the time of
// a requested callback and the agent's declaration are checked by
// resultProblem, which says the first problem as the 400's sentence.

/** The bounds of one result: sizes in UTF-8 bytes, names in characters. */
export const RESULT_LIMITS = {
  summaryBytes: 4096,
  dataFields: 50,
  dataValueBytes: 1024,
  fieldNameChars: 64,
  dispositionChars: 64,
  transcriptBytes: 262144,
  transcriptTurns: 2000,
  callbackMaxDays: 30,
  recordingUrlChars: 2048,
  dispositionsDeclared: 100,
  enumValues: 100,
} as const;

/** The highest attempt number a report may name (as status reports bound it). */
export const MAX_RESULT_ATTEMPT = 100_000;

/** A requested callback this little in the past is taken as "now": the agent's clock and ours are not the same clock. */
export const CALLBACK_PAST_GRACE_MS = 60_000;

const L = RESULT_LIMITS;
const DAY_MS = 86_400_000;
const CONTROL = /\p{Cc}/u;

const utf8 = new TextEncoder();
const bytes = (text: string) => utf8.encode(text).length;

/** A name or label: 1..max characters, no control characters (they become CSV headers and chart labels). */
const label = (what: string, max: number) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), `${what} must not contain control characters`);

const DataValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const Turn = z
  .object({
    role: z.enum(["agent", "user"]),
    text: z.string(),
    at: z
      .union([z.string().max(64), z.number().nonnegative()])
      .optional()
      .describe("when the turn was said: ISO 8601, or milliseconds as your platform gives them (kept as sent)"),
  })
  .strict();

export const AgentResultSchema = z
  .object({
    attempt: z.number().int().min(1).max(MAX_RESULT_ATTEMPT).describe("the attempt this result is about (the dial request's / voiceUrl query's `attempt`)"),
    disposition: label("disposition", L.dispositionChars)
      .optional()
      .describe("what the conversation achieved, e.g. `booked`; one of the agent's declared dispositions when it declares any"),
    summary: z.string().optional().describe(`at most ${L.summaryBytes} bytes (4 KB) of UTF-8`),
    sentiment: z.enum(SENTIMENTS).optional(),
    data: z
      .record(z.string(), DataValue)
      .superRefine((data, ctx) => {
        const names = Object.keys(data);
        if (names.length > L.dataFields) {
          ctx.addIssue({ code: "custom", message: `at most ${L.dataFields} fields are allowed (this one has ${names.length})` });
        }
        for (const name of names) {
          const problem = label("a field name", L.fieldNameChars).safeParse(name);
          if (!problem.success) ctx.addIssue({ code: "custom", path: [name], message: problem.error.issues[0]!.message });
        }
      })
      .optional()
      .describe(
        `extracted fields, at most ${L.dataFields}; names 1-${L.fieldNameChars} characters, each value a string (at most ${L.dataValueBytes} bytes of UTF-8), number, boolean or null`,
      ),
    transcript: z
      .array(Turn)
      .max(L.transcriptTurns, `at most ${L.transcriptTurns} turns are allowed`)
      .optional()
      .describe(`the conversation, at most ${L.transcriptTurns} turns and ${L.transcriptBytes} bytes (256 KB) as JSON; kept in storage, linked from the call`),
    recordingUrl: z
      .string()
      .max(L.recordingUrlChars, `must be at most ${L.recordingUrlChars} characters`)
      .optional()
      .describe("a public https URL of the call's recording (played in the console; never fetched by this service)"),
    callbackAt: z
      .string()
      .max(64, "must be an ISO 8601 date and time with a zone")
      .optional()
      .describe(
        `the person asked to be called back then: ISO 8601 with a zone (\`Z\` or an offset), not in the past, at most ${L.callbackMaxDays} days ahead. ` +
          "The next attempt is placed then, moved into the batch's calling window. " +
          "A report sent again with the same callbackAt after that time has passed is a replay (changed: false), not an error.",
      ),
    optOut: z
      .boolean()
      .optional()
      .describe(
        "true: the person asked never to be called again (do-not-call list, waiting calls to the number cancelled). false changes nothing: an opt-out is never withdrawn",
      ),
  })
  .strict()
  .openapi("AgentResult");
export type AgentResult = z.infer<typeof AgentResultSchema>;

const DeclaredField = z
  .object({
    name: label("a field name", L.fieldNameChars),
    type: z.enum(["string", "number", "boolean", "enum"]),
    values: z
      .array(label("an enum value", L.dataValueBytes))
      .min(1)
      .max(L.enumValues)
      .optional()
      .describe("the allowed values; required for (and only for) type enum"),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.type === "enum" && !f.values) ctx.addIssue({ code: "custom", path: ["values"], message: "an enum field needs its values" });
    if (f.type !== "enum" && f.values) ctx.addIssue({ code: "custom", path: ["values"], message: "only an enum field has values" });
    if (f.values && new Set(f.values).size !== f.values.length) ctx.addIssue({ code: "custom", path: ["values"], message: "values must not repeat" });
  });

/** What an agent declares its results hold: the dispositions it may report and its data fields. Each part constrains only what it names. */
export const ResultSchemaSchema = z
  .object({
    dispositions: z
      .array(label("a disposition", L.dispositionChars))
      .min(1)
      .max(L.dispositionsDeclared)
      .refine((d) => new Set(d).size === d.length, "dispositions must not repeat")
      .optional()
      .describe("when given, a result's disposition must be one of these"),
    fields: z
      .array(DeclaredField)
      .max(L.dataFields)
      .refine((f) => new Set(f.map((x) => x.name)).size === f.length, "field names must not repeat")
      .optional()
      .describe("when given, a result's data may hold only these fields, each of its type (or null); their order is the exports' column order"),
  })
  .strict()
  .openapi("ResultSchema");
export type DeclaredResults = z.infer<typeof ResultSchemaSchema>;

/**
 * A requested callback's time as epoch ms, or why it cannot be one. It must
 * name an instant (ISO 8601 with `Z` or an offset), not lie in the past
 * (a minute's clock skew is taken as now) and be at most 30 days ahead.
 */
export function parseCallbackAt(text: string, now: number): { ok: true; at: number } | { ok: false; problem: string; pastAt?: number } {
  const at = isoInstant(text);
  if (at === "no_zone") {
    return { ok: false, problem: `callbackAt (${text}) has no time zone; add Z or an offset such as -04:00 so it names one instant.` };
  }
  if (at === null) {
    return { ok: false, problem: `callbackAt (${text}) is not an ISO 8601 date and time with a zone, such as 2025-06-01T17:00:00-04:00.` };
  }
  if (at < now - CALLBACK_PAST_GRACE_MS) {
    // `pastAt`: the instant it names, so a report sent again after its callback time can still be known as a replay.
    return { ok: false, problem: `callbackAt (${text}) is in the past; it must be after now (${new Date(now).toISOString()}).`, pastAt: at };
  }
  const latest = now + L.callbackMaxDays * DAY_MS;
  if (at > latest) {
    return {
      ok: false,
      problem: `callbackAt (${text}) is more than ${L.callbackMaxDays} days ahead; it must be at most ${new Date(latest).toISOString()}.`,
    };
  }
  return { ok: true, at: Math.max(at, now) };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/** Epoch ms of an ISO 8601 date-time with a zone; "no_zone" when it is a valid local time; null when it is not one. */
function isoInstant(text: string): number | "no_zone" | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((p) => Number(p ?? 0)) as [number, number, number, number, number, number];
  const ms = Math.floor(Number(`0.${m[7] ?? "0"}`) * 1000);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(local).getUTCDate() !== day) return null; // 2025-02-30
  const zone = m[8];
  if (!zone) return "no_zone";
  if (zone === "Z" || zone === "z") return local;
  const digits = zone.replace(":", "");
  const offH = Number(digits.slice(1, 3));
  const offM = Number(digits.slice(3, 5) || 0);
  if (offH > 23 || offM > 59) return null;
  const sign = zone[0] === "-" ? -1 : 1;
  return local - sign * (offH * 60 + offM) * 60_000;
}

function list(values: readonly string[]): string {
  const shown = values.slice(0, 20).join(", ");
  return values.length > 20 ? `${shown}, … (${values.length} in all)` : shown;
}

/** The first problem of a declared field's value, or null when it is of the field's type. */
function declaredValueProblem(field: NonNullable<DeclaredResults["fields"]>[number], value: string | number | boolean | null): string | null {
  if (value === null) return null;
  const where = `data.${field.name}`;
  if (field.type === "enum") {
    if (typeof value === "string" && field.values?.includes(value)) return null;
    return `${where} must be one of the values this agent declares for it: ${list(field.values ?? [])}.`;
  }
  if (field.type === "number" ? typeof value === "number" && Number.isFinite(value) : typeof value === field.type) return null;
  return `${where} must be a ${field.type} (or null), as this agent declares it.`;
}

/**
 * The first problem of a result its schema has parsed, as a 400 sentence
 * naming the field and the limit, or null. Checks the byte sizes, the
 * recording URL (https and a public host always, also in development: the
 * console plays it under a CSP of https media only), callbackAt against
 * `now`, and the agent's declaration when it has one.
 */
export function resultProblem(r: AgentResult, declared: DeclaredResults | null, now: number, opts: { pastCallbackAt?: "allow" } = {}): string | null {
  if (r.summary !== undefined && bytes(r.summary) > L.summaryBytes) {
    return `summary is ${bytes(r.summary)} bytes of UTF-8; the limit is ${L.summaryBytes} bytes (4 KB).`;
  }
  for (const [name, value] of Object.entries(r.data ?? {})) {
    if (typeof value === "string" && bytes(value) > L.dataValueBytes) {
      return `data.${name} is ${bytes(value)} bytes of UTF-8; the limit for one value is ${L.dataValueBytes} bytes (1 KB).`;
    }
  }
  if (r.transcript) {
    const size = bytes(JSON.stringify(r.transcript));
    if (size > L.transcriptBytes) return `transcript is ${size} bytes as JSON; the limit is ${L.transcriptBytes} bytes (256 KB).`;
  }
  if (r.recordingUrl !== undefined) {
    const problem = tenantUrlProblem("recordingUrl", r.recordingUrl, {});
    if (problem) return problem;
  }
  if (r.callbackAt !== undefined) {
    const parsed = parseCallbackAt(r.callbackAt, now);
    // "allow": the caller lets the batch decide (a replay of a report whose callback time has since passed is no error).
    if (!parsed.ok && !(parsed.pastAt !== undefined && opts.pastCallbackAt === "allow")) return parsed.problem;
  }
  return declared ? declaredProblem(r, declared) : null;
}

/**
 * The first way a result strays outside the agent's declaration (a disposition
 * it does not list, a data field it does not declare or of another type), or
 * null. The batch checks it against the declaration it started with.
 */
export function declaredProblem(r: Pick<AgentResult, "disposition" | "data">, declared: DeclaredResults): string | null {
  if (r.disposition !== undefined && declared.dispositions && !declared.dispositions.includes(r.disposition)) {
    return `disposition "${r.disposition}" is not one this agent declares; use one of: ${list(declared.dispositions)}.`;
  }
  if (declared.fields) {
    const fields = new Map(declared.fields.map((f) => [f.name, f]));
    for (const [name, value] of Object.entries(r.data ?? {})) {
      const field = fields.get(name);
      if (!field) {
        const known = declared.fields.length ? `its fields are: ${list([...fields.keys()])}` : "it declares no fields";
        return `data.${name} is not a field this agent declares; ${known}.`;
      }
      const problem = declaredValueProblem(field, value);
      if (problem) return problem;
    }
  }
  return null;
}
