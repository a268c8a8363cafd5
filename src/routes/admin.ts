import { createRoute } from "@hono/zod-openapi";
import { newApp } from "../app-factory";
import { adminSecurity, errorResponses, PaginationQuerySchema } from "../schemas/common";
import {
  ApiKeyIdParams,
  CreatedWorkspaceSchema,
  CreateWorkspaceSchema,
  IssuedApiKeySchema,
  PatchWorkspaceSchema,
  RevokedApiKeySchema,
  RotatedWebhookSecretSchema,
  WorkspaceDetailSchema,
  WorkspaceIdParam,
  WorkspaceListSchema,
  WorkspaceSchema,
} from "../schemas/workspace";
import { createWorkspace, issueApiKey, patchWorkspace, revokeKey, rotateWebhookSecret, workspaceDetail, workspaceList } from "../services/workspaces";

/** /v1/admin: workspaces, their API keys and webhook secrets (the operator's bearer token). */
export function adminRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "post",
      path: "/workspaces",
      tags: ["Admin"],
      summary: "Create a workspace with its first API key",
      description:
        "Rate limits default to 1 call a second and 10 at once, none of them reserved. `rateLimits.reservedConcurrency` keeps that many of " +
        "`maxConcurrentCalls` free for inbound calls (batches never use them); it must be below `maxConcurrentCalls` (given or the default 10), " +
        "else a 400 names both values and nothing is created. `contactPolicy` (optional) caps how often one number is called across all of the " +
        "workspace's batches; the workspace's own key can read it (`GET /v1/api/workspace`) and change it (`PATCH /v1/api/workspace`).",
      security: adminSecurity,
      request: { body: { content: { "application/json": { schema: CreateWorkspaceSchema } }, required: true } },
      responses: {
        201: {
          description: "Created. `apiKey` and `webhookSecret` are shown only here.",
          content: { "application/json": { schema: CreatedWorkspaceSchema } },
        },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => c.json(await createWorkspace(c.env, c.req.valid("json"), c.get("requestId")), 201),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/workspaces",
      tags: ["Admin"],
      summary: "List workspaces, newest first",
      description:
        "Paged like GET /v1/api/batch-calls: `page` from 1, `limit` 1 to 100 (default 20). Each workspace as GET /workspaces/{workspaceId} shows it, " +
        "without its API keys; never a secret.",
      security: adminSecurity,
      request: { query: PaginationQuerySchema },
      responses: {
        200: { description: "A page of workspaces", content: { "application/json": { schema: WorkspaceListSchema } } },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const { page, limit } = c.req.valid("query");
      return c.json(await workspaceList(c.env.DB, page, limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/workspaces/{workspaceId}",
      tags: ["Admin"],
      summary: "Read a workspace back: limits, webhook URL, time zone, contact policy and its API keys' ids and state (never a secret)",
      security: adminSecurity,
      request: { params: WorkspaceIdParam },
      responses: {
        200: { description: "The workspace", content: { "application/json": { schema: WorkspaceDetailSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => c.json(await workspaceDetail(c.env.DB, c.req.valid("param").workspaceId), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/workspaces/{workspaceId}/webhook-secret",
      tags: ["Admin"],
      summary: "Rotate the workspace's outbound webhook signing secret",
      description:
        "The old secret stops signing at once: every delivery from now on, retries of earlier events included, " +
        "is signed with the new one, so give the new secret to the receiver's verifier straight away.",
      security: adminSecurity,
      request: { params: WorkspaceIdParam },
      responses: {
        200: {
          description: "Rotated. `webhookSecret` (Standard Webhooks `whsec_<base64 key>` form) is shown only here.",
          content: { "application/json": { schema: RotatedWebhookSecretSchema } },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => c.json(await rotateWebhookSecret(c.env, c.req.valid("param").workspaceId, c.get("requestId")), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/workspaces/{workspaceId}",
      tags: ["Admin"],
      summary: "Change a workspace's name, limits, webhook, time zone or contact policy",
      description:
        "Changes only the fields sent. `null` removes `webhookUrl`, `timezone` or `contactPolicy`; a `contactPolicy` replaces the whole policy " +
        "(one with no rules and no gap is stored as none) and applies to the next attempt of every running batch, within about 5 seconds. " +
        "`rateLimits.reservedConcurrency` (slots of `maxConcurrentCalls` kept for inbound calls) must stay below `maxConcurrentCalls`, " +
        "the one sent or the one stored: raising the reservation to the limit, or lowering the limit to the reservation, is a 400 naming " +
        "both values, and nothing changes. New limits reach running batches within about 5 seconds.",
      security: adminSecurity,
      request: { params: WorkspaceIdParam, body: { content: { "application/json": { schema: PatchWorkspaceSchema } }, required: true } },
      responses: {
        200: { description: "The workspace as it now is", content: { "application/json": { schema: WorkspaceSchema } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => c.json(await patchWorkspace(c.env, c.req.valid("param").workspaceId, c.req.valid("json"), c.get("requestId")), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/workspaces/{workspaceId}/api-keys",
      tags: ["Admin"],
      summary: "Issue another API key for a workspace",
      security: adminSecurity,
      request: { params: WorkspaceIdParam },
      responses: {
        201: { description: "Created. `apiKey` is shown only here.", content: { "application/json": { schema: IssuedApiKeySchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => c.json(await issueApiKey(c.env.DB, c.req.valid("param").workspaceId, c.get("requestId")), 201),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/workspaces/{workspaceId}/api-keys/{keyId}",
      tags: ["Admin"],
      summary: "Revoke an API key (revoking twice is harmless)",
      security: adminSecurity,
      request: { params: ApiKeyIdParams },
      responses: {
        200: { description: "Revoked", content: { "application/json": { schema: RevokedApiKeySchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { workspaceId, keyId } = c.req.valid("param");
      return c.json(await revokeKey(c.env.DB, workspaceId, keyId, c.get("requestId")), 200);
    },
  );

  return app;
}
