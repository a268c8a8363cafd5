import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { type AgentChanges, deleteAgent, getAgent, getAgentWithPool, insertAgent, listAgents, rotateAgentSecret, toAgent, updateAgent } from "../db/agent.repo";
import { ApiError } from "../errors";
import { encryptSecret } from "../lib/crypto";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { newWebhookSecret } from "../lib/signing";
import { tenantUrlProblem } from "../lib/url-policy";
import { PREVIOUS_SECRET_GRACE_MS } from "../telephony/webhook";
import {
  AgentSchema,
  CreateAgentSchema,
  CreatedAgentSchema,
  requestedPool,
  RotatedSecretSchema,
  settingsProblem,
  UpdateAgentSchema,
  type UpdateAgent,
} from "../schemas/agent";
import { agentNumberRoutes, checkNumbersFree, poolChanged } from "./agent-numbers";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";

const AgentIdParam = z.object({ agentId: z.string().openapi({ param: { name: "agentId", in: "path" } }) });

/** The tenant-URL policy on the URLs this service will call: the first problem, as the 400's sentence. */
function checkUrls(body: { dialUrl?: string | null; voiceUrl?: string | null }, env: Env): void {
  for (const field of ["dialUrl", "voiceUrl"] as const) {
    const value = body[field];
    const problem = value === undefined || value === null ? null : tenantUrlProblem(field, value, env);
    if (problem) throw new ApiError("validation_failed", problem);
  }
}

/** A pool's number changed hands while the request ran and is free again: nothing was written, and sending it again settles it. */
const raced = () =>
  new ApiError(
    "invalid_transition",
    "A number of the pool was taken and released by another workspace while this request ran; nothing changed, send it again.",
  );

function encryptionKey(env: Env): string {
  if (!env.SECRETS_ENCRYPTION_KEY) throw new Error("SECRETS_ENCRYPTION_KEY is not configured");
  return env.SECRETS_ENCRYPTION_KEY;
}

/** JSON of a declaration or caller-id rules as stored; undefined (unchanged) and null (cleared) as they are. */
const jsonOrNull = (v: unknown) => (v === undefined ? undefined : v === null ? null : JSON.stringify(v));

