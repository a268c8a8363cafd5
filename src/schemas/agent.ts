import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { ResultSchemaSchema } from "../domain/agent-result";
import { toE164 } from "../domain/phone";
import { type Provider, ProviderSchema } from "../domain/vocabulary";

/**
 * A declaration or null. Written as a union, not `.nullable()`: the OpenAPI
 * generator would otherwise register the nullable copy, with this field's
 * description, as the ResultSchema component itself. A union that fails says
 * only "Invalid input", so its message is the declaration's own first problem.
 */
const ResultSchemaOrNull = z.union([ResultSchemaSchema, z.null()], {
  error: (iss) => {
    if (iss.code !== "invalid_union") return undefined;
    const first = iss.errors[0]?.[0];
    if (!first || first.path.length === 0) return "must be an object ({dispositions?, fields?}) or null";
    return `${first.path.map(String).join(".")}: ${first.message}`;
  },
});

/** An agent as the API shows it: never its signing secret. */
export const AgentSchema = z
  .object({
    agentId: z.string(),
    name: z.string(),
    provider: ProviderSchema,
    fromNumber: z.string().nullable(),
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
  fromNumber: string | null;
  voiceUrl: string | null;
  dialUrl: string | null;
  record: boolean;
}): { field: string; message: string } | null {
  if (a.fromNumber !== null && toE164(a.fromNumber, "US") === null) {
    return { field: "fromNumber", message: "must be a valid phone number, e.g. +14155550100" };
  }
  if (a.provider === "twilio" && (!a.fromNumber || !a.voiceUrl)) return { field: "provider", message: "a twilio agent needs fromNumber and voiceUrl" };
  if (a.provider === "webhook" && !a.dialUrl) return { field: "dialUrl", message: "a webhook agent needs dialUrl" };
  if (a.record && a.provider !== "twilio") {
    return { field: "record", message: `only twilio agents can record calls (this agent's provider is ${a.provider}); leave record out or false` };
  }
  return null;
}

export const CreateAgentSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    provider: ProviderSchema,
    fromNumber: z.string().optional().describe("caller id in E.164; required for twilio"),
    voiceUrl: httpsUrl.optional().describe(`TwiML / voice app URL; required for twilio. ${URL_POLICY}`),
    dialUrl: httpsUrl.optional().describe(`where dial requests are POSTed; required for webhook. ${URL_POLICY}`),
    resultSchema: ResultSchemaOrNull.optional().describe("what this agent's results hold; absent or null: any"),
    record: z.boolean().optional().describe(RECORD_TEXT),
  })
  .superRefine((a, ctx) => {
    const problem = settingsProblem({
      provider: a.provider,
      fromNumber: a.fromNumber ?? null,
      voiceUrl: a.voiceUrl ?? null,
      dialUrl: a.dialUrl ?? null,
      record: a.record ?? false,
    });
    if (problem) ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
  })
  .openapi("CreateAgent");
export type CreateAgent = z.infer<typeof CreateAgentSchema>;

const CHANGEABLE = "name, fromNumber, voiceUrl, dialUrl, resultSchema, record";

/** A change to an agent: only the fields sent change; null clears a URL, the caller id or the declaration. */
export const UpdateAgentSchema = z
  .strictObject(
    {
      name: z.string().trim().min(1).max(200).optional(),
      fromNumber: z.string().nullable().optional().describe("caller id in E.164; a twilio agent cannot clear it"),
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
  .openapi("UpdateAgent");
export type UpdateAgent = z.infer<typeof UpdateAgentSchema>;
