import { createRoute } from "@hono/zod-openapi";
import { newApp } from "../app-factory";
import { getAgent } from "../db/agent.repo";
import { numbersTakenElsewhere, type PoolNumberRow, poolRead, setNumberEnabled } from "../db/agent-numbers.repo";
import type { NumberStats } from "../durable/workspace-limiter";
import { ApiError } from "../errors";
import { log } from "../lib/log";
import { AgentNumberParams, type PoolNumber, PoolNumberChangeSchema, PoolNumberSchema, PoolNumbersSchema } from "../schemas/agent-numbers";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";

const E164_SHAPE = /^\+[1-9][0-9]{1,14}$/;

/**
 * A 400 naming the first number of the pool that belongs to an agent of
 * another workspace (never which workspace). A number serves one workspace:
 * the limiter keeps a number's limits per workspace, so two workspaces on
 * one number could together break them.
 */
export async function checkNumbersFree(db: D1Database, workspaceId: string, pool: string[], field: "fromNumber" | "fromNumbers"): Promise<void> {
  const [taken] = await numbersTakenElsewhere(db, workspaceId, pool);
  if (taken === undefined) return;
  const where = field === "fromNumbers" ? `fromNumbers.${pool.indexOf(taken)}` : "fromNumber";
  throw new ApiError(
    "validation_failed",
    `The request is invalid: ${where}: ${taken} belongs to an agent of another workspace; a number can call for one workspace only, so use another.`,
  );
}

/**
 * Tells the workspace's limiter that an agent's pool or caller-id rules
 * changed, so running batches use the change from their next attempt.
 * The write has landed before this runs, and the limiter re-reads a pool
 * every few seconds anyway: a limiter that cannot be told now is logged,
 * not turned into a failed request for a change that was made.
 */
export async function poolChanged(env: Env, workspaceId: string, agentId: string, requestId: string): Promise<void> {
  try {
    await env.WORKSPACE_LIMITER.getByName(workspaceId).forgetPool(agentId);
  } catch (err) {
    log("warn", "agent.pool_notice_failed", { requestId, workspaceId, agentId, error: String(err) });
  }
}

/** answered ÷ attempts to 3 decimals; null when there were no attempts. */
const rate = (answered: number, attempts: number) => (attempts === 0 ? null : Math.round((answered / attempts) * 1000) / 1000);

function poolNumberOf(n: PoolNumberRow, s: NumberStats | undefined): PoolNumber {
  return {
    e164: n.e164,
    enabled: n.enabled === 1,
    position: n.position,
    attempts24h: s?.attempts24h ?? 0,
    answerRate24h: rate(s?.answered24h ?? 0, s?.attempts24h ?? 0),
    attempts7d: s?.attempts7d ?? 0,
    answerRate7d: rate(s?.answered7d ?? 0, s?.attempts7d ?? 0),
    lastStartAt: s?.lastStartAt ? new Date(s.lastStartAt).toISOString() : null,
  };
}

/** The numbers with the limiter's counts for them (one request for all of them). */
async function withStats(env: Env, workspaceId: string, rows: PoolNumberRow[]): Promise<PoolNumber[]> {
  if (rows.length === 0) return [];
  const stats = await env.WORKSPACE_LIMITER.getByName(workspaceId).numberStats(rows.map((r) => r.e164));
  const byNumber = new Map(stats.map((s) => [s.e164, s]));
  return rows.map((r) => poolNumberOf(r, byNumber.get(r.e164)));
}

/** The number a path names: E.164 as sent (`+1…` or `%2B1…`, which Hono has decoded); a `%` left is an escape that did not decode. */
function pathNumber(param: string): string {
  const e164 = param.trim();
  if (e164.includes("%") || !E164_SHAPE.test(e164)) {
    throw new ApiError("validation_failed", "The number in the path must be in E.164, e.g. +14155550100 (write + as %2B or as it is).");
  }
  return e164;
}

const notFound = (agentId: string) => new ApiError("agent_not_found", `Agent ${agentId} does not exist in this workspace.`);

export function agentNumberRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "get",
      path: "/agents/{agentId}/numbers",
      tags: ["Agents"],
      summary: "An agent's numbers and their health",
      description:
        "The agent's pool in order, each number with `enabled` and how it has been doing across all the workspace's batches: attempts " +
        "started from it and the share answered, over the last 24 hours and 7 days (counted in whole hours), and its latest start. " +
        "A falling answer rate is the usual sign that carriers label a number as spam: rest it with `PATCH …/numbers/{e164}`.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: AgentNumberParams.pick({ agentId: true }) },
      responses: {
        200: { description: "The pool", content: { "application/json": { schema: PoolNumbersSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { agentId } = c.req.valid("param");
      const workspaceId = c.get("workspaceId");
      const [agent, rows] = await Promise.all([getAgent(c.env.DB, workspaceId, agentId), poolRead(c.env.DB, workspaceId, agentId).all<PoolNumberRow>()]);
      if (!agent) throw notFound(agentId);
      return c.json({ numbers: await withStats(c.env, workspaceId, rows.results) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/agents/{agentId}/numbers/{e164}",
      tags: ["Agents"],
      summary: "Rest or wake one of an agent's numbers",
      description:
        '`{"enabled": false}` rests the number: no attempt starts from it from the next one on, in every running batch; `true` puts it back. ' +
        "Every number of a pool may be rested: the agent's calls then wait (their `waitReason` is `no_enabled_number`) until one is " +
        "enabled again; they do not fail. The number stays in the pool, in its place.",
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders,
        params: AgentNumberParams,
        body: { content: { "application/json": { schema: PoolNumberChangeSchema } }, required: true },
      },
      responses: {
        200: { description: "The number as it now is", content: { "application/json": { schema: PoolNumberSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const params = c.req.valid("param");
      const { enabled } = c.req.valid("json");
      const workspaceId = c.get("workspaceId");
      const e164 = pathNumber(params.e164);
      const row = await setNumberEnabled(c.env.DB, workspaceId, params.agentId, e164, enabled);
      if (!row) {
        if (!(await getAgent(c.env.DB, workspaceId, params.agentId))) throw notFound(params.agentId);
        throw new ApiError(
          "not_found",
          `${e164} is not one of agent ${params.agentId}'s numbers; its pool is in GET /v1/api/agents/${params.agentId}/numbers.`,
        );
      }
      await poolChanged(c.env, workspaceId, params.agentId, c.get("requestId"));
      log("info", "agent.number_changed", { requestId: c.get("requestId"), workspaceId, agentId: params.agentId, e164, enabled });
      const [entry] = await withStats(c.env, workspaceId, [row]);
      return c.json(entry!, 200);
    },
  );

  return app;
}
