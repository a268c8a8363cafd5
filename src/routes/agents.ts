import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app";
import { deleteAgent, getAgent, insertAgent, listAgents, toAgent } from "../db/agent.repo";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { toE164 } from "../domain/phone";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";

export const AgentSchema = z
  .object({
    agentId: z.string(),
    name: z.string(),
    provider: z.enum(["simulated", "twilio", "webhook"]),
    fromNumber: z.string().nullable(),
    voiceUrl: z.string().nullable(),
    dialUrl: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Agent");

const httpsUrl = z.url({ protocol: /^https?$/ });

export const CreateAgentSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    provider: z.enum(["simulated", "twilio", "webhook"]),
    fromNumber: z.string().optional().describe("caller id in E.164; required for twilio"),
    voiceUrl: httpsUrl.optional().describe("TwiML / voice app URL; required for twilio"),
    dialUrl: httpsUrl.optional().describe("where dial requests are POSTed; required for webhook"),
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

export function agentRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "post",
      path: "/agents",
      tags: ["Agents"],
      summary: "Create an agent",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, body: { content: { "application/json": { schema: CreateAgentSchema } }, required: true } },
      responses: { 201: { description: "Created", content: { "application/json": { schema: AgentSchema } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const row = {
        id: newId("agent"),
        workspace_id: c.get("workspaceId"),
        name: body.name,
        provider: body.provider,
        from_number: body.fromNumber ? toE164(body.fromNumber, "US") : null,
        voice_url: body.voiceUrl ?? null,
        dial_url: body.dialUrl ?? null,
        created_at: new Date().toISOString(),
      };
      await insertAgent(c.env.DB, row);
      log("info", "agent.created", { requestId: c.get("requestId"), workspaceId: row.workspace_id, agentId: row.id });
      return c.json(toAgent({ ...row, deleted_at: null }), 201);
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

  return app;
}
