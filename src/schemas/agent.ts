import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { ResultSchemaSchema } from "../domain/agent-result";
import { CallerIdSchema } from "../domain/caller-id";
import { toE164 } from "../domain/phone";
import { type Provider, ProviderSchema } from "../domain/vocabulary";

/**
 * A component or null. Written as a union, not `.nullable()`: the OpenAPI
 * generator would otherwise register the nullable copy, with the field's
 * description, as the component itself. A union that fails says only
 * "Invalid input", so its message is the component's own first problem.
 */
function orNull<T extends z.ZodType>(schema: T, shape: string) {
  return z.union([schema, z.null()], {
    error: (iss) => {
      if (iss.code !== "invalid_union") return undefined;
      const first = iss.errors[0]?.[0];
      if (!first || first.path.length === 0) return `must be an object (${shape}) or null`;
      return `${first.path.map(String).join(".")}: ${first.message}`;
    },
  });
}

const ResultSchemaOrNull = orNull(ResultSchemaSchema, "{dispositions?, fields?}");
const CallerIdOrNull = orNull(CallerIdSchema, "{strategy?, perNumber?}");

const MAX_POOL = 1000;
/** E.164 as written, nothing else: a plus, then 4 to 15 digits, the first not 0 (the phone module then says whether it is a number). */
const E164_SHAPE = /^\+[1-9][0-9]{3,14}$/;

/**
 * A pool's numbers: each strictly E.164 and a valid number (the phone
 * module writes it back unchanged), none twice. The first ten problems are
 * named with their index; whether a number belongs to another workspace
 * needs the database, so the route checks that.
 */
function poolSchema(min: number) {
  return z
    .array(z.string(), { error: (iss) => (iss.code === "invalid_type" ? "must be a list of E.164 numbers" : undefined) })
    .min(min, { error: `needs 1 to ${MAX_POOL.toLocaleString("en-US")} numbers; leave it out for none` })
    .max(MAX_POOL, { error: (iss) => `at most ${MAX_POOL.toLocaleString("en-US")} numbers (got ${String((iss.input as unknown[]).length)})` })
    .superRefine((numbers, ctx) => {
      const seen = new Map<string, number>();
      let problems = 0;
      for (const [i, n] of numbers.entries()) {
        if (problems >= 10) return;
        const first = seen.get(n);
        if (!E164_SHAPE.test(n) || toE164(n, "US") !== n) {
          problems++;
          ctx.addIssue({ code: "custom", path: [i], message: "must be a valid number in E.164 (+ and digits, no spaces), e.g. +14155550100" });
        } else if (first !== undefined) {
          problems++;
          ctx.addIssue({ code: "custom", path: [i], message: `${n} is listed twice (also at index ${first}); list each number once` });
        } else seen.set(n, i);
      }
    });
}

const POOL_TEXT =
  "The numbers this agent calls from (its pool): 1 to 1,000 E.164 numbers (`+` and digits), each once, none belonging to an agent of another " +
  "workspace (agents of this workspace may share one). Which number places a call is decided per attempt by `callerId`. " +
  "Send either this or `fromNumber`, not both.";

const CALLER_ID_TEXT =
  "How a number of the pool is chosen for each attempt, and the limits every number keeps across all the workspace's batches " +
  "(defaults: strategy round_robin, perNumber.callsPerSecond 1). Absent or null: round-robin with no per-number limit, so even a pool " +
  "of one dials as fast as the workspace's limits allow (what an agent did before pools).";

/** An agent as the API shows it: never its signing secret. */
export const AgentSchema = z
  .object({
    agentId: z.string(),
    name: z.string(),
    provider: ProviderSchema,
    fromNumber: z.string().nullable().describe("the pool's first number (E.164), or null when the agent has none"),
    fromNumbers: z
      .array(z.string())
      .describe("the agent's pool of numbers in order ([] when none); `GET /v1/api/agents/{agentId}/numbers` shows each one's state and health")
      .openapi({ example: ["+14155550100", "+12125550100"] }),
    callerId: CallerIdOrNull.describe(CALLER_ID_TEXT),
    voiceUrl: z.string().nullable(),
    dialUrl: z.string().nullable(),
    resultSchema: ResultSchemaOrNull.describe(
      "what this agent's results hold (dispositions, data fields); null: any. A result outside it is refused with a 400. " +
        "A batch keeps the declaration as it was when the batch was created.",
    ),
    record: z.boolean().describe("twilio: Twilio records each call and the recording's URL becomes the result's recordingUrl"),
    createdAt: z.string(),
  })
  .openapi("Agent");
export type Agent = z.infer<typeof AgentSchema>;

const SECRET_TEXT =
  "Standard Webhooks secret (`whsec_` + base64 of 32 random bytes). Shown only in this response, stored only encrypted. " +
  "Every agent has one: it signs a webhook agent's dial requests, and the agent signs what it sends this service with it " +
  "(status reports, `GET /v1/agent/calls/{callId}`, results); such a request is applied only to that agent's calls.";

const SigningSecret = z.string().openapi({
  description: SECRET_TEXT,
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw7Uu0qqMJvFQ=",
});

/** The answer to creating an agent: the one time its secret is shown. */
export const CreatedAgentSchema = AgentSchema.extend({ signingSecret: SigningSecret }).openapi("CreatedAgent");

export const RotatedSecretSchema = z
  .object({
    agentId: z.string(),
    signingSecret: SigningSecret,
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .describe("until when (ISO 8601) the replaced secret still verifies the agent's requests; null if the agent had none"),
  })
  .openapi("RotatedSigningSecret");

