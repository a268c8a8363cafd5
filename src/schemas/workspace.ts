import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

/** A workspace's pacing: what a create or patch may set, and what the API shows. */
export const RateLimitsSchema = z.object({
  callsPerSecond: z.number().int().min(1).max(1000),
  maxConcurrentCalls: z.number().int().min(1).max(10000),
});

/** A workspace as an operator sees it: never its webhook secret. */
export const WorkspaceSchema = z
  .object({
    workspaceId: z.string(),
    name: z.string(),
    rateLimits: RateLimitsSchema,
    webhookUrl: z.string().nullable(),
    timezone: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Workspace");
export type Workspace = z.infer<typeof WorkspaceSchema>;

/** An API key as an operator sees it: its id and state, never its hash. */
export const ApiKeyStateSchema = z
  .object({
    keyId: z.string(),
    state: z.enum(["active", "revoked"]),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi("ApiKeyState");
export type ApiKeyState = z.infer<typeof ApiKeyStateSchema>;

export const WorkspaceDetailSchema = WorkspaceSchema.extend({
  apiKeys: z.array(ApiKeyStateSchema).describe("every key ever issued for the workspace, oldest first; ids and state only, never a secret"),
}).openapi("WorkspaceDetail");