/** The columns a change writes: only what was sent; the declaration and caller-id rules as JSON (from_number follows the pool). */
function changesOf(body: UpdateAgent): AgentChanges {
  return {
    name: body.name,
    caller_id: jsonOrNull(body.callerId),
    voice_url: body.voiceUrl,
    dial_url: body.dialUrl,
    result_schema: jsonOrNull(body.resultSchema),
    record: body.record === undefined ? undefined : body.record ? 1 : 0,
  };
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
        "Every agent gets its own signing secret, returned once as `signingSecret` (like an API key: keep it, it is never shown again; " +
        "`POST /v1/api/agents/{agentId}/rotate-secret` issues a new one). A `webhook` agent's dial requests are signed with it, and every agent " +
        "signs its requests to `/v1/agent/...` and its status reports with it. `dialUrl` and `voiceUrl` must be public https URLs. " +
        "`resultSchema` declares what the agent's results hold; `record` (twilio only) records its calls. " +
        "`fromNumbers` gives the agent a pool of numbers to call from (`fromNumber`, one number, is a pool of one) and `callerId` how each " +
        "attempt's number is chosen and how hard each number may be used; a number of another workspace's agent is a 400.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, body: { content: { "application/json": { schema: CreateAgentSchema } }, required: true } },
      responses: {
        201: {
          description: "Created. `signingSecret` is shown only here.",
          content: { "application/json": { schema: CreatedAgentSchema } },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const workspaceId = c.get("workspaceId");
      checkUrls(body, c.env);
      const pool = requestedPool(body) ?? [];
      const field = body.fromNumbers === undefined ? "fromNumber" : "fromNumbers";
      await checkNumbersFree(c.env.DB, workspaceId, pool, field);
      const signingSecret = newWebhookSecret();
      const row = {
        id: newId("agent"),
        workspace_id: workspaceId,
        name: body.name,
        provider: body.provider,
        from_number: pool[0] ?? null,
        caller_id: body.callerId ? JSON.stringify(body.callerId) : null,
        voice_url: body.voiceUrl ?? null,
        dial_url: body.dialUrl ?? null,
        result_schema: body.resultSchema ? JSON.stringify(body.resultSchema) : null,
        record: body.record ? 1 : 0,
        created_at: new Date().toISOString(),
        signing_secret_enc: await encryptSecret(signingSecret, encryptionKey(c.env)),
      };
      if (!(await insertAgent(c.env.DB, row, pool))) {
        // Another workspace took a number between the check and the write: the check now names it.
        await checkNumbersFree(c.env.DB, workspaceId, pool, field);
        throw raced();
      }
      if (pool.length > 0 || row.caller_id !== null) await poolChanged(c.env, workspaceId, row.id, c.get("requestId"));
      log("info", "agent.created", { requestId: c.get("requestId"), workspaceId, agentId: row.id, numbers: pool.length });
      const agent = toAgent({ ...row, deleted_at: null, previous_secret_enc: null, previous_secret_expires_at: null }, pool);
      return c.json({ ...agent, signingSecret }, 201);
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
    async (c) => c.json({ agents: (await listAgents(c.env.DB, c.get("workspaceId"))).map((a) => toAgent(a.row, a.numbers)) }, 200),
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
      const found = await getAgentWithPool(c.env.DB, c.get("workspaceId"), agentId);
      if (!found) throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      return c.json(toAgent(found.row, found.numbers), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/agents/{agentId}",
      tags: ["Agents"],
      summary: "Change an agent",
      description:
        "Changes only the fields sent; `null` clears `fromNumber`, `callerId`, `voiceUrl`, `dialUrl` or `resultSchema` where the provider allows it. " +
        "`fromNumbers` replaces the pool (numbers that stay keep their enabled flag; `[]` empties it) and `fromNumber` makes it a pool of one; " +
        "running batches dial from the new pool and follow the new `callerId` from their next attempt. " +
        "The same rules as at creation apply to the agent as it would be, and `provider` cannot change (a 400 when sent). " +
        "Apart from its numbers and `callerId`, a batch keeps its agent as it was when the batch was created: its `voiceUrl`, `dialUrl`, `record`, and the " +
        "`resultSchema` its results are checked against and its exports' columns follow; a change applies to batches created after it.",
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders,
        params: AgentIdParam,
        body: { content: { "application/json": { schema: UpdateAgentSchema } }, required: true },
      },
      responses: {
        200: { description: "The agent as it now is", content: { "application/json": { schema: AgentSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { agentId } = c.req.valid("param");
      const body = c.req.valid("json");
      const workspaceId = c.get("workspaceId");
      if (Object.keys(body).length === 0) {
        throw new ApiError(
          "validation_failed",
          "The request changes nothing; send at least one of name, fromNumber, fromNumbers, callerId, voiceUrl, dialUrl, resultSchema, record.",
        );
      }
      const agent = await getAgent(c.env.DB, workspaceId, agentId);
      if (!agent) throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      checkUrls(body, c.env);
      const pool = requestedPool(body);
      const problem = settingsProblem({
        provider: agent.provider,
        // from_number is the pool's first number: null exactly when the pool is empty.
        numbers: pool === undefined ? (agent.from_number === null ? 0 : 1) : pool.length,
        voiceUrl: body.voiceUrl === undefined ? agent.voice_url : body.voiceUrl,
        dialUrl: body.dialUrl === undefined ? agent.dial_url : body.dialUrl,
        record: body.record ?? agent.record === 1,
      });
      if (problem) throw new ApiError("validation_failed", `The request is invalid: ${problem.field}: ${problem.message}.`);
      const field = body.fromNumbers === undefined ? "fromNumber" : "fromNumbers";
      if (pool) await checkNumbersFree(c.env.DB, workspaceId, pool, field);
      // Provider is fixed, so what it needs cannot be undone by another change in between: no read-check-write race to close.
      const changed = await updateAgent(c.env.DB, workspaceId, agentId, changesOf(body), pool);
      if (!changed) {
        // Nothing was written: the agent went, or another workspace took a number since the check (which now names it).
        if (pool) await checkNumbersFree(c.env.DB, workspaceId, pool, field);
        if (!(await getAgent(c.env.DB, workspaceId, agentId))) throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
        throw raced();
      }
      if (pool !== undefined || body.callerId !== undefined) await poolChanged(c.env, workspaceId, agentId, c.get("requestId"));
      log("info", "agent.updated", { requestId: c.get("requestId"), workspaceId, agentId });
      return c.json(toAgent(changed.row, changed.numbers), 200);
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
      // Its pool stays (batches started with it keep dialling from it); the limiter re-reads it all the same.
      await poolChanged(c.env, c.get("workspaceId"), agentId, c.get("requestId"));
      log("info", "agent.deleted", { requestId: c.get("requestId"), workspaceId: c.get("workspaceId"), agentId });
      return c.json({ agentId, deleted: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/agents/{agentId}/rotate-secret",
      tags: ["Agents"],
      summary: "Rotate an agent's signing secret",
      description:
        "Issues a new signing secret, shown only in this response; dial requests are signed with it from now on. " +
        "The replaced secret keeps verifying the agent's requests (status reports, call context, results) for 24 hours, so the agent can switch " +
        "without losing any; rotating again within those 24 hours retires the older one at once (only one previous secret is kept). " +
        "Works for every provider; an agent created before every agent had a secret gets its first (`previousSecretExpiresAt` null).",
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
      const signingSecret = newWebhookSecret();
      const graceEnds = new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS).toISOString();
      const sealed = await encryptSecret(signingSecret, encryptionKey(c.env));
      // Conditional on the agent still being a live agent of this workspace: a delete in between wins.
      if (!(await rotateAgentSecret(c.env.DB, workspaceId, agentId, sealed, graceEnds))) {
        throw new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);
      }
      log("info", "agent.secret_rotated", { requestId: c.get("requestId"), workspaceId, agentId });
      return c.json({ agentId, signingSecret, previousSecretExpiresAt: agent.signing_secret_enc ? graceEnds : null }, 200);
    },
  );

  app.route("/", agentNumberRoutes());

  return app;
}
