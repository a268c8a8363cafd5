import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { MAX_TEST_CALLS } from "../domain/test-call";
import { idempotencyKey, replayedHeader, withIdempotency } from "../middleware/idempotency";
import { BatchIdParam } from "../schemas/batch";
import { apiKeySecurity, errorResponses, ErrorSchema, workspaceHeaders } from "../schemas/common";
import { TestCallListSchema, TestCallRequestSchema, TestCallSchema } from "../schemas/test-call";
import { listTestCalls, testCallHash } from "../services/test-call";
import { placeTestCall } from "../telephony/test-call";

/** POST …/{batchId}/test-call and GET …/{batchId}/test-calls: try a batch on your own phone before (or while paused between) its calls. */
export function testCallRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "post",
      path: "/batch-calls/{batchId}/test-call",
      tags: ["Batches"],
      summary: "Place a test call of a draft or paused batch to your own number (ext)",
      description:
        "Dials `to` once, now, through the batch's agent, with the variables of row `row` (default 1: the batch's first call), so you can hear " +
        "the agent as a recipient would before you start the batch (or resume it). The caller ID is the first enabled number of the agent's pool, else " +
        "its fromNumber. A test call is outside the batch: it never counts in totalCalls, the counters, progress, the calls list, results.csv, " +
        "the stop rules or the budget; the workspace's rate limits and contact policy do not pace or hold it, and the pre-dial check is not asked. " +
        "It has one attempt (no callbacks). Its callId is a call id like any other: the provider's status webhooks and the result routes " +
        "(POST /v1/agent/calls/{callId}/result, POST …/calls/{callId}/result) take it, and its webhooks (call.started, call.completed, call.failed, " +
        `call.result) carry \`test: true\`. Allowed while the batch is draft or paused (409 otherwise); at most ${MAX_TEST_CALLS} per batch (409 beyond). ` +
        "The 201 shows the call just after the dial (usually active; failed if the provider refused it): read GET …/test-calls for its outcome and result. " +
        "Idempotency-Key: the same key and body within 24 h returns the first 201 with Idempotent-Replayed: true and dials nothing; another body is 422.",
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders.extend({ "idempotency-key": z.string().max(255).optional() }),
        params: BatchIdParam,
        body: { content: { "application/json": { schema: TestCallRequestSchema } }, required: true },
      },
      responses: {
        201: { description: "Recorded and dialled", headers: replayedHeader, content: { "application/json": { schema: TestCallSchema } } },
        400: {
          description:
            "`to` is not a phone number (E.164, or national in the batch's defaultCountry) or is on the workspace's do-not-call list, " +
            "`row` is past the batch's rows, the body is not `{to, row?}`, or x-workspace-id is missing; nothing dialled",
          content: { "application/json": { schema: ErrorSchema } },
        },
        ...errorResponses(401, 403),
        404: { description: "No such batch in this workspace", content: { "application/json": { schema: ErrorSchema } } },
        409: {
          description: `The batch is not draft or paused (\`error\` names its status), it has had its ${MAX_TEST_CALLS} test calls, or a request with this Idempotency-Key is still running`,
          content: { "application/json": { schema: ErrorSchema } },
        },
        ...errorResponses(415, 422),
      },
    }),
    async (c) => {
      const ctx = { workspaceId: c.get("workspaceId"), requestId: c.get("requestId") };
      const { batchId } = c.req.valid("param");
      const body = c.req.valid("json");
      const key = { workspaceId: ctx.workspaceId, key: idempotencyKey(c.req.raw), payloadHash: () => testCallHash(batchId, body) };
      const result = await withIdempotency(c.env.DB, key, async () => ({ status: 201 as const, body: await placeTestCall(c.env, ctx, batchId, body) }));
      if (result.replayed) c.header("Idempotent-Replayed", "true");
      return c.json(result.body, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/test-calls",
      tags: ["Batches"],
      summary: "A batch's test calls, newest first, with their outcomes and results (ext)",
      description:
        "Every test call the batch has placed (POST …/test-call), newest first: status, outcome, times, error and the agent's result as a call shows them. " +
        "A test call whose provider sent no final report within the call lease is shown as failed, saying so.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam },
      responses: {
        200: { description: "The batch's test calls", content: { "application/json": { schema: TestCallListSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => c.json(await listTestCalls(c.env, c.get("workspaceId"), c.req.valid("param").batchId), 200),
  );

  return app;
}
