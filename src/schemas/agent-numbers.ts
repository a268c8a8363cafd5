import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

const rate = (window: string) =>
  z
    .number()
    .nullable()
    .describe(`answered attempts ÷ attempts over the last ${window}, rounded to 3 decimals; null when it placed none`)
    .openapi({ example: 0.412 });

/** One number of an agent's pool, with how it has been doing across all the workspace's batches. */
export const PoolNumberSchema = z
  .object({
    e164: z.string().openapi({ example: "+14155550100" }),
    enabled: z.boolean().describe("false: resting; no new attempt starts from it until it is enabled again"),
    position: z.number().int().describe("its place in the pool (0 first), the order fromNumbers gave"),
    attempts24h: z.number().int().describe("attempts that started from it in the last 24 hours, every batch of the workspace counted"),
    answerRate24h: rate("24 hours"),
    attempts7d: z.number().int().describe("attempts that started from it in the last 7 days"),
    answerRate7d: rate("7 days"),
    lastStartAt: z.string().nullable().describe("when (ISO 8601) its latest attempt started, or null").openapi({ example: "2025-03-12T10:04:00.000Z" }),
  })
  .openapi("PoolNumber");
export type PoolNumber = z.infer<typeof PoolNumberSchema>;

export const PoolNumbersSchema = z.object({ numbers: z.array(PoolNumberSchema).describe("the pool in order") }).openapi("PoolNumbers");

/** Resting or waking one number: the only change a number takes (its place and presence are fromNumbers' job). */
export const PoolNumberChangeSchema = z
  .strictObject(
    { enabled: z.boolean().describe("false rests the number, true puts it back to work").openapi({ example: false }) },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys"
          ? `unknown field ${iss.keys.join(", ")}; a number's change names only enabled (change the pool itself with PATCH /v1/api/agents/{agentId} fromNumbers)`
          : undefined,
    },
  )
  .openapi("PoolNumberChange");

export const AgentNumberParams = z.object({
  agentId: z.string().openapi({ param: { name: "agentId", in: "path" } }),
  e164: z.string().openapi({
    param: { name: "e164", in: "path", description: "the number in E.164, URL-encoded (+ as %2B, or as it is)" },
    example: "+14155550100",
  }),
});
