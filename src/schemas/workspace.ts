import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { ContactPolicySchema } from "../domain/contact-policy";
import { isIanaTimeZone } from "../domain/timezone";
import { PaginationSchema } from "./common";

/** What the API says of the inbound headroom wherever it can be set or read. */
export const RESERVED_CONCURRENCY_DOC =
  "Slots of maxConcurrentCalls that batches never use, kept free for inbound calls: batches together hold at most " +
  "maxConcurrentCalls − reservedConcurrency calls at once. A whole number from 0 (the default: batches may use every slot) " +
  "to maxConcurrentCalls − 1 (batches always keep one); a value that is not below maxConcurrentCalls, sent or already stored, is a 400 naming both.";

/**
 * A workspace's pacing: what a create or patch may set (each field
 * optional there), and what the API shows (every field, always).
 * reservedConcurrency's bound against maxConcurrentCalls needs both values,
 * one of which may be the stored one, so the service checks it.
 */
export const RateLimitsSchema = z.object({
  callsPerSecond: z.number().int().min(1).max(1000),
  maxConcurrentCalls: z.number().int().min(1).max(10000),
  reservedConcurrency: z.number().int().min(0).max(9999).describe(RESERVED_CONCURRENCY_DOC),
});

/** What the API says of a contact policy wherever it can be set or read. */
export const CONTACT_POLICY_DOC =
  "How often one number may be called, counted per number across all of the workspace's batches (rules are AND-ed: the strictest decides). " +
  'An attempt that would break it is not failed: the call waits, showing `nextAttemptAt` and `waitReason: "contact_policy"` in `/calls`, and is placed ' +
  "as soon as the policy allows. A change applies to the next attempt of every running batch (within about 5 seconds). Attempts are counted while a " +
  "policy is set: attempts made while the workspace had none are not remembered, so a new policy starts from a clean slate.";

/** A workspace as an operator sees it (and as its own key sees it): never its webhook secret. */
export const WorkspaceSchema = z
  .object({
    workspaceId: z.string(),
    name: z.string(),
    rateLimits: RateLimitsSchema,
    webhookUrl: z.string().nullable(),
    timezone: z.string().nullable(),
    contactPolicy: ContactPolicySchema.nullable().describe(`${CONTACT_POLICY_DOC} null: none.`),
    createdAt: z.string(),
  })
  .openapi("Workspace");
export type Workspace = z.infer<typeof WorkspaceSchema>;

/** GET /v1/admin/workspaces: a page of workspaces, newest first, shaped like the batch list. */
export const WorkspaceListSchema = z.object({ workspaces: z.array(WorkspaceSchema), pagination: PaginationSchema });
export type WorkspaceList = z.infer<typeof WorkspaceListSchema>;

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
export type WorkspaceDetail = z.infer<typeof WorkspaceDetailSchema>;

const webhookUrlDoc =
  "where outbound events are POSTed. Outside development: https only, no user:password@, " +
  "and no loopback, private, link-local or metadata host (400 says which rule failed).";

/** POST /v1/admin/workspaces: a new workspace; rate limits default to 1 call a second and 10 at once, none reserved. */
export const CreateWorkspaceSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    rateLimits: RateLimitsSchema.partial().optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe(webhookUrlDoc),
    timezone: z.string().refine(isIanaTimeZone, "must be an IANA time zone").optional(),
    contactPolicy: ContactPolicySchema.nullable().optional().describe(`${CONTACT_POLICY_DOC} Absent, null or one with no rules and no gap: none.`),
  })
  .openapi("CreateWorkspace");
export type CreateWorkspace = z.infer<typeof CreateWorkspaceSchema>;

/** PATCH /v1/admin/workspaces/{workspaceId}: what is absent stays; a null webhookUrl or timezone removes it. */
export const PatchWorkspaceSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    rateLimits: RateLimitsSchema.partial().optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable()
      .optional()
      .describe(`${webhookUrlDoc} null removes it.`),
    timezone: z.string().refine(isIanaTimeZone, "must be an IANA time zone").nullable().optional(),
    contactPolicy: ContactPolicySchema.nullable()
      .optional()
      .describe(`${CONTACT_POLICY_DOC} Replaces the whole policy; null (or one with no rules and no gap) removes it.`),
  })
  .openapi("PatchWorkspace");
export type PatchWorkspace = z.infer<typeof PatchWorkspaceSchema>;

const OPERATOR_FIELDS = "rate limits, webhook and timezone are set by the operator through the admin API (PATCH /v1/admin/workspaces/{workspaceId})";

/** PATCH /v1/api/workspace: the one setting a workspace's own key may change. */
export const PatchOwnWorkspaceSchema = z
  .strictObject(
    {
      contactPolicy: ContactPolicySchema.nullable().describe(
        `${CONTACT_POLICY_DOC} Replaces the whole policy; null (or one with no rules and no gap) removes it.`,
      ),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys"
          ? `${iss.keys.join(", ")} cannot be changed with the workspace's key: ${OPERATOR_FIELDS}; this request takes only contactPolicy`
          : undefined,
    },
  )
  .openapi("PatchOwnWorkspace", { example: { contactPolicy: { maxAttempts: [{ count: 3, hours: 24 }], minGapMinutes: 60 } } });
export type PatchOwnWorkspace = z.infer<typeof PatchOwnWorkspaceSchema>;

export const WorkspaceIdParam = z.object({ workspaceId: z.string().openapi({ param: { name: "workspaceId", in: "path" } }) });

export const ApiKeyIdParams = WorkspaceIdParam.extend({ keyId: z.string().openapi({ param: { name: "keyId", in: "path" } }) });

/** A new workspace with its first API key and its webhook secret, each shown only in this answer. */
export const CreatedWorkspaceSchema = WorkspaceSchema.extend({ apiKey: z.string(), keyId: z.string(), webhookSecret: z.string() });
export type CreatedWorkspace = z.infer<typeof CreatedWorkspaceSchema>;

export const RotatedWebhookSecretSchema = z.object({ workspaceId: z.string(), webhookSecret: z.string() }).openapi("RotatedWebhookSecret");
export type RotatedWebhookSecret = z.infer<typeof RotatedWebhookSecretSchema>;

export const IssuedApiKeySchema = z.object({ keyId: z.string(), apiKey: z.string(), workspaceId: z.string() });
export type IssuedApiKey = z.infer<typeof IssuedApiKeySchema>;

export const RevokedApiKeySchema = z.object({ keyId: z.string(), revoked: z.literal(true) });
export type RevokedApiKey = z.infer<typeof RevokedApiKeySchema>;
