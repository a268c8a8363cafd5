import * as z from "zod";
import { newApp } from "../app-factory";
import { AgentResultSchema } from "../domain/agent-result";
import { ApiError } from "../errors";
import { parseCallId } from "../lib/ids";
import { BatchIdParam } from "../schemas/batch";
import { apiKeySecurity, ErrorSchema, errorResponses, workspaceHeaders } from "../schemas/common";
import { batchAgent, readResultBody, RESULT_BODY_MAX_BYTES, submitResult } from "../services/agent-results";
import { batchNotFound } from "../services/batch-control";
import { RESULT_ANSWERS, RESULT_RULES } from "./agent-calls";
import { webhookClock } from "./webhooks";

const CallParams = BatchIdParam.extend({
  callId: z.string().openapi({ param: { name: "callId", in: "path" }, example: "call_0190a1b2c3d4e5f60718293a_12" }),
});

/**
 * A call's result reported with the workspace's API key: for a customer
 * backend that relays another voice platform's post-call webhook. The same
 * checks and effects as the agent-signed route (services/agent-results).
 */
export function callResultRoutes() {
  const app = newApp();

  // Registered for the document only: the body is size-checked before anything reads it.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/batch-calls/{batchId}/calls/{callId}/result",
    tags: ["Agent side of a call"],
    summary: "Report what a call achieved, with the API key (ext)",
    description:
      "For a backend relaying another platform's post-call webhook; an agent itself reports to the signed POST /v1/agent/calls/{callId}/result. " +
      RESULT_RULES,
    security: apiKeySecurity,
    request: {
      headers: workspaceHeaders,
      params: CallParams,
      body: { required: true, content: { "application/json": { schema: AgentResultSchema } } },
    },
    responses: {
      ...RESULT_ANSWERS,
      ...errorResponses(401, 403, 415),
      404: { description: "No such batch in this workspace, or no such call in this batch", content: { "application/json": { schema: ErrorSchema } } },
      409: {
        description: "The call has not reached this attempt (`error` says how many it has made)",
        content: { "application/json": { schema: ErrorSchema } },
      },
      413: {
        description: `The body is over ${RESULT_BODY_MAX_BYTES / 1024 / 1024} MiB; refused before anything is checked, nothing changed`,
        content: { "application/json": { schema: ErrorSchema } },
      },
      ...errorResponses(500),
    },
  });
  app.post("/batch-calls/:batchId/calls/:callId/result", async (c) => {
    const raw = await readResultBody(c.env, c.req.raw);
    const { batchId, callId } = c.req.param();
    const now = webhookClock.now();
    // Read fresh: this route's auth reads D1 anyway, and a batch created a moment ago is never taken for an unknown one.
    const { agent } = await batchAgent(c.env, batchId, now, { fresh: true });
    if (!agent || agent.workspaceId !== c.get("workspaceId")) throw batchNotFound(batchId);
    const call = parseCallId(callId);
    if (!call || call.batchId !== batchId) throw new ApiError("not_found", `Call ${callId} is not a call of batch ${batchId}.`);
    const answer = await submitResult(c.env, { batchId, seq: call.seq, callId }, raw, "api", now);
    return c.json(answer, 200);
  });

  return app;
}