const URL_POLICY = "https only (http is accepted when ENVIRONMENT is development), no user:password@, and no loopback, private, link-local or metadata host.";

const httpsUrl = z.url({ protocol: /^https?$/ });

const RECORD_TEXT = "twilio only: Twilio records each call and reports the recording, which becomes the result's recordingUrl. Default false.";

/** An agent's settings as they will be after a create or a change: what its provider needs, as a field and what to fix, or null. */
export function settingsProblem(a: {
  provider: Provider;
  /** The pool's size as it will be. */
  numbers: number;
  voiceUrl: string | null;
  dialUrl: string | null;
  record: boolean;
}): { field: string; message: string } | null {
  if (a.provider === "twilio" && (a.numbers === 0 || !a.voiceUrl)) {
    return { field: "provider", message: "a twilio agent needs a number to call from (fromNumber, or fromNumbers for a pool) and voiceUrl" };
  }
  if (a.provider === "webhook" && !a.dialUrl) return { field: "dialUrl", message: "a webhook agent needs dialUrl" };
  if (a.record && a.provider !== "twilio") {
    return { field: "record", message: `only twilio agents can record calls (this agent's provider is ${a.provider}); leave record out or false` };
  }
  return null;
}

/** fromNumber in any common spelling, read as a US number without `+`: a pool of one. */
const looseNumber = z.string().refine((n) => toE164(n, "US") !== null, { error: "must be a valid phone number, e.g. +14155550100" });

/** A body that sends both ways of giving the pool gets one sentence saying to choose. */
function notBoth(a: { fromNumber?: unknown; fromNumbers?: unknown }, ctx: z.RefinementCtx): void {
  if (a.fromNumber !== undefined && a.fromNumbers !== undefined) {
    ctx.addIssue({ code: "custom", path: ["fromNumbers"], message: "send fromNumber (one number) or fromNumbers (a pool), not both" });
  }
}

/** The pool a create or change asks for: fromNumbers as given, fromNumber as a pool of one, null (or []) as none; undefined: unchanged. */
export function requestedPool(a: { fromNumber?: string | null; fromNumbers?: string[] }): string[] | undefined {
  if (a.fromNumbers !== undefined) return a.fromNumbers;
  if (a.fromNumber === undefined) return undefined;
  return a.fromNumber === null ? [] : [toE164(a.fromNumber, "US")!];
}

export const CreateAgentSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    provider: ProviderSchema,
    fromNumber: looseNumber.optional().describe("caller id, a pool of one (read as a US number without +); a twilio agent needs it or fromNumbers"),
    fromNumbers: poolSchema(1)
      .optional()
      .describe(POOL_TEXT)
      .openapi({ example: ["+14155550100", "+12125550100"] }),
    callerId: CallerIdOrNull.optional().describe(CALLER_ID_TEXT),
    voiceUrl: httpsUrl.optional().describe(`TwiML / voice app URL; required for twilio. ${URL_POLICY}`),
    dialUrl: httpsUrl.optional().describe(`where dial requests are POSTed; required for webhook. ${URL_POLICY}`),
    resultSchema: ResultSchemaOrNull.optional().describe("what this agent's results hold; absent or null: any"),
    record: z.boolean().optional().describe(RECORD_TEXT),
  })
  .superRefine((a, ctx) => {
    notBoth(a, ctx);
    const problem = settingsProblem({
      provider: a.provider,
      numbers: (a.fromNumbers ?? (a.fromNumber ? [a.fromNumber] : [])).length,
      voiceUrl: a.voiceUrl ?? null,
      dialUrl: a.dialUrl ?? null,
      record: a.record ?? false,
    });
    if (problem) ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
  })
  .openapi("CreateAgent");
export type CreateAgent = z.infer<typeof CreateAgentSchema>;

const CHANGEABLE = "name, fromNumber, fromNumbers, callerId, voiceUrl, dialUrl, resultSchema, record";

/** A change to an agent: only the fields sent change; null clears a URL, the caller id or the declaration. */
export const UpdateAgentSchema = z
  .strictObject(
    {
      name: z.string().trim().min(1).max(200).optional(),
      fromNumber: looseNumber
        .nullable()
        .optional()
        .describe("replaces the pool with this one number; null empties the pool (a twilio agent cannot: it needs a number)"),
      fromNumbers: poolSchema(0)
        .optional()
        .describe(
          "replaces the pool: numbers that stay keep their enabled flag, the order becomes this one; [] empties it (not for a twilio agent). " +
            "The same rules as at creation apply.",
        )
        .openapi({ example: ["+14155550100", "+12125550100"] }),
      callerId: CallerIdOrNull.optional().describe("replaces the rules (defaults applied); null clears them: round-robin with no per-number limit"),
      voiceUrl: httpsUrl.nullable().optional().describe(`a twilio agent cannot clear it. ${URL_POLICY}`),
      dialUrl: httpsUrl.nullable().optional().describe(`a webhook agent cannot clear it. ${URL_POLICY}`),
      resultSchema: ResultSchemaOrNull.optional().describe("the new declaration; null clears it (any result)"),
      record: z.boolean().optional().describe(RECORD_TEXT),
    },
    {
      error: (iss) => {
        if (iss.code !== "unrecognized_keys") return undefined;
        if (iss.keys.includes("provider")) return "provider cannot change; create a new agent for another provider";
        return `unknown field ${iss.keys.join(", ")}; a change may name ${CHANGEABLE}`;
      },
    },
  )
  .superRefine(notBoth)
  .openapi("UpdateAgent");
export type UpdateAgent = z.infer<typeof UpdateAgentSchema>;
