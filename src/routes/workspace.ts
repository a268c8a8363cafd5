import { createRoute } from "@hono/zod-openapi";
import type * as z from "zod";
import { newApp } from "../app-factory";
import { ApiError } from "../errors";
import { issuesText } from "../lib/issues";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";
import { PatchOwnWorkspaceSchema, WorkspaceSchema } from "../schemas/workspace";
import { ownWorkspace, setContactPolicy } from "../services/workspaces";

const WORKSPACE_EXAMPLE = {
  workspaceId: "ws_0190a1b2c3d4e5f60718",
  name: "Acme",
  rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 50, reservedConcurrency: 5 },
  webhookUrl: "https://hooks.example.com/batch-calls",
  timezone: "America/New_York",
  contactPolicy: { maxAttempts: [{ count: 3, hours: 24 }], minGapMinutes: 60 },
  createdAt: "2026-03-01T09:00:00.000Z",
};

const HOW_THE_POLICY_WORKS =
  "The contact policy counts every attempt to a number (E.164) across all of the workspace's batches, whichever batch or agent makes it: " +
  '`{"maxAttempts":[{"count":3,"hours":24}]}` allows at most 3 attempts to one number in any 24 hours, and `minGapMinutes` keeps attempts to ' +
  "one number apart. An attempt that would break it never fails for it: the call waits, and `/calls` shows when it may happen " +
  '(`nextAttemptAt`) and why (`waitReason: "contact_policy"`). A change applies to the next attempt of every running batch, within about ' +
  "5 seconds (how often the engine re-reads the workspace). Attempts are counted while a policy is set; attempts made while the workspace " +
  "had none are not remembered, so a new policy starts from a clean slate.";

/**
 * The PATCH's validation: a field the key may not change is the whole answer
 * (it already says the request takes only contactPolicy), not one more line
 * after "contactPolicy is required".
 */
function strayFieldsFirst(result: { success: true } | { success: false; error: z.ZodError }): undefined {
  if (result.success) return undefined;
  const stray = result.error.issues.filter((i) => i.code === "unrecognized_keys" && i.path.length === 0);
  const shown = stray.length > 0 ? stray : result.error.issues;
  throw new ApiError("validation_failed", `The request is invalid: ${issuesText(shown)}.`, shown);
}

/** /v1/api/workspace: the workspace as its own key sees it, and the one setting the key may change (its contact policy). */
export function workspaceRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "get",
      path: "/workspace",
      tags: ["Workspace"],
      summary: "Read the key's workspace: limits, webhook URL, time zone, contact policy (never a secret)",
      description: `Rate limits, webhook URL and time zone are the operator's to set (admin API); the contact policy is yours (PATCH). ${HOW_THE_POLICY_WORKS}`,
      security: apiKeySecurity,
      request: { headers: workspaceHeaders },
      responses: {
        200: {
          description: "The workspace; `contactPolicy` is null when it has none",
          content: { "application/json": { schema: WorkspaceSchema, example: WORKSPACE_EXAMPLE } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => c.json(await ownWorkspace(c.env.DB, c.get("workspaceId")), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/workspace",
      tags: ["Workspace"],
      summary: "Set or remove the workspace's contact policy",
      description:
        "Takes exactly `{contactPolicy}`: a policy replaces the whole current one; `null`, or a policy with no rules and no gap, removes it. " +
        "Any other field is a 400: rate limits, webhook and time zone are set by the operator through the admin API " +
        `(PATCH /v1/admin/workspaces/{workspaceId}). Sending the same policy again changes nothing. ${HOW_THE_POLICY_WORKS}`,
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders,
        body: { content: { "application/json": { schema: PatchOwnWorkspaceSchema } }, required: true },
      },
      responses: {
        200: {
          description: "The workspace as it now is",
          content: { "application/json": { schema: WorkspaceSchema, example: WORKSPACE_EXAMPLE } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => c.json(await setContactPolicy(c.env.DB, c.get("workspaceId"), c.req.valid("json").contactPolicy, c.get("requestId")), 200),
    strayFieldsFirst,
  );

  return app;
}
