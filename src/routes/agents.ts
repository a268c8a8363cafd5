import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { deleteAgent, getAgent, insertAgent, listAgents, rotateAgentSecret, toAgent } from "../db/agent.repo";
import { ApiError } from "../errors";
import { encryptSecret } from "../lib/crypto";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { newWebhookSecret } from "../lib/signing";
import { tenantUrlProblem } from "../lib/url-policy";
import { PREVIOUS_SECRET_GRACE_MS } from "../telephony/webhook";
import { toE164 } from "../domain/phone";
import { AgentSchema, CreatedAgentSchema, RotatedSecretSchema } from "../schemas/agent";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";
import { ProviderSchema } from "../domain/vocabulary";

const URL_POLICY = "https only (http is accepted when ENVIRONMENT is development), no user:password@, and no loopback, private, link-local or metadata host.";

const httpsUrl = z.url({ protocol: /^https?$/ });

export const CreateAgentSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    provider: ProviderSchema,
    fromNumber: z.string().optional().describe("caller id in E.164; required for twilio"),
    voiceUrl: httpsUrl.optional().describe(`TwiML / voice app URL; required for twilio. ${URL_POLICY}`),
    dialUrl: httpsUrl.optional().describe(`where dial requests are POSTed; required for webhook. ${URL_POLICY}`),
  })
  .superRefine((a, ctx) => {
    if (a.fromNumber !== undefined && toE164(a.fromNumber, "US") === null) {
      ctx.addIssue({ code: "custom", path: ["fromNumber"], message: "must be a valid phone number, e.g. +14155550100" });
    }
    if (a.provider === "twilio" && (!a.fromNumber || !a.voiceUrl)) {
      ctx.addIssue({ code: "custom", path: ["provider"], message: "a twilio agent needs fromNumber and voiceUrl" });
    }
    if (a.provider === "webhook" && !a.dialUrl) {
      ctx.addIssue({ code: "custom", path: ["dialUrl"], message: "a webhook agent needs dialUrl" });
    }
  })
  .openapi("CreateAgent");

const AgentIdParam = z.object({ agentId: z.string().openapi({ param: { name: "agentId", in: "path" } }) });

/** The tenant-URL policy on the URLs this service will call: the first problem, as the 400's sentence. */
function checkUrls(body: z.infer<typeof CreateAgentSchema>, env: Env): void {
  for (const field of ["dialUrl", "voiceUrl"] as const) {
    const value = body[field];
    const problem = value === undefined ? null : tenantUrlProblem(field, value, env);
    if (problem) throw new ApiError("validation_failed", problem);
  }
}

function encryptionKey(env: Env): string {
  if (!env.SECRETS_ENCRYPTION_KEY) throw new Error("SECRETS_ENCRYPTION_KEY is not configured");
  return env.SECRETS_ENCRYPTION_KEY;
}

export function agentRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "post",
      path: "/agents",
      tags: ["Agents"],
      summary: "Create an agent",
      description:
        "A `webhook` agent gets its own signing secret, returned once as `signingSecret` (like an API key: keep it, it is never shown again; " +
        "`POST /v1/api/agents/{agentId}/rotate-secret` issues a new one). `dialUrl` and `voiceUrl` must be public https URLs.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, body: { content: { "application/json": { schema: CreateAgentSchema } }, required: true } },
      responses: {
        201: {
          description: "Created. `signingSecret` (webhook agents only) is shown only here.",
          content: { "application/json": { schema: CreatedAgentSchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      checkUrls(body, c.env);
      const signingSecret = body.provider === "webhook" ? newWebhookSecret() : undefined;
      const row = {
        id: newId("agent"),
        workspace_id: c.get("workspaceId"),
        name: body.name,
        provider: body.provider,
        from_number: body.fromNumber ? toE164(body.fromNumber, "US") : null,
        voice_url: body.voiceUrl ?? null,
        dial_url: body.dialUrl ?? null,
        created_at: new Date().toISOString(),
        signing_secret_enc: signingSecret ? await encryptSecret(signingSecret, encryptionKey(c.env)) : null,
      };
      await insertAgent(c.env.DB, row);
      log("info", "agent.created", { requestId: c.get("requestId"), workspaceId: row.workspace_id, agentId: row.id });
      return c.json(
        { ...toAgent({ ...row, deleted_at: null, previous_secret_enc: null, previous_secret_expires_at: null }), ...(signingSecret ? { signingSecret } : {}) },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/agents",
      tags: ["Agents"],
      summary: "List the workspace's agents",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders },
      responses: {
        200: { description: "Agents, newest first", content: { "application/json": { schema: z.object({ agents: z.array(AgentSchema) }) } } },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => c.json({ agents: (await listAgents(c.env.DB, c.get("workspaceId"))).map(toAgent) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/agents/{agentId}",
      tags: ["Agents"],
      summary: "Get an agent",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: AgentIdParam },
      responses: { 200: { description: "The agent", content: { "application/json": { schema: AgentSchema } } }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { agentId } = c.req.valid("param");
      const row = await getAgent(c.env.DB, c.get("workspaceId"), agentId);
      if (!row) throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      return c.json(toAgent(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/agents/{agentId}",
      tags: ["Agents"],
      summary: "Delete an agent (batches already started with it keep it)",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: AgentIdParam },
      responses: {
        200: { description: "Deleted", content: { "application/json": { schema: z.object({ agentId: z.string(), deleted: z.literal(true) }) } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { agentId } = c.req.valid("param");
      if (!(await deleteAgent(c.env.DB, c.get("workspaceId"), agentId, new Date().toISOString()))) {
        throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      }
      log("info", "agent.deleted", { requestId: c.get("requestId"), workspaceId: c.get("workspaceId"), agentId });
      return c.json({ agentId, deleted: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/agents/{agentId}/rotate-secret",
      tags: ["Agents"],
      summary: "Rotate a webhook agent's signing secret",
      description:
        "Issues a new signing secret, shown only in this response; dial requests are signed with it from now on. " +
        "The replaced secret keeps verifying status reports for 24 hours, so the dialer can switch without losing reports; " +
        "rotating again within those 24 hours retires the older one at once (only one previous secret is kept). " +
        "Only `webhook` agents have a signing secret: for any other agent the answer is a 400 (`bad_request`) that says so.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: AgentIdParam },
      responses: {
        200: { description: "The new secret (shown only here)", content: { "application/json": { schema: RotatedSecretSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { agentId } = c.req.valid("param");
      const workspaceId = c.get("workspaceId");
      const agent = await getAgent(c.env.DB, workspaceId, agentId);
      if (!agent) throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      if (agent.provider !== "webhook") {
        throw new ApiError("bad_request", `Agent ${agentId} uses the ${agent.provider} provider; only webhook agents have a signing secret to rotate.`);
      }
      const signingSecret = newWebhookSecret();
      const graceEnds = new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS).toISOString();
      const sealed = await encryptSecret(signingSecret, encryptionKey(c.env));
      // Conditional on the agent still being a live webhook agent of this workspace: a delete in between wins.
      if (!(await rotateAgentSecret(c.env.DB, workspaceId, agentId, sealed, graceEnds))) {
        throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      }
      log("info", "agent.secret_rotated", { requestId: c.get("requestId"), workspaceId, agentId });
      return c.json({ agentId, signingSecret, previousSecretExpiresAt: agent.signing_secret_enc ? graceEnds : null }, 200);
    },
  );

  return app;
}
