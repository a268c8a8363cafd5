import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { ProviderSchema } from "../domain/vocabulary";

/** An agent as the API shows it: never its signing secret. */
export const AgentSchema = z
  .object({
    agentId: z.string(),
    name: z.string(),
    provider: ProviderSchema,
    fromNumber: z.string().nullable(),
    voiceUrl: z.string().nullable(),
    dialUrl: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Agent");
export type Agent = z.infer<typeof AgentSchema>;

const SECRET_TEXT =
  "Standard Webhooks secret (`whsec_` + base64 of 32 random bytes). Shown only in this response, stored only encrypted. " +
  "It signs the agent's dial requests, and a status report for one of its calls is applied only when signed with it.";

const SigningSecret = z.string().openapi({
  description: SECRET_TEXT,
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw7Uu0qqMJvFQ=",
});

/** The answer to creating an agent: the one time a webhook agent's secret is shown. */
export const CreatedAgentSchema = AgentSchema.extend({
  signingSecret: SigningSecret.optional().openapi({ description: `\`webhook\` agents only. ${SECRET_TEXT}` }),
}).openapi("CreatedAgent");

export const RotatedSecretSchema = z
  .object({
    agentId: z.string(),
    signingSecret: SigningSecret,
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .describe("until when (ISO 8601) the replaced secret still verifies status reports; null if the agent had none"),
  })
  .openapi("RotatedSigningSecret");
